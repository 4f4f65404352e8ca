"""The one page shell of the plain forms the server renders outside Dash: sign-in, password, second factor.

Each form page is the same document: ``<head>`` with the charset, the mobile viewport, ``title · 安全风险一张图``
and the project stylesheet (``/assets/style.css``: no inline style or script, so the Content-Security-Policy of
:mod:`dashboard.web_security` holds), and a ``login-body`` with one box. A form box posts to its path, carries
the session's CSRF token and says in Chinese and English what it is for; errors come above its fields.
"""

from __future__ import annotations

import html

from dashboard.web_security import CSRF_FIELD, csrf_token

__all__ = ["SITE", "errors_html", "form_box", "form_page", "hidden_field"]

#: The site's name, after each page's title.
SITE = "安全风险一张图"


def form_page(title: str, body: str) -> str:
    """Return the HTML document of a form page titled ``title`` around ``body`` (trusted HTML)."""
    return f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} · {SITE}</title><link rel="stylesheet" href="/assets/style.css"></head>
<body class="login-body">{body}</body></html>"""


def errors_html(errors: list[str]) -> str:
    """Return the errors shown above a form's fields: one as a paragraph, several as a list ("" for none)."""
    if not errors:
        return ""
    if len(errors) == 1:
        return f'<p class="error">{html.escape(errors[0])}</p>'
    return '<ul class="error">' + "".join(f"<li>{html.escape(e)}</li>" for e in errors) + "</ul>"


def hidden_field(name: str, value: str) -> str:
    """Return a hidden input carrying ``value``."""
    return f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'


def form_box(action: str, *, form_id: str, heading: str, subtitle: str, fields: str, button: str,
             after: str = "") -> str:
    """Return the box of one form posting to ``action``.

    Its heading and subtitle, ``fields`` (trusted HTML: errors and notes first), the session's CSRF token,
    the submit ``button`` and what comes ``after`` it (e.g. a link back).
    """
    return (f'<form method="post" action="{html.escape(action)}" class="login-box" id="{html.escape(form_id)}">\n'
            f'<h1>{html.escape(heading)}</h1><p class="login-sub">{html.escape(subtitle)}</p>{fields}\n'
            f"{hidden_field(CSRF_FIELD, csrf_token())}\n"
            f'<button type="submit" class="btn">{html.escape(button)}</button>{after}</form>')
