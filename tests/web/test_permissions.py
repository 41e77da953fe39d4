"""The permission matrix: every role × every view and API endpoint × own store / other store.

The routes come from the URL patterns that exist (``web.urls``): a route without a rule in
``RULES`` fails ``test_every_route_has_a_rule``, so a new page or endpoint cannot ship without a
decision on who may use it. The expected outcome of every cell is computed from ``ROLE_MAY``
below — the roles as issue 11 defines them, written down here independently of
``web.accounts.roles`` — and each cell is a real request through Django's full stack (session
for pages, ``Authorization: Token`` for the API).

Every user is a member of store A only. "own" asks about a document of store A, "other" about one
of store B: a document of another store must be a 404 (its existence never revealed), never a
403; and a search, a vehicle history, an export or an API list must not show it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.web.helpers import WebArchive

ROLES = ("clerk", "advisor", "manager", "auditor", "admin")
# What each role may do, from issue 11: clerk (upload, review, correct — and so see and download
# the documents it works on), advisor (search, history, view, download), manager (all of that plus
# statistics and export), auditor (read-only, including the audit trail and the numbers), admin
# (everything, plus users, roles and stores).
ROLE_MAY: dict[str, set[str]] = {
    "clerk": {"view", "download", "review", "upload"},
    "advisor": {"view", "download"},
    "manager": {"view", "download", "review", "upload", "stats", "export", "lifecycle"},
    "auditor": {"view", "download", "stats", "export", "audit"},
    "admin": {"view", "download", "review", "upload", "stats", "export", "audit", "admin", "lifecycle"},
    "anonymous": set(),
}
PUBLIC = "public"  # anyone, logged in or not
ANY_USER = "any"  # any logged-in user


@dataclass
class Case:
    """One concrete request of a route for one user and one store's document."""

    method: str
    url: str
    data: dict[str, Any] | None = None
    json: bool = False


@dataclass
class Ctx:
    doc_id: str  # a document of the store asked about
    vin: str
    user_id: int
    other_ids: list[str] = field(default_factory=list)  # every document of the store NOT asked about


@dataclass
class Rule:
    perm: str | tuple[str, ...]  # a permission (any of several), ANY_USER or PUBLIC
    case: Callable[[Ctx], Case]
    doc: bool = False  # the route names one document: other store -> 404
    api: bool = False
    lists: bool = False  # the response lists documents: other-store ids must not appear
    ok: tuple[int, ...] = (200,)


def _get(url: str) -> Callable[[Ctx], Case]:
    return lambda c: Case("GET", url.format(c=c))


RULES: dict[str, list[Rule]] = {
    # pages
    "login": [Rule(PUBLIC, _get("/login/"), ok=(200, 302))],  # logged in already: on to the search page
    "logout": [Rule(PUBLIC, lambda c: Case("POST", "/logout/"), ok=(302,))],
    "set_language": [Rule(PUBLIC, lambda c: Case("POST", "/i18n/setlang/", {"language": "en", "next": "/"}),
                          ok=(302,))],
    "static": [Rule(PUBLIC, _get("/static/web/woa.css"))],
    "search": [Rule("view", _get("/?q={c.vin}"), lists=True)],
    "search_export": [Rule("export", _get("/export/csv/?q={c.vin}"), lists=True)],
    "document": [Rule("view", _get("/doc/{c.doc_id}/"), doc=True)],
    "page_image": [Rule("view", _get("/doc/{c.doc_id}/page/1/400.jpg"), doc=True)],
    "download": [Rule("download", _get("/doc/{c.doc_id}/download/pdf/"), doc=True)],
    "vehicle": [Rule("view", _get("/vehicle/{c.vin}/"), lists=True)],
    "review_queue": [Rule("review", _get("/review/"), lists=True)],
    "review_document": [Rule("review", _get("/review/{c.doc_id}/"), doc=True)],
    "upload": [Rule("upload", _get("/upload/"))],
    "upload_file": [Rule("upload", lambda c: Case("POST", "/upload/file/", {}), ok=(400,))],
    "statistics": [Rule("stats", _get("/statistics/"))],
    "statistics_export": [Rule("export", _get("/statistics/export.csv"))],
    "admin_home": [Rule(("admin", "audit"), _get("/admin/"))],
    "admin_users": [Rule("admin", _get("/admin/users/"))],
    "admin_user": [Rule("admin", _get("/admin/users/{c.user_id}/"))],
    "admin_stores": [Rule("admin", _get("/admin/stores/"))],
    "admin_audit": [Rule("audit", _get("/admin/audit/"))],
    # records lifecycle (issue 14): managers and admins of the store
    "lifecycle": [Rule("lifecycle", _get("/lifecycle/"), lists=True)],
    "lifecycle_holds": [Rule("lifecycle", _get("/lifecycle/holds/"), lists=True)],
    "lifecycle_inventory": [Rule("lifecycle", _get("/lifecycle/inventory/"), lists=True)],
    "lifecycle_tier": [Rule("lifecycle", _get("/lifecycle/tier/"))],
    # a hold without a reason is refused (back to the page, nothing changed) after the permission check
    "lifecycle_action": [Rule("lifecycle", lambda c: Case("POST", f"/lifecycle/doc/{c.doc_id}/hold/", {"reason": ""}),
                              doc=True, ok=(302,))],
    # API
    "api_token": [Rule(PUBLIC, lambda c: Case("POST", "/api/token/", {"username": "nobody", "password": "x"},
                                              json=True), api=True, ok=(400,))],
    "api_token_revoke": [Rule(ANY_USER, lambda c: Case("DELETE", "/api/token/revoke/"), api=True, ok=(204,))],
    "api_schema": [Rule(PUBLIC, _get("/api/schema/"), api=True)],
    "api_search": [Rule("view", _get("/api/search/?q={c.vin}"), api=True, lists=True)],
    "api_document": [Rule("view", _get("/api/documents/{c.doc_id}/"), api=True, doc=True)],
    "api_fields": [Rule("view", _get("/api/documents/{c.doc_id}/fields/"), api=True, doc=True)],
    "api_corrections": [
        Rule("view", _get("/api/documents/{c.doc_id}/corrections/"), api=True, doc=True),
        # an unknown field: the permission check comes first, so nothing is changed either way
        Rule("review", lambda c: Case("POST", f"/api/documents/{c.doc_id}/corrections/",
                                      {"field": "no_such_field", "value": "x"}, json=True),
             api=True, doc=True, ok=(400,)),
    ],
    "api_file": [Rule("download", _get("/api/documents/{c.doc_id}/files/pdf/"), api=True, doc=True)],
    "api_history": [Rule("view", _get("/api/vehicles/{c.vin}/history/"), api=True, lists=True)],
    "api_review": [Rule("review", _get("/api/review/"), api=True, lists=True)],
    "api_statistics": [Rule("stats", _get("/api/statistics/"), api=True)],
    "api_upload": [Rule("upload", lambda c: Case("POST", "/api/upload/", {}), api=True, ok=(400,))],
}


