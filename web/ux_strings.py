"""Strings the chat, usage and billing ES modules show since issue 24 (appended to
``web.pages.JS_STRINGS``; Arabic in ``core/translations/ar/LC_MESSAGES/webux.po``)."""

from __future__ import annotations

UX_JS_STRINGS = (
    "{remaining} available",
    "{reserved} held for replies in progress",
    "{unit} available: {remaining}",
    "Conversations",
    "Conversations ({count})",
    "Actions for {title}",
    "Copy code",
    "Copy failed",
    "Writing…",
    "The model did not answer; trying again…",
    "The model could not answer right now. Please try again.",
    "The connection was lost. Reload the page to see the reply.",
    "Write a message first.",
    "Paid",
    "Failed",
    "Fill in this field.",
    "This is too long.",
    "Check this field.",
    "Too many requests. Try again {when}.",
    "Saved.",
)

# Strings the templates look up by key (``tr(name)``), which the extractor cannot see.
UX_PAGE_STRINGS = (
    "Payment received. Thank you!",
    "Waiting for your card payment.",
    "Your bank is still confirming this payment. This page updates when it does.",
    "This checkout expired before it was paid. Start a new one when you are ready.",
    "Your card was declined. Check the card details or use another card.",
    "The card's 3-D Secure check did not pass. Try again or use another card.",
    "The bank could not be reached. No money was taken; try again in a few minutes.",
    "The payment did not go through. No money was taken; try again or use another card.",
    "You keep {current} until {date}; then {plan} starts and renews at {price} a month.",
    "Role granted",
    "Account looked up",
    "Payment retried",
    "Plan changed",
    "Balance adjusted",
    "Other action",
    "Account",
    "Payment",
    "Subscription",
    "Record",
    "System",
)
