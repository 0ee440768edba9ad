"""Server-to-server calls: merchant-initiated charges on a stored registration (REPEATED/MIT),
payment look-up and back-office operations (refund, reversal, capture)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from emulator.hyperpay.state import (
    BAD_PARAM,
    CARDS,
    DUPLICATE,
    NO_REGISTRATION,
    NOT_FOUND,
    OUTCOMES,
    REFUND_EXCEEDED,
    UNAUTHORIZED,
    Payment,
    answer,
    authorized,
    count,
    duplicate_reference,
    form_of,
    invalid_payment_params,
    new_payment,
    slow_down,
    state,
)
from emulator.hyperpay.webhooks import resolve_later, schedule_webhook

api = APIRouter(prefix="/hyperpay")


@api.get("/v1/payments/{payment_id}")
async def get_payment(payment_id: str, request: Request) -> JSONResponse:
    if not authorized(request):
        return answer(UNAUTHORIZED, 401)
    payment = state.payments.get(payment_id)
    if payment is None or payment.entity_id != request.query_params.get("entityId"):
        return answer(NOT_FOUND, 404)
    return JSONResponse(payment.as_json())


@api.post("/v1/payments/{payment_id}")
async def backoffice(payment_id: str, request: Request) -> JSONResponse:
    """Refund (RF), reversal (RV) or capture (CP) of an earlier payment."""
    count("backoffice")
    if not authorized(request):
        return answer(UNAUTHORIZED, 401)
    form = await form_of(request)
    original = state.payments.get(payment_id)
    if original is None or original.entity_id != form.get("entityId"):
        return answer(NOT_FOUND, 404)
    kind = form.get("paymentType", "")
    if kind not in ("RF", "RV", "CP"):
        return answer((BAD_PARAM[0], "invalid or missing parameter: paymentType"), 400)
    amount = form.get("amount", original.amount)
    if kind != "RV" and invalid_payment_params(form, need_type=False):
        return answer((BAD_PARAM[0], "invalid or missing parameter: amount"), 400)
    if kind == "RF" and refunded(original) + to_minor(amount) > to_minor(original.amount):
        return answer(REFUND_EXCEEDED, 400)
    fault = state.refund_outcomes.popleft() if kind == "RF" and state.refund_outcomes else ""
    outcome = "refund_rejected" if fault == "rejected" else "success"
    payment = new_payment(original.entity_id, kind, amount, original.merchant_transaction_id, outcome)
    payment.referenced_id = original.id
    payment.currency = original.currency
    if fault == "lost":
        return JSONResponse({"error": "gateway timeout"}, status_code=504)
    return JSONResponse(payment.as_json(), status_code=400 if fault == "rejected" else 200)


def to_minor(amount: str) -> int:
    whole, _, frac = amount.partition(".")
    return int(whole) * 100 + int(frac or "0")


def refunded(original: Payment) -> int:
    return sum(
        to_minor(p.amount)
        for p in state.payments.values()
        if p.referenced_id == original.id and p.payment_type == "RF" and p.code == OUTCOMES["success"][0]
    )


@api.post("/v1/registrations/{registration_id}/payments")
async def charge_registration(registration_id: str, request: Request) -> JSONResponse:
    """Merchant-initiated charge on a stored card; answered synchronously."""
    count("registration_payments")
    await slow_down()
    if not authorized(request):
        return answer(UNAUTHORIZED, 401)
    form = await form_of(request)
    bad = invalid_payment_params(form)
    if bad:
        return answer((BAD_PARAM[0], f"invalid or missing parameter: {bad}"), 400)
    registration = state.registrations.get(registration_id)
    if registration is None or registration.entity_id != form["entityId"]:
        return answer(NO_REGISTRATION, 400)
    instruction = {k.split(".", 1)[1]: v for k, v in form.items() if k.startswith("standingInstruction.")}
    if instruction.get("mode") != "REPEATED" or instruction.get("source") != "MIT":
        return answer((BAD_PARAM[0], "invalid or missing parameter: standingInstruction"), 400)
    reference = form.get("merchantTransactionId", "")
    if duplicate_reference(reference):
        return answer(DUPLICATE, 400)
    outcome = registration.outcomes.popleft() if registration.outcomes else CARDS[registration.card_number][1]
    payment = new_payment(registration.entity_id, form["paymentType"], form["amount"], reference, outcome)
    payment.currency = form["currency"]
    payment.brand, payment.card_number = registration.brand, registration.card_number
    payment.holder = registration.holder
    payment.registration_id = registration.id
    payment.standing_instruction = instruction
    if payment.code == OUTCOMES["pending"][0]:  # acquirer-pending: succeeds later, then the webhook
        state.spawn(resolve_later(payment))
    else:
        schedule_webhook(payment)
    return JSONResponse(payment.as_json())
