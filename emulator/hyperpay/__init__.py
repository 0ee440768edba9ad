"""HyperPay (OPPWA COPYandPAY) emulator: the same wire shapes as the real platform.

Mounted under ``/hyperpay`` (so a client's base URL is ``<emulator>/hyperpay``) plus control
endpoints under ``/_emulator/hyperpay``. Imports nothing of ours.

Test cards (any expiry/CVV): ``4200000000000000`` VISA and ``5454545454545454`` MASTER succeed,
``4000000000000002`` is declined, ``4000000000003063`` goes through 3-D Secure and stays pending
until it succeeds later, ``4000000000000119`` lets the checkout expire, ``4464040000000007`` is
a MADA card. Successful card payments with ``createRegistration=true`` store a registration.

The package: ``copyandpay`` (checkouts, status, widget, hosted page), ``recurring`` (charges on
a registration, look-up, refunds), ``webhooks`` (final results and encrypted notifications),
``control`` (the test control API) and ``state`` (what they share).
"""

from __future__ import annotations

from fastapi import APIRouter

from emulator.hyperpay import copyandpay, recurring
from emulator.hyperpay.control import control
from emulator.hyperpay.state import state
from emulator.hyperpay.webhooks import encrypt

router = APIRouter(include_in_schema=False)
router.include_router(copyandpay.api)
router.include_router(recurring.api)
router.include_router(control)

__all__ = ["encrypt", "router", "state"]
