"""HyperPay (OPPWA COPYandPAY) emulator: the same wire shapes as the real platform.

Mounted under ``/hyperpay`` (so a client's base URL is ``<emulator>/hyperpay``) plus control
endpoints under ``/_emulator/hyperpay``. Imports nothing of ours.

Test cards (any expiry/CVV): ``4200000000000000`` VISA and ``5454545454545454`` MASTER succeed,
``4000000000000002`` is declined, ``4000000000003063`` goes through 3-D Secure and stays pending
until it succeeds later, ``4000000000000119`` lets the checkout expire, ``4464040000000007`` is
a MADA card. Successful card payments with ``createRegistration=true`` store a registration.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import os
import re
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import httpx
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

AMOUNT = re.compile(r"^[0-9]{1,10}(\.[0-9]{2})?$")
BUILD = "b6a1c2f0e3d4c5b6a7980102030405060708090a@2026-11-01 10:00:00 +0000"

CARDS: dict[str, tuple[str, str]] = {
    "4200000000000000": ("VISA", "success"),
    "5454545454545454": ("MASTER", "success"),
    "4000000000000002": ("VISA", "declined"),
    "4000000000003063": ("VISA", "pending"),
    "4000000000000119": ("VISA", "expired"),
    "4464040000000007": ("MADA", "success"),
}
OUTCOMES: dict[str, tuple[str, str]] = {
    "success": ("000.100.110", "Request successfully processed in 'Merchant in Integrator Test Mode'"),
    "declined": ("800.100.152", "transaction declined by authorization system"),
    "insufficient": ("800.100.155", "transaction declined (amount exceeds credit)"),
    "pending": ("000.200.000", "transaction pending"),
    "timeout": ("900.100.300", "timeout, uncertain result"),
    "review": ("000.400.000", "Transaction succeeded (please review manually due to fraud suspicion)"),
}
CREATED = ("000.200.100", "successfully created checkout")
NO_SESSION = (
    "200.300.404",
    "invalid or missing parameter - No payment session found for the requested id - are you "
    "mixing test/live servers or have you paid more than 30min ago?",
)
NOT_FOUND = ("700.400.580", "cannot find transaction")
DUPLICATE = ("800.110.100", "duplicate transaction")
THROTTLED = ("800.120.100", "Too many requests. Please try again later.")
UNAUTHORIZED = ("800.900.300", "invalid authentication information")
BAD_PARAM = ("200.300.404", "invalid or missing parameter")
NO_REGISTRATION = ("100.150.101", "invalid format of specified registration id (must be uuid)")
REFUND_EXCEEDED = (
    "700.400.200",
    "cannot refund (refund volume exceeded or tx reversed or invalid workflow?)",
)


def now_stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "+0000"


@dataclass
class Config:
    webhook_url: str = ""
    webhook_secret: str = ""  # 64 hex chars
    retry_delays: list[float] = field(default_factory=lambda: [0.2, 0.5, 1.0, 2.0, 5.0])
    webhook_delay: float = 0.0  # seconds before the first delivery
    pending_seconds: float = 2.0  # 3-D Secure pending resolves after this long …
    pending_reads: int = 2  # … or after this many status reads, whichever first
    checkout_ttl: float = 1800.0
    single_use_status: bool = True  # a checkout id is spent after a successful status read
    status_limit_per_minute: int = 0  # 0: no throttling
    response_delay: float = 0.0  # seconds every OPPWA call waits before answering (a slow HyperPay)


@dataclass
class Checkout:
    id: str
    entity_id: str
    params: dict[str, str]
    created: float = field(default_factory=time.time)
    payment_id: str = ""
    expired: bool = False
    spent: bool = False
    reads: deque[float] = field(default_factory=deque)


@dataclass
class Payment:
    id: str
    entity_id: str
    payment_type: str
    amount: str
    currency: str
    merchant_transaction_id: str
    code: str
    description: str
    brand: str = ""
    card_number: str = ""
    holder: str = ""
    checkout_id: str = ""
    registration_id: str = ""
    referenced_id: str = ""
    standing_instruction: dict[str, str] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)
    reads: int = 0
    timestamp: str = field(default_factory=now_stamp)

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "paymentType": self.payment_type,
            "amount": self.amount,
            "currency": self.currency,
            "descriptor": "3761.2763.7448 OPP_Channel",
            "merchantTransactionId": self.merchant_transaction_id,
            "result": {"code": self.code, "description": self.description},
            "resultDetails": {"ConnectorTxID1": self.id[:12]},
            "buildNumber": BUILD,
            "timestamp": self.timestamp,
            "ndc": self.checkout_id or self.id,
        }
        if self.brand:
            data["paymentBrand"] = self.brand
        if self.card_number:
            data["card"] = {
                "bin": self.card_number[:6],
                "last4Digits": self.card_number[-4:],
                "holder": self.holder,
                "expiryMonth": "12",
                "expiryYear": "2030",
            }
        if self.registration_id:
            data["registrationId"] = self.registration_id
        if self.referenced_id:
            data["referencedId"] = self.referenced_id
        if self.standing_instruction:
            data["standingInstruction"] = self.standing_instruction
        return data


@dataclass
class Registration:
    id: str
    entity_id: str
    brand: str
    card_number: str
    holder: str
    initial_payment_id: str
    outcomes: deque[str] = field(default_factory=deque)


@dataclass
class State:
    config: Config = field(default_factory=Config)
    checkouts: dict[str, Checkout] = field(default_factory=dict)
    payments: dict[str, Payment] = field(default_factory=dict)
    registrations: dict[str, Registration] = field(default_factory=dict)
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


state = State()
router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/hyperpay")
control = APIRouter(prefix="/_emulator/hyperpay")


def answer(result: tuple[str, str], status: int = 200, **fields: Any) -> JSONResponse:
    body: dict[str, Any] = {
        "result": {"code": result[0], "description": result[1]},
        "buildNumber": BUILD,
        "timestamp": now_stamp(),
        "ndc": secrets.token_hex(16).upper(),
    }
    body.update(fields)
    return JSONResponse(body, status_code=status)


async def slow_down() -> None:
    if state.config.response_delay > 0:
        await asyncio.sleep(state.config.response_delay)


def authorized(request: Request) -> bool:
    header = request.headers.get("authorization", "")
    return header.startswith("Bearer ") and len(header) > len("Bearer ")


async def form_of(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: str(value) for key, value in form.items()}


def count(name: str) -> None:
    state.calls[name] = state.calls.get(name, 0) + 1


def checkout_expired(checkout: Checkout) -> bool:
    if not checkout.payment_id and time.time() - checkout.created > state.config.checkout_ttl:
        checkout.expired = True
    return checkout.expired


def invalid_payment_params(form: dict[str, str], *, need_type: bool = True) -> str | None:
    if not form.get("entityId"):
        return "entityId"
    if not AMOUNT.match(form.get("amount", "")):
        return "amount"
    if not re.match(r"^[A-Z]{3}$", form.get("currency", "")):
        return "currency"
    if need_type and form.get("paymentType") not in ("DB", "PA"):
        return "paymentType"
    return None


def duplicate_reference(merchant_transaction_id: str) -> bool:
    return bool(merchant_transaction_id) and any(
        p.merchant_transaction_id == merchant_transaction_id
        and p.payment_type in ("DB", "PA")
        and OUTCOMES["success"][0] == p.code
        for p in state.payments.values()
    )


# --- OPPWA endpoints --------------------------------------------------------------------


@api.post("/v1/checkouts")
async def create_checkout(request: Request) -> JSONResponse:
    count("checkouts")
    await slow_down()
    if not authorized(request):
        return answer(UNAUTHORIZED, 401)
    form = await form_of(request)
    bad = invalid_payment_params(form, need_type=form.get("createRegistration") != "true")
    if bad:
        return answer((BAD_PARAM[0], f"invalid or missing parameter: {bad}"), 400)
    checkout_id = f"{secrets.token_hex(16).upper()}.uat01-vm-tx04"
    state.checkouts[checkout_id] = Checkout(id=checkout_id, entity_id=form["entityId"], params=form)
    return answer(CREATED, id=checkout_id, ndc=checkout_id)


@api.get("/v1/checkouts/{checkout_id}/payment")
async def checkout_status(checkout_id: str, request: Request) -> JSONResponse:
    count("status")
    await slow_down()
    if not authorized(request):
        return answer(UNAUTHORIZED, 401)
    checkout = state.checkouts.get(checkout_id)
    entity = request.query_params.get("entityId", "")
    if checkout is None or checkout.entity_id != entity or checkout.spent or checkout_expired(checkout):
        return answer(NO_SESSION, 400)
    if throttled(checkout):
        return answer(THROTTLED, 429)
    if not checkout.payment_id:
        return answer(OUTCOMES["pending"], id=checkout_id)
    payment = state.payments[checkout.payment_id]
    payment.reads += 1
    if payment.code == OUTCOMES["pending"][0] and payment.reads >= state.config.pending_reads:
        resolve_pending(payment)
    if state.config.single_use_status and payment.code == OUTCOMES["success"][0]:
        checkout.spent = True
    return JSONResponse(payment.as_json())


def throttled(checkout: Checkout) -> bool:
    limit = state.config.status_limit_per_minute
    if limit <= 0:
        return False
    moment = time.time()
    while checkout.reads and moment - checkout.reads[0] > 60:
        checkout.reads.popleft()
    if len(checkout.reads) >= limit:
        return True
    checkout.reads.append(moment)
    return False


@api.get("/v1/query")
async def query(request: Request) -> JSONResponse:
    count("query")
    await slow_down()
    if not authorized(request):
        return answer(UNAUTHORIZED, 401)
    entity = request.query_params.get("entityId", "")
    reference = request.query_params.get("merchantTransactionId", "")
    matching = [
        p
        for p in state.payments.values()
        if p.entity_id == entity and reference and p.merchant_transaction_id == reference
    ]
    for payment in matching:  # an acquirer-pending debit resolves after a few reads, like a status call
        payment.reads += 1
        if payment.reads >= state.config.pending_reads:
            resolve_pending(payment)
    found = [p.as_json() for p in matching]
    if not found:
        return answer(NOT_FOUND, 404)
    return answer(("000.000.100", "successful request"), payments=found)


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
    payment = new_payment(original.entity_id, kind, amount, original.merchant_transaction_id, "success")
    payment.referenced_id = original.id
    payment.currency = original.currency
    return JSONResponse(payment.as_json())


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


def new_payment(entity_id: str, kind: str, amount: str, reference: str, outcome: str) -> Payment:
    code, description = OUTCOMES.get(outcome, OUTCOMES["declined"])
    payment = Payment(
        id=secrets.token_hex(16),
        entity_id=entity_id,
        payment_type=kind,
        amount=amount,
        currency="JOD",
        merchant_transaction_id=reference,
        code=code,
        description=description,
    )
    state.payments[payment.id] = payment
    return payment


# --- the widget and the hosted payment page --------------------------------------------


WIDGET_JS = """(function () {
  var base = %(base)s, checkoutId = %(checkout)s;
  // COPYandPAY's wpwlOptions.locale (set before this script): "ar" gives an Arabic, right-to-left form.
  var TEXT = {
    en: ["Card number", "Card holder", "Expiry", "CVV", "Pay now", "ltr"],
    ar: ["رقم البطاقة", "اسم حامل البطاقة", "تاريخ الانتهاء", "رمز التحقق", "ادفع الآن", "rtl"]
  };
  var options = window.wpwlOptions || {};
  var text = TEXT[String(options.locale || "en").slice(0, 2)] || TEXT.en;
  function render() {
    var forms = document.querySelectorAll("form.paymentWidgets");
    for (var i = 0; i < forms.length; i++) {
      var form = forms[i], back = form.getAttribute("action") || "";
      form.setAttribute("action", base + "/v1/checkouts/" + encodeURIComponent(checkoutId) + "/pay");
      form.setAttribute("method", "post");
      form.setAttribute("dir", text[5]);
      form.setAttribute("lang", text === TEXT.ar ? "ar" : "en");
      form.innerHTML =
        '<input type="hidden" name="shopperResultUrl">' +
        '<label>' + text[0] + ' <input name="card.number" inputmode="numeric" dir="ltr" required></label>' +
        '<label>' + text[1] + ' <input name="card.holder" autocomplete="cc-name" dir="auto"></label>' +
        '<label>' + text[2] +
        ' <input name="card.expiry" placeholder="MM/YY" value="12/30" dir="ltr"></label>' +
        '<label>' + text[3] + ' <input name="card.cvv" value="123" dir="ltr"></label>' +
        '<button type="submit" class="wpwl-button-pay">' + text[4] + '</button>';
      form.querySelector('[name="shopperResultUrl"]').value = back;
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", render);
  else render();
})();
"""

PAGE = """<!doctype html>
<html lang="%(lang)s" dir="%(dir)s"><head><meta charset="utf-8"><title>HyperPay emulator</title></head>
<body><h1>HyperPay emulator</h1><p>Amount: %(amount)s %(currency)s</p>
<script>var wpwlOptions = {locale: "%(lang)s"};</script>
<script src="%(script)s"></script>
<form action="%(back)s" class="paymentWidgets" data-brands="%(brands)s"></form>
<p>Test cards: 4200000000000000 (success), 4000000000000002 (declined),
4000000000003063 (3-D Secure, pending then success), 4000000000000119 (expired checkout).</p>
</body></html>
"""


def base_of(request: Request) -> str:
    return f"{str(request.base_url).rstrip('/')}/hyperpay"


@api.get("/v1/paymentWidgets.js")
async def widget(request: Request, checkoutId: str = "") -> Response:  # noqa: N803 - wire name
    checkout_id = checkoutId.split("/")[0]
    if checkout_id not in state.checkouts:
        return Response("/* unknown checkout */", status_code=404, media_type="application/javascript")
    script = WIDGET_JS % {"base": json.dumps(base_of(request)), "checkout": json.dumps(checkout_id)}
    return Response(script, media_type="application/javascript")


@api.get("/v1/checkouts/{checkout_id}/page")
async def hosted_page(
    checkout_id: str,
    request: Request,
    shopperResultUrl: str = "",  # noqa: N803
    locale: str = "en",  # the widget's wpwlOptions.locale: "ar" for an Arabic, right-to-left page
) -> HTMLResponse:
    checkout = state.checkouts.get(checkout_id)
    if checkout is None:
        return HTMLResponse("<p>Unknown checkout</p>", status_code=404)
    lang = "ar" if locale.startswith("ar") else "en"
    values = {
        "lang": lang,
        "dir": "rtl" if lang == "ar" else "ltr",
        "amount": html.escape(checkout.params.get("amount", "")),
        "currency": html.escape(checkout.params.get("currency", "")),
        "script": html.escape(f"{base_of(request)}/v1/paymentWidgets.js?checkoutId={checkout_id}"),
        "back": html.escape(shopperResultUrl),
        "brands": "VISA MASTER",
    }
    return HTMLResponse(PAGE % values)


@api.post("/v1/checkouts/{checkout_id}/pay", response_model=None)
async def pay(checkout_id: str, request: Request) -> Response:
    """What the widget does when the shopper submits a card; then back to shopperResultUrl."""
    count("pay")
    form = await form_of(request)
    checkout = state.checkouts.get(checkout_id)
    if checkout is None:
        return HTMLResponse("<p>Unknown checkout</p>", status_code=404)
    number = re.sub(r"\D", "", form.get("card.number", ""))
    brand, outcome = CARDS.get(number, ("VISA", "declined"))
    if outcome == "expired":
        checkout.expired = True
    elif not checkout.payment_id and not checkout_expired(checkout):
        take_payment(checkout, number, brand, outcome, form.get("card.holder", ""))
    back = form.get("shopperResultUrl", "")
    resource = {"id": checkout_id, "resourcePath": f"/v1/checkouts/{checkout_id}/payment"}
    if not back:
        return JSONResponse(resource)
    joiner = "&" if "?" in back else "?"
    return RedirectResponse(f"{back}{joiner}{urlencode(resource)}", status_code=302)


def take_payment(checkout: Checkout, number: str, brand: str, outcome: str, holder: str) -> None:
    params = checkout.params
    kind = params.get("paymentType", "DB")
    reference = params.get("merchantTransactionId", "")
    duplicate = duplicate_reference(reference)
    payment = new_payment(checkout.entity_id, kind, params["amount"], reference, outcome)
    if duplicate:
        payment.code, payment.description = DUPLICATE
    payment.currency = params.get("currency", "JOD")
    payment.brand, payment.card_number, payment.holder = brand, number, holder
    payment.checkout_id = checkout.id
    payment.standing_instruction = {
        k.split(".", 1)[1]: v for k, v in params.items() if k.startswith("standingInstruction.")
    }
    payment.extra = params
    checkout.payment_id = payment.id
    if payment.code == OUTCOMES["pending"][0]:
        state.spawn(resolve_later(payment))
        return
    finish(payment)


def finish(payment: Payment) -> None:
    """A card payment reached its final result: store the card if asked, send the webhook."""
    if payment.code == OUTCOMES["success"][0] and payment.extra.get("createRegistration") == "true":
        registration = Registration(
            id=secrets.token_hex(16),
            entity_id=payment.entity_id,
            brand=payment.brand,
            card_number=payment.card_number,
            holder=payment.holder,
            initial_payment_id=payment.id,
        )
        state.registrations[registration.id] = registration
        payment.registration_id = registration.id
    schedule_webhook(payment)


def resolve_pending(payment: Payment) -> None:
    if payment.code == OUTCOMES["pending"][0]:
        payment.code, payment.description = OUTCOMES["success"]
        payment.timestamp = now_stamp()
        finish(payment)


async def resolve_later(payment: Payment) -> None:
    await asyncio.sleep(state.config.pending_seconds)
    resolve_pending(payment)


# --- webhooks ---------------------------------------------------------------------------


def encrypt(secret_hex: str, plaintext: bytes, iv: bytes | None = None) -> tuple[str, str, str]:
    """(body, iv, tag) as HyperPay sends them: upper-case hex."""
    iv = iv or os.urandom(12)
    sealed = AESGCM(bytes.fromhex(secret_hex)).encrypt(iv, plaintext, None)
    return sealed[:-16].hex().upper(), iv.hex().upper(), sealed[-16:].hex().upper()


def schedule_webhook(payment: Payment) -> None:
    config = state.config
    if config.webhook_url and config.webhook_secret:
        state.spawn(
            deliver(payment.as_json(), config.webhook_url, config.webhook_secret, config.webhook_delay)
        )


async def deliver(payload: dict[str, Any], url: str, secret_hex: str, delay: float = 0.0) -> None:
    """POST the encrypted notification, retrying with backoff until a 2xx."""
    if delay:
        await asyncio.sleep(delay)
    body, iv, tag = encrypt(secret_hex, json.dumps({"type": "PAYMENT", "payload": payload}).encode())
    headers = {"X-Initialization-Vector": iv, "X-Authentication-Tag": tag, "Content-Type": "text/plain"}
    delays = [0.0, *state.config.retry_delays]
    async with httpx.AsyncClient(timeout=30) as client:
        for attempt, wait in enumerate(delays, start=1):
            await asyncio.sleep(wait)
            record: dict[str, Any] = {"payment_id": payload["id"], "attempt": attempt, "status": 0}
            try:
                response = await client.post(url, content=body, headers=headers)
                record["status"] = status = response.status_code
            except httpx.HTTPError as error:
                status = 0
                record["error"] = type(error).__name__
            state.deliveries.append(record)
            if 200 <= status < 300:
                return


# --- control API ------------------------------------------------------------------------


@control.post("/config")
async def configure(request: Request) -> dict[str, Any]:
    """Set the webhook URL + secret and the timings; unspecified fields keep their value."""
    values = await request.json()
    for key, value in values.items():
        if key not in Config.__dataclass_fields__:
            return {"error": f"unknown field {key}"}
        setattr(state.config, key, value)
    return vars(state.config)


@control.get("/config")
async def read_config() -> dict[str, Any]:
    return vars(state.config)


@control.post("/reset")
async def reset() -> dict[str, bool]:
    for task in list(state.tasks):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    fresh = State()
    for name in ("config", "checkouts", "payments", "registrations", "deliveries", "calls", "tasks"):
        setattr(state, name, getattr(fresh, name))
    return {"ok": True}


@control.get("/calls")
async def calls() -> dict[str, int]:
    return dict(state.calls)


@control.get("/webhooks")
async def deliveries() -> list[dict[str, Any]]:
    return list(state.deliveries)


@control.post("/webhooks/{payment_id}/replay")
async def replay(payment_id: str, times: int = 1) -> JSONResponse:
    """Send a payment's notification again (as HyperPay's retries do), ``times`` times."""
    payment = state.payments.get(payment_id)
    if payment is None:
        return JSONResponse({"error": "unknown payment"}, status_code=404)
    for _ in range(times):
        await deliver(payment.as_json(), state.config.webhook_url, state.config.webhook_secret)
    return JSONResponse({"sent": times})


@control.post("/registrations/{registration_id}/outcomes")
async def queue_outcomes(registration_id: str, request: Request) -> JSONResponse:
    """Next charges on this card: e.g. ``{"outcomes": ["declined", "declined", "success"]}``."""
    registration = state.registrations.get(registration_id)
    if registration is None:
        return JSONResponse({"error": "unknown registration"}, status_code=404)
    outcomes = (await request.json()).get("outcomes", [])
    if any(outcome not in OUTCOMES for outcome in outcomes):
        return JSONResponse({"error": f"outcomes are {sorted(OUTCOMES)}"}, status_code=400)
    registration.outcomes.extend(outcomes)
    return JSONResponse({"queued": list(registration.outcomes)})


@control.post("/checkouts/{checkout_id}/expire")
async def expire(checkout_id: str) -> JSONResponse:
    checkout = state.checkouts.get(checkout_id)
    if checkout is None:
        return JSONResponse({"error": "unknown checkout"}, status_code=404)
    checkout.expired = True
    return JSONResponse({"expired": True})


@control.get("/payments")
async def payments() -> list[dict[str, Any]]:
    return [p.as_json() for p in state.payments.values()]


router.include_router(api)
router.include_router(control)
