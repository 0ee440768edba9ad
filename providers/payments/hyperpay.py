"""HyperPay (OPPWA COPYandPAY) client: checkouts, status, query, recurring charges, refunds,
result-code classification and webhook decryption. Facts: ``shared/reference/hyperpay.md``.

Decisions are taken on ``result.code``, never on the HTTP status. Transport failures, 5xx and
throttling raise :class:`HyperPayUnavailable` (retry later); everything else is a
:class:`PaymentResult` whose ``result_class`` says what happened.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import httpx

from core.settings import Settings

CURRENCY = "JOD"
CHECKOUT_CREATED = "000.200.100"
EXPIRED_CHECKOUT = "200.300.404"
NOT_FOUND = "700.400.580"
THROTTLED = "800.120.100"


class ResultClass(StrEnum):
    success = "success"
    manual_review = "manual_review"
    pending = "pending"
    rejected = "rejected"
    temporary = "temporary"


class Brand(StrEnum):
    """An entity group: each has its own entityId at HyperPay."""

    card = "VISA MASTER"
    mada = "MADA"


# Official result-code groups (hyperpay.docs.oppwa.com/reference/resultCodes).
SUCCESS = re.compile(r"^(000\.000\.|000\.100\.1|000\.[36]|000\.400\.[1][12]0)")
MANUAL_REVIEW = re.compile(r"^(000\.400\.0[^3]|000\.400\.100)")
PENDING = re.compile(r"^(000\.200)")
PENDING_LONG = re.compile(r"^(800\.400\.5|100\.400\.500)")
COMMUNICATION = re.compile(r"^(900\.[1234]00|000\.400\.030)")
SYSTEM = re.compile(r"^(800\.[56]|999\.|600\.1|800\.800\.[84])")
THROTTLE = re.compile(r"^(800\.120\.100)")
HARD_DECLINE = re.compile(r"^(800\.[17]00|800\.800\.[123]|800\.100)")


def classify(code: str) -> ResultClass:
    """Map a ``ddd.ddd.ddd`` result code to what the caller should do."""
    if SUCCESS.match(code):
        return ResultClass.success
    if MANUAL_REVIEW.match(code):
        return ResultClass.manual_review
    if PENDING.match(code) or PENDING_LONG.match(code):
        return ResultClass.pending
    if COMMUNICATION.match(code) or SYSTEM.match(code) or THROTTLE.match(code):
        return ResultClass.temporary
    return ResultClass.rejected


def is_hard_decline(code: str) -> bool:
    """Bank declines: retrying the same card is pointless."""
    return bool(HARD_DECLINE.match(code))


class HyperPayError(Exception):
    """Base class for client-side problems."""


class InvalidAmount(HyperPayError, ValueError):
    """JOD amounts must be whole multiples of 10 fils (two decimals on the wire)."""


class HyperPayUnavailable(HyperPayError):
    """Transport failure, 5xx or throttling: try again later."""


class WebhookDecryptionError(HyperPayError):
    """Bad key, IV, tag or body: the webhook is not authentic."""


def format_amount(fils: int) -> str:
    """Integer fils → HyperPay's ``N10.N2`` (3000 → "3.00"); refuse what would need rounding."""
    if isinstance(fils, bool) or not isinstance(fils, int) or fils <= 0:
        raise InvalidAmount(f"amount must be a positive integer of fils, got {fils!r}")
    if fils % 10:
        raise InvalidAmount(f"{fils} fils cannot be sent with two decimals")
    cents = fils // 10
    return f"{cents // 100}.{cents % 100:02d}"


def parse_amount(text: str) -> int:
    """``"3.00"`` → 3000 fils."""
    whole, _, frac = text.partition(".")
    return int(whole) * 1000 + int((frac or "0").ljust(3, "0")[:3])


