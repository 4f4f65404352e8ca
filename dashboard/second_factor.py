"""The second factor (TOTP, RFC 6238): enrolment at /second-factor and the code after the password.

Plain forms outside Dash, in the shell of dashboard/form_shell.py. Enrolment: the page makes a secret
(pyotp), shows it as a QR code (segno, an inline SVG data URI: no script, no CDN) and as text, and asks
for one code; the database stores the secret only when that code is right (migration 0019), where the application role
cannot read it. Sign-in of an account with a second factor: the password opens a *pending* session that
the gate (dashboard/auth.py) lets reach only these forms; a right code (checked in SQL, accepted once)
turns it into a full session under a new token. Wrong codes count as failed sign-ins.

Until enrolment succeeds the new secret waits in the signed session cookie of the one who is enrolling
(it is shown to them anyway); it is dropped once stored.
"""

from __future__ import annotations

import html
from typing import Any

import pyotp
import segno
from flask import Flask, Response, redirect, request, session

from dashboard.auth import SECOND_FACTOR_PATH, TOKEN_KEY, VERIFY_PATH
from dashboard.form_shell import SITE, errors_html, form_box, form_page, hidden_field
from dashboard.web_security import check_csrf, safe_next
from geo import store

#: Issuer shown by authenticator apps.
ISSUER = "RiskMap 安全风险一张图"
#: Key of the secret being enrolled in the signed session.
_SECRET_KEY = "second_factor_secret"

MESSAGES = {
    "wrong": ("验证码不正确或已使用，请输入验证器中新的验证码",
              "wrong or already used code: enter the authenticator's next one"),
    "locked": ("失败次数过多，账号已暂时锁定，请稍后再试", "too many failures: the account is locked for a while"),
    "enrolled": ("双因素认证已启用，下次登录时须输入验证码", "second factor enabled: sign-ins now ask for a code"),
    "required": ("您的角色须启用双因素认证，请先绑定验证器", "your role requires a second factor: set one up first"),
    "replace": ("已启用双因素认证；重新绑定将替换原有的", "a second factor is set: enrolling again replaces it"),
}


def _text(key: str) -> str:
    zh, en = MESSAGES[key]
    return f"{zh} / {en}"


def _code_field() -> str:
    return ('<label>验证码 / Code <input name="code" inputmode="numeric" autocomplete="one-time-code" '
            'pattern="[0-9]{6}" maxlength="6" required autofocus></label>')


def enrol_form(username: str, secret: str, errors: list[str], notes: list[str]) -> str:
    """HTML of the enrolment page: the secret as a QR code and as text, and one code to prove it."""
    uri = pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)
    qr = segno.make(uri, error="m").svg_data_uri(scale=4, border=2)
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    note = "".join(f'<p class="login-sub">{html.escape(n)}</p>' for n in notes)
    fields = f"""{note}{errors_html(errors)}
<p class="login-sub">用验证器应用（如 Microsoft Authenticator、FreeOTP）扫描二维码，或手动输入密钥 /
scan the QR code with an authenticator app, or type the secret</p>
<img src="{qr}" alt="二维码 / QR code" id="second-factor-qr" class="second-factor-qr">
<p>密钥 / Secret: <code id="second-factor-secret">{html.escape(grouped)}</code></p>
{_code_field()}"""
    return form_page("双因素认证", form_box(
        SECOND_FACTOR_PATH, form_id="second-factor-form", heading="双因素认证",
        subtitle="RiskMap · Second factor (TOTP)", fields=fields, button="启用 / Enable",
        after='\n<p class="login-sub"><a href="/">返回 / back</a></p>'))


def code_form(errors: list[str], next_url: str) -> str:
    """HTML of the code form asked after a right password."""
    fields = f"""{errors_html(errors)}
{_code_field()}
{hidden_field("next", next_url)}"""
    return form_page("验证码", form_box(VERIFY_PATH, form_id="second-factor-verify", heading=SITE,
                                        subtitle="请输入验证器中的验证码 / enter the code of your authenticator",
                                        fields=fields, button="验证 / Verify"))


def _done(message: str) -> str:
    return form_page("双因素认证", f"""<div class="login-box" id="second-factor-done"><h1>双因素认证</h1>
<p class="login-sub">{html.escape(message)}</p><a class="btn" href="/">继续 / Continue</a></div>""")


def install_second_factor_pages(server: Flask, engine: Any) -> None:
    """Add ``/second-factor`` (enrolment) and ``/second-factor/verify`` (the code) to the server.

    The gate lets a pending session reach only these (and sign-out); each checks the session itself.
    """

    def state() -> dict[str, Any] | None:
        token = session.get(TOKEN_KEY)
        with store.scoped(None):
            return store.session_state(engine, str(token)) if token else None

    @server.route(SECOND_FACTOR_PATH, methods=["GET", "POST"])
    def enrol() -> Any:
        found = state()
        if found is None:
            session.pop(TOKEN_KEY, None)
            return redirect(f"/login?next={SECOND_FACTOR_PATH}")
        if found["pending"] == "second_factor":
            return redirect(VERIFY_PATH)
        secret = str(session.get(_SECRET_KEY) or "")
        if not secret:
            secret = session[_SECRET_KEY] = pyotp.random_base32()
        notes = ([_text("required")] if found["pending"] == "enrol" else
                 [_text("replace")] if found["has_second_factor"] else [])
        username = str(found["username"])
        if request.method == "GET":
            return Response(enrol_form(username, secret, [], notes), mimetype="text/html")
        check_csrf()
        with store.scoped(None):
            outcome = store.enrol_second_factor(engine, str(session.get(TOKEN_KEY)), secret,
                                                request.form.get("code", ""), address=request.remote_addr)
        if outcome.outcome == "no_session":
            session.pop(TOKEN_KEY, None)
            return redirect("/login")
        if outcome.outcome != "ok":
            return Response(enrol_form(username, secret, [_text("wrong")], notes), status=400, mimetype="text/html")
        session.pop(_SECRET_KEY, None)
        if outcome.token:  # a session sent to enrol is now a full one, under a new token
            session[TOKEN_KEY] = outcome.token
        return Response(_done(_text("enrolled")), mimetype="text/html")

    @server.route(VERIFY_PATH, methods=["GET", "POST"])
    def verify() -> Any:
        next_url = safe_next(request.values.get("next", "/"))
        found = state()
        if found is None:
            session.pop(TOKEN_KEY, None)
            return redirect("/login")
        if found["pending"] != "second_factor":
            return redirect(SECOND_FACTOR_PATH if found["pending"] == "enrol" else next_url)
        if request.method == "GET":
            return Response(code_form([], next_url), mimetype="text/html")
        check_csrf()
        with store.scoped(None):
            outcome = store.verify_second_factor(engine, str(session.get(TOKEN_KEY)), request.form.get("code", ""),
                                                 address=request.remote_addr)
        if outcome.outcome == "ok" and outcome.token:
            session[TOKEN_KEY] = outcome.token
            return redirect(next_url)
        if outcome.outcome == "no_session":
            session.pop(TOKEN_KEY, None)
            return redirect("/login")
        locked = outcome.outcome == "locked"
        return Response(code_form([_text("locked" if locked else "wrong")], next_url),
                        status=429 if locked else 401, mimetype="text/html")
