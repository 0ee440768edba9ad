"""Server-rendered pages (Jinja2), static CSS/JS and the Arabic UI font.

Imports ``core`` only (never ``api``); the app factory includes ``web.routes.router`` and hands
``web.pages.error_page`` to ``api.errors.install`` for HTML error pages."""