@dataclass(frozen=True)
class PaymentResult:
    """One transaction (or checkout) as HyperPay reported it."""

    code: str
    description: str
    id: str = ""
    payment_type: str = ""
    payment_brand: str = ""
    amount_fils: int | None = None
    currency: str = ""
    merchant_transaction_id: str = ""
    registration_id: str = ""
    card_last4: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def result_class(self) -> ResultClass:
        return classify(self.code)

    @property
    def ok(self) -> bool:
        return self.result_class is ResultClass.success

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PaymentResult:
        result = data.get("result") or {}
        amount = data.get("amount")
        card = data.get("card") or {}
        return cls(
            code=str(result.get("code", "")),
            description=str(result.get("description", "")),
            id=str(data.get("id", "")),
            payment_type=str(data.get("paymentType", "")),
            payment_brand=str(data.get("paymentBrand", "")),
            amount_fils=parse_amount(str(amount)) if amount else None,
            currency=str(data.get("currency", "")),
            merchant_transaction_id=str(data.get("merchantTransactionId", "")),
            registration_id=str(data.get("registrationId", "")),
            card_last4=str(card.get("last4Digits", "")),
            raw=data,
        )


@dataclass(frozen=True)
class CheckoutRequest:
    amount_fils: int
    merchant_transaction_id: str
    email: str
    given_name: str = ""
    surname: str = ""
    brand: Brand = Brand.card
    create_registration: bool = False  # plans: store the card for MIT renewals (INITIAL/CIT)
    notification_url: str = ""


@dataclass(frozen=True)
class WebhookEvent:
    type: str
    action: str
    payload: dict[str, Any]

    @property
    def payment(self) -> PaymentResult:
        return PaymentResult.from_json(self.payload)


