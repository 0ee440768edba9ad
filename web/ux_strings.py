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
)