def route_names() -> set[str]:
    """The name of every URL pattern of the application (unnamed ones by their route)."""
    from django.urls import URLPattern, URLResolver, get_resolver

    names: set[str] = set()

    def walk(patterns: list[Any], prefix: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                route = prefix + str(p.pattern)
                names.add(p.name or ("static" if "static/" in route else route))

    walk(get_resolver().url_patterns, "")
    return names


def test_every_route_has_a_rule(db: Any) -> None:
    routes = route_names()
    missing = sorted(routes - set(RULES))
    assert not missing, f"routes without a permission rule in tests/web/test_permissions.py: {missing}"
    stale = sorted(set(RULES) - routes)
    assert not stale, f"rules for routes that no longer exist: {stale}"


def allowed(role: str, perm: str | tuple[str, ...]) -> bool:
    if perm == PUBLIC:
        return True
    if perm == ANY_USER:
        return role != "anonymous"
    perms = (perm,) if isinstance(perm, str) else perm
    return any(p in ROLE_MAY[role] for p in perms)


def _client(client: Any, user: Any, api: bool) -> tuple[Any, dict[str, str]]:
    if user is None:
        return client, {}
    if api:
        from rest_framework.authtoken.models import Token

        token, _ = Token.objects.get_or_create(user=user)
        return client, {"HTTP_AUTHORIZATION": f"Token {token.key}"}
    client.force_login(user)
    return client, {}


def _send(client: Any, case: Case, headers: dict[str, str]) -> Any:
    fn = getattr(client, case.method.lower())
    if case.json:
        return fn(case.url, case.data or {}, content_type="application/json", **headers)
    return fn(case.url, case.data, **headers) if case.data is not None else fn(case.url, **headers)


def _body(resp: Any) -> str:
    if getattr(resp, "streaming", False):
        return b"".join(resp.streaming_content).decode("utf-8", "replace")
    return resp.content.decode("utf-8", "replace")


def check_cell(role: str, name: str, rule: Rule, status: int, body: str, ctx: Ctx, other: bool) -> str | None:
    """None if the response is what the matrix expects, else a one-line description."""
    may = allowed(role, rule.perm)
    where = "other store" if other else "own store"
    if role == "anonymous" and rule.perm != PUBLIC:
        want = (401,) if rule.api else (302,)
        return None if status in want else f"{name} ({where}) as anonymous: {status}, expected {want}"
    if rule.doc and other:
        return None if status == 404 else f"{name} ({where}) as {role}: {status}, expected 404"
    if not may:
        want = (404,) if rule.doc else (403,)
        return None if status in want else f"{name} ({where}) as {role}: {status}, expected {want} (denied)"
    if status not in rule.ok:
        return f"{name} ({where}) as {role}: {status}, expected {rule.ok} (allowed)"
    if rule.lists:
        leaked = [i for i in ctx.other_ids if i in body]
        if leaked:
            return f"{name} ({where}) as {role}: shows documents of a store the user is not in: {leaked}"
        if not other and name in ("search", "search_export", "vehicle", "api_search", "api_history") \
                and ctx.doc_id not in body:
            return f"{name} ({where}) as {role}: the own store's document {ctx.doc_id} is missing"
    return None


@pytest.mark.parametrize("role", [*ROLES, "anonymous"])
def test_permission_matrix(role: str, web_archive: WebArchive, make_user: Any, client: Any) -> None:
    user = None if role == "anonymous" else make_user(f"u-{role}", role, ("A",))
    a_id, b_id = web_archive.ids("A")[0], web_archive.ids("B")[0]
    vin = {i: web_archive.archive.load(i).fields["vin"].value or "" for i in (a_id, b_id)}
    assert vin[a_id] and vin[b_id]
    own = Ctx(a_id, vin[a_id], user.id if user else 1, other_ids=web_archive.ids("B"))
    other = Ctx(b_id, vin[b_id], user.id if user else 1, other_ids=web_archive.ids("B"))
    problems: list[str] = []
    cells = 0
    for name, rules in sorted(RULES.items()):
        for rule in rules:
            for is_other, ctx in ((False, own), (True, other)):
                c, headers = _client(client, user, rule.api)
                resp = _send(c, rule.case(ctx), headers)
                body = _body(resp) if resp.status_code == 200 else ""
                problem = check_cell(role, name, rule, resp.status_code, body, ctx, is_other)
                cells += 1
                if problem:
                    problems.append(problem)
                if name in ("logout", "api_token_revoke") and user is not None:
                    client.force_login(user)  # logged out by the cell: log in again
    assert cells >= 2 * len(RULES)
    assert not problems, f"{len(problems)} of {cells} cells wrong:\n" + "\n".join(problems)


def test_advisor_of_store_a_cannot_reach_a_document_of_store_b(web_archive: WebArchive, make_user: Any,
                                                                client: Any) -> None:
    """Every way in the issue names: its URL, its id prefix, a search (by VIN, VIN tail, plate with
    the dot, order number), the history page, a CSV export, the API (by id, prefix, search,
    history) — a 404 exactly like a document that does not exist, or a list without it."""
    from rest_framework.authtoken.models import Token

    user = make_user("adv-a", "advisor", ("A",))
    manager = make_user("mgr-a", "manager", ("A",))
    token = Token.objects.create(user=user).key
    b = web_archive.ids("B")[0]
    f = web_archive.archive.load(b).fields
    vin, plate, order = f["vin"].value or "", f["plate"].value or "", f["order_no"].value or ""
    assert vin and plate and order
    dotted = plate[:2] + "·" + plate[2:]
    client.force_login(user)

    def page(body: bytes, url: str) -> str:  # the error page without what differs per request
        text = body.decode().replace(url, "URL")
        return re.sub(r'(csrf-token" content|name="csrfmiddlewaretoken" value)="[^"]*"', "TOKEN", text)

    missing = client.get("/doc/ffffffffffffffff/")
    assert missing.status_code == 404
    missing_page = page(missing.content, "/doc/ffffffffffffffff/")
    for url in (f"/doc/{b}/", f"/doc/{b[:4]}/", f"/doc/{b[:8]}/", f"/doc/{b}/page/1/400.jpg",
                f"/doc/{b}/download/original/", f"/doc/{b}/download/pdf/", f"/review/{b}/"):
        r = client.get(url)
        assert r.status_code == 404, url
        if url.startswith("/doc/") and url.count("/") == 3:
            assert page(r.content, url) == missing_page, f"{url} answers differently from a missing document"
    for q in (vin, vin[-8:], vin[-6:], dotted, plate, order):
        r = client.get("/", {"q": q})
        assert r.status_code == 200 and b not in r.content.decode(), q
    for key in (vin, plate, dotted):
        assert b not in client.get(f"/vehicle/{key}/").content.decode(), key
    client.force_login(manager)  # export needs a manager; still of store A only
    for q in (vin, plate, order, ""):
        r = client.get("/export/csv/", {"q": q})
        assert r.status_code == 200 and b not in r.content.decode("utf-8-sig"), q
    api = {"HTTP_AUTHORIZATION": f"Token {token}"}
    for url in (f"/api/documents/{b}/", f"/api/documents/{b[:5]}/", f"/api/documents/{b}/fields/",
                f"/api/documents/{b}/files/pdf/", f"/api/documents/{b}/corrections/"):
        assert client.get(url, **api).status_code == 404, url
    for q in (vin, vin[-8:], dotted, order):
        r = client.get("/api/search/", {"q": q}, **api)
        assert r.status_code == 200 and r.json()["count"] == 0, q
    assert client.get(f"/api/vehicles/{vin}/history/", **api).json()["count"] == 0
