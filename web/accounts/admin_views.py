"""Admin pages: users and their store roles, stores, the audit trail. Every change is audited.

A superuser manages everything; an ``admin`` of some stores manages the roles in those stores
only (and cannot create superusers or stores).
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from web import audit
from web.accounts.models import STORE_CODE_RE, Membership, Store
from web.accounts.roles import ROLE_LABELS, ROLES
from web.documents import scope
from web.net import client_address


def _audit(request: HttpRequest, action: str, target: str = "", **detail: Any) -> None:
    audit.record(request.user.get_username(), action, target, detail, client_address(request))


def _admin_stores(request: HttpRequest) -> list[Store]:
    """Stores whose roles this admin may manage."""
    allowed = scope.access(request.user).stores("admin")
    return list(Store.objects.all() if allowed is None else Store.objects.filter(code__in=allowed))


@login_required
def admin_home(request: HttpRequest) -> HttpResponse:
    acc = scope.access(request.user)
    if not (acc.can("admin") or acc.can("audit")):
        raise PermissionDenied("admin")
    from django.contrib.auth import get_user_model

    from web.audit.models import AuditEntry

    ctx = {"users": get_user_model().objects.count() if acc.can("admin") else None,
           "stores": len(_admin_stores(request)) if acc.can("admin") else None,
           "audit_rows": AuditEntry.objects.count() if acc.can("audit") else None}
    return render(request, "web/admin/home.html", ctx)


class NewUserForm(forms.Form):
    username = forms.RegexField(label=gettext_lazy("User name"), regex=r"^[\w.@+-]{1,150}$", max_length=150)
    password = forms.CharField(label=gettext_lazy("Password"), widget=forms.PasswordInput, max_length=1024)
    store = forms.ChoiceField(label=gettext_lazy("Store"))
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=[(r, ROLE_LABELS[r]) for r in ROLES])

    def __init__(self, *a: Any, stores: list[Store], **k: Any) -> None:
        super().__init__(*a, **k)
        self.fields["store"].choices = [(s.code, f"{s.name} ({s.code})") for s in stores]

    def clean_username(self) -> str:
        name: str = self.cleaned_data["username"]
        if get_user_model().objects.filter(username=name).exists():
            raise ValidationError(_("This user name is taken."))
        return name

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        if data.get("password"):
            try:
                validate_password(data["password"], get_user_model()(username=data.get("username", "")))
            except ValidationError as exc:
                self.add_error("password", exc)
        return data


@login_required
@require_http_methods(["GET", "POST"])
def users(request: HttpRequest) -> HttpResponse:
    scope.require(request.user, "admin")
    stores = _admin_stores(request)
    form = NewUserForm(request.POST or None, stores=stores)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        store = next(s for s in stores if s.code == d["store"])
        with transaction.atomic():
            user = get_user_model().objects.create_user(d["username"], password=d["password"])
            Membership.objects.create(user=user, store=store, role=d["role"])
            _audit(request, "user_create", user.username, store=store.code, role=d["role"])
        return HttpResponseRedirect(reverse("admin_user", args=[user.pk]))
    codes = {s.code for s in stores}
    everyone = scope.access(request.user).everything
    rows = []
    for u in get_user_model().objects.order_by("username").prefetch_related("memberships__store"):
        ms = [m for m in u.memberships.all()]
        if not everyone and not any(m.store.code in codes for m in ms):
            continue
        rows.append({"user": u, "memberships": ms})
    return render(request, "web/admin/users.html", {"rows": rows, "form": form, "stores": stores,
                                                    "status": 400 if form.errors else 200},
                  status=400 if request.method == "POST" else 200)


@login_required
@require_http_methods(["GET", "POST"])
def user_edit(request: HttpRequest, user_id: int) -> HttpResponse:
    scope.require(request.user, "admin")
    stores = _admin_stores(request)
    codes = {s.code for s in stores}
    everyone = scope.access(request.user).everything
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None or (not everyone and not user.memberships.filter(store__code__in=codes).exists()):
        raise Http404("no such user")
    error = ""
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "grant":
            store = next((s for s in stores if s.code == request.POST.get("store")), None)
            role = request.POST.get("role")
            if store is None or role not in ROLES:
                error = _("Choose a store and a role.")
            else:
                Membership.objects.get_or_create(user=user, store=store, role=role)
                _audit(request, "role_grant", user.username, store=store.code, role=role)
        elif action == "revoke":
            m = Membership.objects.filter(pk=request.POST.get("membership"), user=user,
                                          store__code__in=codes).first()
            if m is not None:
                _audit(request, "role_revoke", user.username, store=m.store.code, role=m.role)
                m.delete()
        elif action in ("disable", "enable"):
            if user.is_superuser and not everyone:
                raise PermissionDenied("superuser")
            if user.pk == request.user.pk:
                error = _("You cannot disable yourself.")
            else:
                user.is_active = action == "enable"
                user.save(update_fields=["is_active"])
                _audit(request, "user_" + action, user.username)
        elif action == "password":
            if user.is_superuser and not everyone:
                raise PermissionDenied("superuser")
            pw = request.POST.get("password", "")
            try:
                validate_password(pw, user)
            except ValidationError as exc:
                error = " ".join(exc.messages)
            else:
                user.set_password(pw)
                user.save(update_fields=["password"])
                _audit(request, "user_password", user.username)
        if not error:
            return HttpResponseRedirect(reverse("admin_user", args=[user.pk]))
    memberships = list(user.memberships.select_related("store"))
    return render(request, "web/admin/user.html", {
        "u": user, "memberships": memberships, "stores": stores, "roles": [(r, ROLE_LABELS[r]) for r in ROLES],
        "error": error, "manageable": codes}, status=400 if error else 200)


class StoreForm(forms.Form):
    code = forms.RegexField(label=gettext_lazy("Code"), regex=STORE_CODE_RE, max_length=32)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)


@login_required
@require_http_methods(["GET", "POST"])
def stores(request: HttpRequest) -> HttpResponse:
    scope.require(request.user, "admin")
    everyone = scope.access(request.user).everything
    form = StoreForm(request.POST or None)
    if request.method == "POST":
        if not everyone:
            raise PermissionDenied("stores")
        if form.is_valid():
            code, name = form.cleaned_data["code"], form.cleaned_data["name"]
            store = Store.objects.filter(code=code).first()
            if store is None:
                Store.objects.create(code=code, name=name)
                _audit(request, "store_create", code, name=name)
            else:
                _audit(request, "store_change", code, old=store.name, name=name)
                store.name = name
                store.save(update_fields=["name"])
            return HttpResponseRedirect(reverse("admin_stores"))
    rows = [{"store": s, "members": s.memberships.count()} for s in _admin_stores(request)]
    return render(request, "web/admin/stores.html", {"rows": rows, "form": form, "can_add": everyone},
                  status=400 if form.errors else 200)


AUDIT_PAGE = 100


def _audit_query(request: HttpRequest) -> tuple[Any, dict[str, str]]:
    from web.audit.models import AuditEntry

    f = {k: request.GET.get(k, "").strip() for k in ("actor", "action", "target", "from", "to")}
    qs = AuditEntry.objects.order_by("-id")
    if f["actor"]:
        qs = qs.filter(actor__icontains=f["actor"])
    if f["action"]:
        qs = qs.filter(action=f["action"])
    if f["target"]:
        qs = qs.filter(target__icontains=f["target"])
    tz = timezone.get_current_timezone()
    for key, op, t in (("from", "gte", time.min), ("to", "lte", time.max)):
        if f[key]:
            try:
                day = datetime.strptime(f[key], "%Y-%m-%d").date()
            except ValueError:
                f[key] = ""
                continue
            qs = qs.filter(**{f"at__{op}": datetime.combine(day, t, tzinfo=tz)})
    return qs, f


@login_required
def audit_trail(request: HttpRequest) -> HttpResponse:
    scope.require(request.user, "audit")
    from web.audit.models import AuditEntry

    qs, f = _audit_query(request)
    if request.GET.get("format") == "jsonl":
        import json

        _audit(request, "export", "audit", filters=f)
        rows = qs.order_by("id")
        return StreamingHttpResponse((json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in rows.iterator()),
                                     content_type="application/x-ndjson; charset=utf-8",
                                     headers={"Content-Disposition": 'attachment; filename="woa-audit.jsonl"'})
    page = Paginator(qs, AUDIT_PAGE).get_page(request.GET.get("page"))
    broken = audit.verify() if request.GET.get("verify") else None
    actions = list(AuditEntry.objects.order_by().values_list("action", flat=True).distinct())
    base = {k: v for k, v in f.items() if v}
    return render(request, "web/admin/audit.html", {
        "page": page, "f": f, "actions": sorted(actions), "broken": broken,
        "query": urlencode(base), "total": qs.count()})
