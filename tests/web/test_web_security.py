"""Log-in, throttling, cookies, CSRF, headers and error pages (Django test client, real database)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.web.helpers import PASSWORD, WebArchive

pytestmark = pytest.mark.django_db


def _audit_actions() -> list[tuple[str, str]]:
    from web.audit.models import AuditEntry

    return list(AuditEntry.objects.order_by("id").values_list("actor", "action"))


def test_login_page_is_chinese_by_default_and_english_on_request(client: Client) -> None:
    resp = client.get("/login/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert '<html lang="zh-hans">' in html
    assert "登录" in html
    # an English-language browser still gets Chinese: only the user's choice switches
    resp = client.get("/login/", headers={"accept-language": "en-US,en;q=0.9"})
    assert '<html lang="zh-hans">' in resp.content.decode()
    resp = client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert resp.status_code == 302
    resp = client.get("/login/")
    assert '<html lang="en">' in resp.content.decode()
    assert "Log in" in resp.content.decode()


def test_pages_need_login(client: Client, web_archive: WebArchive) -> None:
    for url in ("/", "/review/", "/upload/", "/statistics/", "/admin/", f"/doc/{web_archive.ids('A')[0]}/"):
        resp = client.get(url)
        assert resp.status_code == 302 and resp["Location"].startswith("/login/?next="), url


def test_login_success_and_failure_are_audited(client: Client, make_user: Any, web_archive: WebArchive) -> None:
    user = make_user("li", "advisor")
    resp = client.post("/login/", {"username": "li", "password": "wrong-password"})
    assert resp.status_code == 200
    assert "用户名或密码错误" in resp.content.decode()
    resp = client.post("/login/", {"username": "li", "password": PASSWORD})
    assert resp.status_code == 302 and resp["Location"] == "/"
    assert client.get("/").status_code == 200
    assert _audit_actions() == [("li", "login_failed"), ("li", "login")]
    from web.audit.models import AuditEntry

    assert AuditEntry.objects.get(action="login").address == "127.0.0.1"
    client.post("/logout/")
    assert client.get("/").status_code == 302
    assert user.username == "li"


def test_login_is_throttled_after_repeated_failures(client: Client, make_user: Any, settings: Any) -> None:
    make_user("wang", "clerk")
    attempts = settings.WOA.web_login_attempts
    for _ in range(attempts):
        assert client.post("/login/", {"username": "wang", "password": "nope-nope"}).status_code == 200
    # now even the right password is refused, without being checked
    resp = client.post("/login/", {"username": "wang", "password": PASSWORD})
    assert resp.status_code == 429
    assert "登录失败次数过多" in resp.content.decode()
    assert client.get("/").status_code == 302  # not logged in
    actions = [a for _, a in _audit_actions()]
    assert actions == ["login_failed"] * attempts + ["login_throttled"]
    # another user name from the same address is not yet blocked
    make_user("zhao", "clerk")
    assert client.post("/login/", {"username": "zhao", "password": PASSWORD}).status_code == 302


def test_session_and_csrf_cookie_flags(client: Client, make_user: Any, settings: Any) -> None:
    make_user("chen", "advisor")
    resp = client.get("/login/")
    csrf = resp.cookies["woa_csrftoken"]
    assert csrf["secure"] and csrf["httponly"] and csrf["samesite"] == "Lax"
    resp = client.post("/login/", {"username": "chen", "password": PASSWORD})
    session = resp.cookies["woa_session"]
    assert session["secure"] is True and session["httponly"] is True and session["samesite"] == "Lax"
    assert settings.WOA.web_session_seconds == settings.SESSION_COOKIE_AGE
    assert settings.SESSION_SAVE_EVERY_REQUEST  # idle expiry
    assert settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    from django.contrib.auth import get_user_model

    assert get_user_model().objects.get(username="chen").password.startswith("argon2$")


def test_csrf_token_is_required(make_user: Any) -> None:
    make_user("sun", "advisor")
    strict = Client(enforce_csrf_checks=True)
    resp = strict.post("/login/", {"username": "sun", "password": PASSWORD})
    assert resp.status_code == 403
    assert "安全令牌" in resp.content.decode()
    page = strict.get("/login/")
    token = page.context["csrf_token"]
    resp = strict.post("/login/", {"username": "sun", "password": PASSWORD, "csrfmiddlewaretoken": str(token)})
    assert resp.status_code == 302
    # logged in, a POST without the token is still refused
    assert strict.post("/logout/").status_code == 403


def test_security_headers(client: Client) -> None:
    resp = client.get("/login/")
    assert resp["X-Content-Type-Options"] == "nosniff"
    csp = resp["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert resp["X-Frame-Options"] == "DENY"
    assert resp["Referrer-Policy"] == "same-origin"


def test_expired_session_is_explained(client: Client, make_user: Any) -> None:
    make_user("zhou", "advisor")
    client.post("/login/", {"username": "zhou", "password": PASSWORD})
    client.session.flush()  # what the expiry does: the session is gone
    client.cookies["woa_session"] = "expired"
    resp = client.get("/", follow=True)
    assert resp.redirect_chain[-1][0].startswith("/login/?next=")
    assert "会话已过期" in resp.content.decode()


def test_no_stack_trace_with_debug_off(client: Client, make_user: Any, settings: Any, web_archive: WebArchive) -> None:
    assert settings.DEBUG is False
    make_user("qian", "advisor")
    client.post("/login/", {"username": "qian", "password": PASSWORD})
    resp = client.get("/no/such/page/")
    assert resp.status_code == 404
    body = resp.content.decode()
    assert "找不到" in body and "Traceback" not in body and "SECRET_KEY" not in body and "urlpatterns" not in body
    resp = client.get("/?q=date:2024-13..x")  # malformed query: a clear answer, in Chinese
    assert resp.status_code == 400
    assert "无法理解" in resp.content.decode()
    assert "Traceback" not in resp.content.decode()


def test_server_error_page_hides_the_error(make_user: Any, settings: Any, web_archive: WebArchive,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    make_user("wu", "advisor")
    c = Client(raise_request_exception=False)
    c.post("/login/", {"username": "wu", "password": PASSWORD})
    from web.documents import scope

    def broken(*a: Any, **k: Any) -> Any:
        raise RuntimeError("secret internal detail /srv/woa")

    monkeypatch.setattr(scope, "search", broken)  # a bug anywhere below the view
    resp = c.get("/?q=机油")
    assert resp.status_code == 500
    body = resp.content.decode()
    assert "服务器出错" in body and "secret internal detail" not in body and "Traceback" not in body
