"""COPYandPAY: checkouts, their status (single use, throttled), ``paymentWidgets.js``, the
hosted payment page with test cards, and the query by ``merchantTransactionId``."""

from __future__ import annotations

import html
import json
import re
import secrets
import time
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from emulator.hyperpay.state import (
    BAD_PARAM,
    CARDS,
    CREATED,
    DUPLICATE,
    NO_SESSION,
    NOT_FOUND,
    OUTCOMES,
    THROTTLED,
    UNAUTHORIZED,
    Checkout,
    answer,
    authorized,
    checkout_expired,
    count,
    duplicate_reference,
    form_of,
    invalid_payment_params,
    new_payment,
    slow_down,
    state,
)
from emulator.hyperpay.webhooks import finish, resolve_later, resolve_pending

api = APIRouter(prefix="/hyperpay")


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
