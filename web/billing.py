"""Billing and support pages: the plan, renewal date, add-ons, checkout (the HyperPay widget),
payment history; and the support console (failed payments with Retry, user lookup, audit log).
Server-rendered first paint; small ES modules call the JSON API for actions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from core import accounts, ledger, payments, subscriptions
from core.errors import Forbidden
from core.models import AuditLog, FailedRefund, Payment, PaymentStatus, RefundStatus, Role, User
from core.plans import FREE, PLANS
from core.proration import Quote
from web import billing_text, support_text
from web.auth import RequiredUser
from web.pages import page, page_locale
from web.plans import Offer, addon_offers, plan_offers

router = APIRouter(include_in_schema=False)

STATUS_LABELS = {
    "created": "Waiting for payment",
    "pending": "Waiting for the bank",
    "succeeded": "Paid",
    "failed": "Failed",
    "expired": "Expired",
    "refunded": "Refunded",
}


@dataclass(frozen=True)
class BillingView:
    plan_id: str
    plan_name: str
    status: str
    period_end: datetime | None
    cancel_at_period_end: bool
    plans: list[Offer]
    addons: list[Offer]
    history: list[Payment]
    focus: Payment | None
    quotes: dict[str, Quote] = field(default_factory=dict)  # plan → price now (credited upgrade)


def plan_name(plan_id: str, locale: str) -> str:
    plan = PLANS.get(plan_id)
    if plan is None:
        return plan_id
    return plan.name_ar if locale == "ar" else plan.name_en


async def billing_view(request: Request, user: User, locale: str) -> BillingView:
    state = request.app.state.pulse
    focus_id = request.query_params.get("payment", "")[:32]
    async with state.db.session() as session:
        subscription = await subscriptions.ensure_subscription(session, user.id)
        history = await payments.history(session, user.id)
        focus = next((p for p in history if p.id == focus_id), None)
        quotes = {
            plan.id: await payments.upgrade_quote(session, user.id, plan.id)
            for plan in PLANS.values()
            if plan.id != FREE
        }
    return BillingView(
        plan_id=subscription.plan_id,
        plan_name=plan_name(subscription.plan_id, locale),
        status=subscription.status,
        period_end=subscription.current_period_end if subscription.plan_id != FREE else None,
        cancel_at_period_end=subscription.cancel_at_period_end,
        plans=[offer for offer in plan_offers(locale) if offer.code != FREE],
        addons=addon_offers(locale),
        history=history,
        focus=focus,
        quotes=quotes,
    )


@router.get("/billing", response_class=HTMLResponse)
async def billing(request: Request, user: RequiredUser) -> HTMLResponse:
    locale = page_locale(request)
    view = await billing_view(request, user, locale)
    return page(request, "billing.html", "billing", billing=view, labels=STATUS_LABELS, ux=billing_text)


@router.get("/billing/pay/{payment_id}", response_class=HTMLResponse)
async def pay(request: Request, payment_id: str, user: RequiredUser) -> HTMLResponse:
    """The HyperPay payment form (COPYandPAY widget) for one of the user's open checkouts."""
    state = request.app.state.pulse
    settings = state.settings
    async with state.db.session() as session:
        payment = await payments.get_payment(session, payment_id[:32], user_id=user.id)
    if payment.status != PaymentStatus.pending.value or not payment.checkout_id:
        return page(request, "billing_pay.html", "billing-pay", payment=payment, script_url="", action="")
    base = settings.hyperpay_base_url
    response = page(
        request,
        "billing_pay.html",
        "billing-pay",
        payment=payment,
        script_url=f"{base}/v1/paymentWidgets.js?checkoutId={payment.checkout_id}",
        action=payments.return_url(settings.public_url, settings.secret_key.get_secret_value(), payment.id),
        brands=payment.brand,
    )
    response.headers["Content-Security-Policy"] = widget_csp(base)
    return response


def widget_csp(hyperpay_base_url: str) -> str:
    """The page's CSP, opened to HyperPay's origin (its widget script, styles, frames, form)."""
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(hyperpay_base_url))
    return (
        f"default-src 'self' {origin}; img-src 'self' data: {origin}; "
        f"style-src 'self' 'unsafe-inline' {origin}; script-src 'self' {origin}; font-src 'self' {origin}; "
        f"connect-src 'self' {origin}; frame-src {origin}; frame-ancestors 'none'; base-uri 'self'; "
        f"form-action 'self' {origin}"
    )


@dataclass(frozen=True)
class SupportView:
    failed: list[tuple[Payment, str]]
    refunds: list[tuple[FailedRefund, str]]  # refunds HyperPay rejected, with the person's email
    found: User | None
    found_plan: str
    found_usage: dict[str, int]
    found_payments: list[Payment]
    audit: list[AuditLog]
    email: str
    emails: dict[str, str] = field(default_factory=dict)  # audit actors and user targets by id


def _people(failed: list[Payment], refunds: list[FailedRefund], audit: list[AuditLog]) -> set[str]:
    """Everyone the support page names by email: payment and refund owners, the audit log's
    actors and user targets (looked up together, in one query)."""
    owners = {p.user_id for p in failed} | {r.user_id for r in refunds}
    return owners | {e.actor_id for e in audit} | {e.target_id for e in audit if e.target_type == "user"}


@router.get("/support", response_class=HTMLResponse)
async def support(request: Request, user: RequiredUser) -> HTMLResponse:
    if user.role not in (Role.support.value, Role.admin.value):
        raise Forbidden()
    state = request.app.state.pulse
    email = request.query_params.get("email", "").strip()[:320]
    async with state.db.session() as session:
        failed = await payments.list_payments(session, status=PaymentStatus.failed.value)
        refunds = await payments.list_failed_refunds(session, status=RefundStatus.open.value)
        found = await payments.user_by_email(session, email) if email else None
        usage: dict[str, int] = {}
        found_payments: list[Payment] = []
        found_plan = ""
        if found is not None:
            summary = await ledger.usage(session, found.id)
            usage = {unit: state_.remaining for unit, state_ in summary.units.items()}
            found_payments = await payments.history(session, found.id)
            found_plan = plan_name(summary.plan_id or FREE, page_locale(request))
            await payments.audit(
                session, actor_id=user.id, action="user.lookup", target_type="user", target_id=found.id
            )
        audit = await payments.audit_log(session, limit=50)
        emails = await accounts.emails_of(session, _people(failed, refunds, audit))
    view = SupportView(
        failed=[(p, emails.get(p.user_id, "")) for p in failed],
        refunds=[(r, emails.get(r.user_id, "")) for r in refunds],
        found=found,
        found_plan=found_plan,
        found_usage=usage,
        found_payments=found_payments,
        audit=audit,
        email=email,
        emails=emails,
    )
    return page(
        request,
        "support.html",
        "support",
        support=view,
        labels=STATUS_LABELS,
        ux=billing_text,
        audit=support_text,
    )
