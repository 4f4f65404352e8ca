"""The sign-in page: a plain form outside Dash, in the shell every such form shares (dashboard/form_shell.py)."""

from __future__ import annotations

from dashboard.form_shell import SITE, errors_html, form_box, form_page, hidden_field


def login_page(error: str = "", next_url: str = "/") -> str:
    """HTML of the sign-in page, with ``error`` shown above the form and ``next_url`` kept for after it.

    The form carries the session's CSRF token (:func:`dashboard.web_security.csrf_token`), which the
    ``/login`` POST checks before it tries the password.
    """
    fields = f"""{errors_html([error] if error else [])}
<label>用户名 / User <input name="username" autocomplete="username" required></label>
<label>密码 / Password <input name="password" type="password" autocomplete="current-password" required></label>
{hidden_field("next", next_url)}"""
    return form_page("登录", form_box("/login", form_id="login-form", heading=SITE,
                                      subtitle="RiskMap · 请登录 / Please sign in", fields=fields,
                                      button="登录 / Sign in"))
