"""Workflow ids, task queues and search attributes shared by the API, worker and workflows.

Workflow modules stay deterministic and light: they import activities and models only inside
``workflow.unsafe.imports_passed_through()``, and never FastAPI, httpx, SDKs or SQLAlchemy.
"""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

# Task queues (prefixed by settings.temporal_task_queue_prefix)
INTERACTIVE = "interactive"  # chat turns: API processes + dedicated workers poll it
BACKGROUND = "background"  # email, payments, sweeps, diagnostics
DOCUMENTS = "documents"  # CV PDFs, slide decks
MEDIA = "media"  # images, videos
# Chat replies streamed by dedicated workers only: a busy API process sends a turn's stream
# activity here instead of running it eagerly itself (see api/chat/turns.py).
STREAMS = "streams"
ALL_QUEUES = (INTERACTIVE, BACKGROUND, DOCUMENTS, MEDIA, STREAMS)

# Search attributes (no personal data: ids and enums only)
PULSE_USER_ID = SearchAttributeKey.for_keyword("PulseUserId")
PULSE_JOB_KIND = SearchAttributeKey.for_keyword("PulseJobKind")
PULSE_PROVIDER = SearchAttributeKey.for_keyword("PulseProvider")
PULSE_MODEL = SearchAttributeKey.for_keyword("PulseModel")
PULSE_JOB_STATUS = SearchAttributeKey.for_keyword("PulseJobStatus")
SEARCH_ATTRIBUTES = (PULSE_USER_ID, PULSE_JOB_KIND, PULSE_PROVIDER, PULSE_MODEL, PULSE_JOB_STATUS)


def diagnostics_id(probe_id: str) -> str:
    return f"diagnostics-{probe_id}"