class HyperPayClient:
    """Async client; one per process, sharing an httpx connection pool."""

    def __init__(
        self,
        base_url: str,
        access_token: str,
        entity_ids: dict[Brand, str],
        *,
        test_mode: str = "",
        http: httpx.AsyncClient | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.entity_ids = {brand: entity for brand, entity in entity_ids.items() if entity}
        self.test_mode = test_mode
        self._own_http = http is None
        self.http = http or httpx.AsyncClient(timeout=timeout)
        self._headers = {"Authorization": f"Bearer {access_token}"}

    @classmethod
    def from_settings(cls, settings: Settings, http: httpx.AsyncClient | None = None) -> HyperPayClient:
        return cls(
            settings.hyperpay_base_url,
            settings.hyperpay_access_token.get_secret_value(),
            {Brand.card: settings.hyperpay_entity_id, Brand.mada: settings.hyperpay_entity_id_mada},
            test_mode=settings.hyperpay_test_mode,
            http=http,
        )

    async def aclose(self) -> None:
        if self._own_http:
            await self.http.aclose()

    def entity(self, brand: Brand | str) -> str:
        try:
            return self.entity_ids[Brand(brand)]
        except (KeyError, ValueError):
            raise HyperPayError(f"no entity configured for {brand!r}") from None

    def widget_script_url(self, checkout_id: str) -> str:
        return f"{self.base_url}/v1/paymentWidgets.js?checkoutId={checkout_id}"

    async def prepare_checkout(self, request: CheckoutRequest) -> PaymentResult:
        """``POST /v1/checkouts``; the result's ``id`` is the checkout id (code 000.200.100)."""
        form: dict[str, str] = {
            "entityId": self.entity(request.brand),
            "amount": format_amount(request.amount_fils),
            "currency": CURRENCY,
            "paymentType": "DB",
            "merchantTransactionId": request.merchant_transaction_id,
            "customer.email": request.email,
            "billing.country": "JO",
        }
        if request.given_name:
            form["customer.givenName"] = request.given_name
        if request.surname:
            form["customer.surname"] = request.surname
        if request.create_registration:
            form.update(
                {
                    "createRegistration": "true",
                    "standingInstruction.mode": "INITIAL",
                    "standingInstruction.source": "CIT",
                    "standingInstruction.type": "RECURRING",
                    "standingInstruction.recurringType": "SUBSCRIPTION",
                }
            )
        if request.notification_url:
            form["notificationUrl"] = request.notification_url
        if self.test_mode:
            form["testMode"] = self.test_mode
        return await self._send("POST", "/v1/checkouts", data=form)

    async def payment_status(self, checkout_id: str, brand: Brand | str = Brand.card) -> PaymentResult:
        """``GET /v1/checkouts/{id}/payment`` with the entity that created the checkout."""
        return await self._send(
            "GET", f"/v1/checkouts/{checkout_id}/payment", params={"entityId": self.entity(brand)}
        )

    async def query(
        self, merchant_transaction_id: str, brand: Brand | str = Brand.card
    ) -> list[PaymentResult]:
        """``GET /v1/query?merchantTransactionId=`` → every transaction with that reference."""
        params = {"entityId": self.entity(brand), "merchantTransactionId": merchant_transaction_id}
        data = await self._request("GET", "/v1/query", params=params)
        return [PaymentResult.from_json(item) for item in data.get("payments") or []]

    async def charge_registration(
        self,
        registration_id: str,
        amount_fils: int,
        merchant_transaction_id: str,
        initial_transaction_id: str,
        brand: Brand | str = Brand.card,
    ) -> PaymentResult:
        """A merchant-initiated renewal on a stored card (REPEATED/MIT), answered synchronously."""
        form = {
            "entityId": self.entity(brand),
            "amount": format_amount(amount_fils),
            "currency": CURRENCY,
            "paymentType": "DB",
            "merchantTransactionId": merchant_transaction_id,
            "standingInstruction.mode": "REPEATED",
            "standingInstruction.source": "MIT",
            "standingInstruction.type": "RECURRING",
            "standingInstruction.recurringType": "SUBSCRIPTION",
            "standingInstruction.initialTransactionId": initial_transaction_id,
        }
        if self.test_mode:
            form["testMode"] = self.test_mode
        return await self._send("POST", f"/v1/registrations/{registration_id}/payments", data=form)

    async def refund(
        self, payment_id: str, amount_fils: int, brand: Brand | str = Brand.card
    ) -> PaymentResult:
        """Back-office refund (``paymentType=RF``); partial refunds are allowed."""
        form = {
            "entityId": self.entity(brand),
            "amount": format_amount(amount_fils),
            "currency": CURRENCY,
            "paymentType": "RF",
        }
        return await self._send("POST", f"/v1/payments/{payment_id}", data=form)

    async def _send(self, method: str, path: str, **kwargs: Any) -> PaymentResult:
        result = PaymentResult.from_json(await self._request(method, path, **kwargs))
        if result.code == THROTTLED:
            raise HyperPayUnavailable(f"{path}: throttled ({THROTTLED})")
        return result

    async def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = await self.http.request(
                method, f"{self.base_url}{path}", headers=self._headers, **kwargs
            )
        except httpx.HTTPError as error:
            raise HyperPayUnavailable(f"{path}: {type(error).__name__}") from error
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.status_code >= 500 or response.status_code == 429 or not isinstance(data, dict):
            raise HyperPayUnavailable(f"{path}: HTTP {response.status_code}")
        return data


def decrypt_webhook(secret_hex: str, iv_hex: str, tag_hex: str, body: bytes | str) -> dict[str, Any]:
    """AES-256-GCM: hex key (the webhook secret), hex IV and tag from the headers, hex body
    (or ``{"encryptedBody": "<hex>"}``). Raises :class:`WebhookDecryptionError` if not authentic."""
    # imported here: workers never decrypt webhooks, and cryptography costs ~8 MB resident
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    text = body.decode("ascii", "replace") if isinstance(body, bytes) else body
    text = text.strip()
    if text.startswith("{"):
        try:
            text = str(json.loads(text)["encryptedBody"])
        except (ValueError, KeyError, TypeError) as error:
            raise WebhookDecryptionError("unreadable webhook body") from error
    try:
        key = bytes.fromhex(secret_hex)
        iv = bytes.fromhex(iv_hex or "")
        tag = bytes.fromhex(tag_hex or "")
        cipher = bytes.fromhex(text)
    except ValueError as error:
        raise WebhookDecryptionError("webhook fields are not hex") from error
    if len(key) != 32 or not iv or len(tag) != 16:
        raise WebhookDecryptionError("bad webhook key, IV or tag length")
    try:
        plain = AESGCM(key).decrypt(iv, cipher + tag, None)
        data = json.loads(plain.decode("utf-8"))
    except (InvalidTag, ValueError) as error:
        raise WebhookDecryptionError("webhook authentication failed") from error
    if not isinstance(data, dict):
        raise WebhookDecryptionError("webhook body is not an object")
    return data


def parse_webhook(data: dict[str, Any]) -> WebhookEvent:
    return WebhookEvent(
        type=str(data.get("type", "")), action=str(data.get("action", "")), payload=data.get("payload") or {}
    )
