"""The HyperPay emulator's state and wire vocabulary: test cards, result codes, checkouts,
payments, registrations, the timings tests can configure, and the small helpers every
endpoint uses."""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

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
    "refund_rejected": (
        "700.400.200",
        "cannot refund (refund volume exceeded or tx reversed or invalid workflow?)",
    ),
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
    # next refunds (RF): "rejected" (refused, nothing refunded) or "lost" (refunded, but the
    # answer is a 504, as when a connection drops after HyperPay processed it)
    refund_outcomes: deque[str] = field(default_factory=deque)

    def spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


state = State()


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
