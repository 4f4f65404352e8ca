"""The sign-in page: the one HTML form the server renders outside Dash."""

from __future__ import annotations

import html

from dashboard.web_security import CSRF_FIELD, csrf_token


def login_page(error: str = "", next_url: str = "/") -> str:
    """HTML of the sign-in page, with ``error`` shown above the form and ``next_url`` kept for after it.

    The form carries the session's CSRF token (:func:`dashboard.web_security.csrf_token`), which the
    ``/login`` POST checks before it tries the password.
    """
    message = f'<p class="error">{html.escape(error)}</p>' if error else ""
    return f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<title>登录 · 安全风险一张图</title><link rel="stylesheet" href="/assets/style.css"></head>
<body class="login-body"><form method="post" action="/login" class="login-box">
<h1>安全风险一张图</h1><p class="login-sub">RiskMap · 请登录 / Please sign in</p>{message}
<label>用户名 / User <input name="username" autocomplete="username" required></label>
<label>密码 / Password <input name="password" type="password" autocomplete="current-password" required></label>
<input type="hidden" name="next" value="{html.escape(next_url)}">
<input type="hidden" name="{CSRF_FIELD}" value="{html.escape(csrf_token())}">
<button type="submit" class="btn">登录 / Sign in</button></form></body></html>"""
