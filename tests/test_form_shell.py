"""The plain forms outside Dash (sign-in, password, second factor) share one page shell (dashboard/form_shell.py).

Each page is the same document around its box: the head (charset, viewport, ``title · 安全风险一张图``, the
project stylesheet), no inline script or style for the Content-Security-Policy to refuse, the session's CSRF
token in the form, and what the user typed or was told escaped.
"""

from __future__ import annotations

import re

import flask
import pyotp

from dashboard.form_shell import SITE, errors_html
from dashboard.login_form import login_page
from dashboard.password_page import password_form
from dashboard.second_factor import code_form, enrol_form
from dashboard.web_security import CSRF_FIELD, csrf_token

HEAD = re.compile(r'^<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">\n'
                  r'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
                  r"<title>(?P<title>[^<]+) · " + SITE + r'</title><link rel="stylesheet" href="/assets/style.css">'
                  r'</head>\n<body class="login-body">(?P<body>.*)</body></html>$', re.S)


def test_every_form_page_is_the_same_shell_around_its_box() -> None:
    app = flask.Flask(__name__)
    app.secret_key = "shell-test"
    with app.test_request_context("/"):
        token = csrf_token()
        pages = {"登录": login_page("<b>错误</b>", "/next?x=1"), "修改密码": password_form(["一", "二"], required=True),
                 "验证码": code_form(["wrong"], "/n"),
                 "双因素认证": enrol_form("anning", pyotp.random_base32(), [], ["note <i>"])}
    forms = {"登录": ("/login", "login-form"), "修改密码": ("/password", "password-form"),
             "验证码": ("/second-factor/verify", "second-factor-verify"),
             "双因素认证": ("/second-factor", "second-factor-form")}
    for title, document in pages.items():
        found = HEAD.match(document)
        assert found is not None and found["title"] == title, document[:300]
        body = found["body"]
        action, form_id = forms[title]
        assert body.startswith(f'<form method="post" action="{action}" class="login-box" id="{form_id}">')
        assert body.count(f'name="{CSRF_FIELD}" value="{token}"') == 1
        assert body.count('<button type="submit" class="btn">') == 1
        assert "<script" not in document and "<style" not in document and " style=" not in document
    assert '<p class="error">&lt;b&gt;错误&lt;/b&gt;</p>' in pages["登录"]
    assert 'name="next" value="/next?x=1"' in pages["登录"]
    assert '<ul class="error"><li>一</li><li>二</li></ul>' in pages["修改密码"]
    assert "note &lt;i&gt;" in pages["双因素认证"] and 'id="second-factor-qr"' in pages["双因素认证"]
    assert errors_html([]) == ""
