"""Chat page helpers: the model selector (provider and context window from ``core.catalog``) and
Markdown rendered server-side and sanitized with nh3 (stored and streamed replies alike).

markdown-it and nh3 are imported on the first render, so an API process that only serves JSON
does not load them."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from babel.dates import format_date
from babel.numbers import format_compact_decimal, format_decimal
from markupsafe import Markup

from core.catalog import DEFAULT_MODEL, available_models
from core.i18n import babel_locale, translate
from core.settings import Settings

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

PROVIDER_NAMES = {"openai": "OpenAI", "anthropic": "Anthropic", "google": "Google"}
# Brand names stay in Latin script on Arabic pages (as Arabic products show them); ×N is the
# model's quota weight (studio tokens per provider token, GPT-5 mini = ×1).
CONTEXT_LABEL = "{model} · ×{weight} · {context} context"
RETIRING_LABEL = "{label} · until {date}"  # the last day a retiring model takes new messages
MAX_MARKDOWN_CHARS = 200_000

_TAGS = {
    "p", "br", "strong", "em", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li", "a", "hr",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip


@dataclass(frozen=True)
class ModelOption:
    id: str
    label: str
    provider: str
    context_window: int
    default: bool
    weight: str


def model_groups(settings: Settings, locale: str) -> list[tuple[str, list[ModelOption]]]:
    """Enabled models grouped by provider, labelled with weight and context (e.g. "GPT-4o · ×5.6 · 128K")."""
    groups: dict[str, list[ModelOption]] = {}
    for model in available_models(settings):
        context = format_compact_decimal(model.context_window, locale=babel_locale(locale))
        weight = format_decimal(model.token_weight, "#,##0.#", locale=babel_locale(locale))
        label = translate(CONTEXT_LABEL, locale, model=model.display_name_en, weight=weight, context=context)
        if model.retires_on is not None:
            last_day = format_date(
                model.retires_on - timedelta(days=1), "d MMMM", locale=babel_locale(locale)
            )
            label = translate(RETIRING_LABEL, locale, label=label, date=last_day)
        option = ModelOption(
            model.id, label, model.provider, model.context_window, model.id == DEFAULT_MODEL, weight
        )
        groups.setdefault(PROVIDER_NAMES.get(model.provider, model.provider), []).append(option)
    return list(groups.items())


@functools.cache
def _markdown() -> MarkdownIt:
    """Markdown without raw HTML; links and images are whatever nh3 allows through."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True}).enable("table")


def render_markdown(text: str) -> Markup:
    """Markdown → HTML with no raw HTML, then sanitized by nh3 (links get rel=noopener)."""
    import nh3

    html = _markdown().render(text[:MAX_MARKDOWN_CHARS])
    clean = nh3.clean(
        html,
        tags=_TAGS,
        attributes={"a": {"href", "title"}, "code": {"class"}, "th": {"align"}, "td": {"align"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(clean)  # noqa: S704 (sanitized by nh3 above)
