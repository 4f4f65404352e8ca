"""Changing one's own password (/password): a plain form outside Dash, in the shell of dashboard/form_shell.py.

An account created by an administrator, or whose password an administrator reset, must change it here
before anything else (the sign-in gate sends it here). The policy (identity/password_policy.py) is checked
first; then the database checks the current password against the session's own account, stores the new
hash and ends every session of the account (migration 0018), so the user signs in again with the new one.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, request, session

from dashboard.auth import PASSWORD_PATH, TOKEN_KEY, current_user
from dashboard.form_shell import errors_html, form_box, form_page
from dashboard.login_form import login_page
from dashboard.web_security import check_csrf
from geo import store
from identity.password_policy import PasswordRejected, require_password

PATH = PASSWORD_PATH

MESSAGES = {
    "mismatch": ("两次输入的新密码不一致", "the two new passwords differ"),
    "same": ("新密码不能与当前密码相同", "the new password must differ from the current one"),
    "wrong": ("当前密码不正确", "the current password is wrong"),
    "locked": ("失败次数过多，账号已暂时锁定，请稍后再试", "too many failures: the account is locked for a while"),
    "no_session": ("会话已结束，请重新登录", "the session has ended: sign in again"),
    "changed": ("密码已修改，请用新密码登录", "password changed: sign in with the new one"),
}


def _text(key: str) -> str:
    zh, en = MESSAGES[key]
    return f"{zh} / {en}"


def password_form(errors: list[str], *, required: bool) -> str:
    """HTML of the change-password form, listing ``errors`` above it."""
    why = ('\n<p class="login-sub">首次登录或密码已被重置，请先设置新密码 / set a new password before you go on</p>'
           if required else "")
    fields = "\n".join(
        f'<label>{label} <input name="{name}" type="password" autocomplete="{auto}"{extra} required></label>'
        for label, name, auto, extra in (("当前密码 / Current password", "current", "current-password", ""),
                                         ("新密码 / New password", "new", "new-password", ' minlength="12"'),
                                         ("再次输入 / Repeat", "repeat", "new-password", ' minlength="12"')))
    body = f"""{why}{errors_html(errors)}
{fields}
<p class="login-sub">至少 12 位，不能是常见密码或包含用户名 / at least 12 characters, not a common one,
not your name</p>"""
    return form_page("修改密码", form_box(PATH, form_id="password-form", heading="修改密码",
                                          subtitle="RiskMap · Change password", fields=body, button="保存 / Save"))


def install_password_page(server: Flask, engine: Any) -> None:
    """Add ``GET/POST /password`` to the server (behind the sign-in gate, which supplies the user)."""

    @server.route(PATH, methods=["GET", "POST"])
    def change_password() -> Any:
        user = current_user() or {}
        required = bool(user.get("must_change_password"))
        if request.method == "GET":
            return Response(password_form([], required=required), mimetype="text/html")
        check_csrf()
        current, new = request.form.get("current", ""), request.form.get("new", "")
        errors: list[str] = []
        if new != request.form.get("repeat", ""):
            errors.append(_text("mismatch"))
        elif new == current:
            errors.append(_text("same"))
        else:
            try:
                require_password(new, username=str(user.get("username") or ""),
                                 display_name=str(user.get("display_name") or "") or None)
            except PasswordRejected as exc:
                errors.extend(f"{zh} / {en}" for zh, en in exc.reasons)
        if errors:
            return Response(password_form(errors, required=required), status=400, mimetype="text/html")
        outcome = store.change_own_password(engine, str(session.get(TOKEN_KEY) or ""), current, new,
                                            address=request.remote_addr)
        if outcome != "ok":
            status = 429 if outcome == "locked" else 400
            return Response(password_form([_text(outcome)], required=required), status=status, mimetype="text/html")
        session.pop(TOKEN_KEY, None)  # every session of the account has ended, this one too
        return Response(login_page(_text("changed")), mimetype="text/html")
