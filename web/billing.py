"""The billing pages: choose a plan or add-on, then pay on HyperPay's widget (COPYandPAY).

``/billing/pay`` rebuilds the widget script and the return URL from settings and the ids (never
from the query string) and relaxes the CSP for HyperPay's origin on that page only."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from core.settings import Settings

SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
BRANDS = {"VISA MASTER", "MADA"}


def widget_script(settings: Settings, checkout_id: str) -> str:
    return f"{settings.hyperpay_base_url}/v1/paymentWidgets.js?checkoutId={checkout_id}"


def return_url(settings: Settings, payment_id: str) -> str:
    return f"{settings.public_url.rstrip('/')}/billing/return?payment={payment_id}"


def pay_csp(settings: Settings) -> str:
    """The app's CSP plus HyperPay's origin for the widget (its script, styles, frames, form)."""
    parts = urlsplit(settings.hyperpay_base_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    return (
        f"default-src 'self'; script-src 'self' {origin}; style-src 'self' 'unsafe-inline' {origin}; "
        f"img-src 'self' data: {origin}; font-src 'self' {origin}; connect-src 'self' {origin}; "
        f"frame-src {origin}; form-action 'self' {origin}; frame-ancestors 'none'; base-uri 'self'"
    )
