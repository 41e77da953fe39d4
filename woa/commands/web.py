"""``woa serve``, ``woa users …``, ``woa stores …`` and ``woa audit verify|export``: the web application."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from typing import Any

from core.settings import Settings
from web.accounts.roles import ROLES
from woa.commands import CommandError, action_group

log = logging.getLogger(__name__)


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("serve", parents=[common], help="run the web application (gunicorn)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 = any free port)")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: web_workers setting)")
    p.set_defaults(func=cmd_serve)

    usub = action_group(sub, "users", "web users: create, list, password, roles")
    p = usub.add_parser("create", parents=[common], help="create a user (password prompted, or read from stdin)")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--admin", action="store_true", help="administrator of every store (the first admin)")
    p.add_argument("--store", metavar="CODE", help="give the user a role in this store")
    p.add_argument("--role", choices=ROLES, default=None)
    p.set_defaults(func=cmd_users_create)
    p = usub.add_parser("list", parents=[common], help="users, their stores and roles")
    p.set_defaults(func=cmd_users_list)
    p = usub.add_parser("password", parents=[common], help="set a user's password (prompted, or from stdin)")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(func=cmd_users_password)
    for action, helptext, func in (("grant", "give a user a role in a store", cmd_users_grant),
                                   ("revoke", "take a role in a store from a user", cmd_users_revoke)):
        p = usub.add_parser(action, parents=[common], help=helptext)
        p.add_argument("name", metavar="NAME")
        p.add_argument("store", metavar="STORE")
        p.add_argument("role", choices=ROLES)
        p.set_defaults(func=func)

    ssub = action_group(sub, "stores", "stores (门店) of the dealer group")
    p = ssub.add_parser("add", parents=[common], help="add a store (or rename it)")
    p.add_argument("code", metavar="CODE")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(func=cmd_stores_add)
    p = ssub.add_parser("list", parents=[common], help="list the stores")
    p.set_defaults(func=cmd_stores_list)

    asub = action_group(sub, "audit", "the audit trail: verify the hash chain, export it")
    p = asub.add_parser("verify", parents=[common], help="check the hash chain; lists rows that were changed")
    p.set_defaults(func=cmd_audit_verify)
    p = asub.add_parser("export", parents=[common], help="write the audit trail as JSONL (stdout or --out)")
    p.add_argument("--out", metavar="FILE", default=None, help="file to write (default: stdout)")
    p.set_defaults(func=cmd_audit_export)


def _setup(settings: Settings) -> None:
    from web.bootstrap import setup

    setup(settings)


def _actor() -> str:
    return f"cli:{os.environ.get('USER') or getpass.getuser()}"


def _read_password(prompt_twice: bool = True) -> str | None:
    if not sys.stdin.isatty():
        line = sys.stdin.readline()
        return line.rstrip("\r\n") or None
    pw = getpass.getpass("password: ")
    if prompt_twice and getpass.getpass("again: ") != pw:
        print("woa users: the passwords differ", file=sys.stderr)
        return None
    return pw or None


def _new_password(user: Any) -> str:
    """The password typed (or given on stdin) for ``user``, if the password validators accept it."""
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    pw = _read_password()
    if not pw:
        raise CommandError("no password given", 2, "users")
    try:
        validate_password(pw, user)
    except ValidationError as exc:
        raise CommandError("password: " + " ".join(str(m) for m in exc.messages), 2, "users") from exc
    return pw


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    _setup(settings)
    from django.db import connections
    from gunicorn.app.base import BaseApplication

    from web.wsgi_app import application

    connections.close_all()  # the workers fork from this process: no shared database connection

    options = {
        "bind": f"[{args.host}]:{args.port}" if ":" in args.host else f"{args.host}:{args.port}",
        "workers": args.workers or settings.web_workers,
        "worker_class": "gthread",
        "threads": 4,
        "timeout": settings.web_timeout_seconds,
        "graceful_timeout": 10,
        "accesslog": "-",
        "errorlog": "-",
        "loglevel": "info",
        "limit_request_line": 8190,
        "forwarded_allow_ips": "127.0.0.1,::1",
        "control_socket_disable": True,  # one per user otherwise: two servers would share it
        "when_ready": _announce(settings),
    }

    class Server(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return application

        def init(self, parser: Any, opts: Any, args: Any) -> None:  # pragma: no cover - gunicorn API
            return None

    Server().run()
    return 0


def _announce(settings: Settings) -> Any:
    def when_ready(server: Any) -> None:
        for listener in server.LISTENERS:
            host, port = listener.sock.getsockname()[:2]
            shown = "localhost" if host in ("127.0.0.1", "::1") else host
            # one line a script (or a test) can wait for: the real port when --port 0 was given
            print(f"woa serve: listening on http://{shown}:{port}/ (archive {settings.archive_dir}; Ctrl-C stops)",
                  file=sys.stderr, flush=True)

    return when_ready


def cmd_users_create(args: argparse.Namespace, settings: Settings) -> int:
    _setup(settings)
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from web import audit
    from web.accounts.models import Membership, Store

    User = get_user_model()
    if User.objects.filter(username=args.name).exists():
        print(f"woa users: {args.name!r} exists already", file=sys.stderr)
        return 1
    if bool(args.store) != bool(args.role):
        print("woa users: give --store and --role together", file=sys.stderr)
        return 2
    if not args.admin and not args.store:
        print("woa users: give --admin, or --store CODE --role ROLE", file=sys.stderr)
        return 2
    store = None
    if args.store:
        store = Store.objects.filter(code=args.store).first()
        if store is None:
            print(f"woa users: no store {args.store!r} (woa stores add CODE NAME)", file=sys.stderr)
            return 1
    pw = _new_password(User(username=args.name))
    with transaction.atomic():
        user = User.objects.create_user(args.name, password=pw)
        if args.admin:
            user.is_superuser = True
            user.is_staff = True
            user.save()
        if store is not None:
            Membership.objects.create(user=user, store=store, role=args.role)
        audit.record(_actor(), "user_create", args.name,
                     {"admin": args.admin, "store": args.store or "", "role": args.role or ""})
    what = "administrator of every store" if args.admin else f"{args.role} of {args.store}"
    print(f"created user {args.name} ({what})")
    return 0


def cmd_users_list(args: argparse.Namespace, settings: Settings) -> int:
    _setup(settings)
    from django.contrib.auth import get_user_model

    for user in get_user_model().objects.order_by("username"):
        roles = ", ".join(f"{m.store.code}:{m.role}" for m in user.memberships.select_related("store"))
        flags = ("admin of every store " if user.is_superuser else "") + ("" if user.is_active else "(disabled) ")
        print(f"{user.username:20} {flags}{roles}".rstrip())
    return 0


def cmd_users_password(args: argparse.Namespace, settings: Settings) -> int:
    _setup(settings)
    from django.contrib.auth import get_user_model

    from web import audit

    user = get_user_model().objects.filter(username=args.name).first()
    if user is None:
        print(f"woa users: no user {args.name!r}", file=sys.stderr)
        return 1
    pw = _new_password(user)
    user.set_password(pw)
    user.save()
    audit.record(_actor(), "user_password", args.name)
    print(f"password of {args.name} changed")
    return 0


def _grant(args: argparse.Namespace, settings: Settings, grant: bool) -> int:
    _setup(settings)
    from django.contrib.auth import get_user_model

    from web import audit
    from web.accounts.models import Membership, Store

    user = get_user_model().objects.filter(username=args.name).first()
    store = Store.objects.filter(code=args.store).first()
    if user is None or store is None:
        print(f"woa users: no {'user ' + repr(args.name) if user is None else 'store ' + repr(args.store)}",
              file=sys.stderr)
        return 1
    if grant:
        Membership.objects.get_or_create(user=user, store=store, role=args.role)
    else:
        Membership.objects.filter(user=user, store=store, role=args.role).delete()
    audit.record(_actor(), "role_grant" if grant else "role_revoke", args.name,
                 {"store": args.store, "role": args.role})
    print(f"{args.name}: {'+' if grant else '-'}{args.role} in {args.store}")
    return 0


def cmd_users_grant(args: argparse.Namespace, settings: Settings) -> int:
    return _grant(args, settings, True)


def cmd_users_revoke(args: argparse.Namespace, settings: Settings) -> int:
    return _grant(args, settings, False)


def cmd_stores_add(args: argparse.Namespace, settings: Settings) -> int:
    _setup(settings)
    from django.core.exceptions import ValidationError

    from web import audit
    from web.accounts.models import Store

    store = Store.objects.filter(code=args.code).first() or Store(code=args.code)
    store.name = args.name
    try:
        store.full_clean()
    except ValidationError as exc:
        print(f"woa stores: {args.code!r}: {' '.join(exc.messages)}", file=sys.stderr)
        return 2
    created = store.pk is None
    store.save()
    audit.record(_actor(), "store_create" if created else "store_change", args.code, {"name": args.name})
    print(f"store {args.code} {args.name} {'added' if created else 'renamed'}")
    return 0


def cmd_stores_list(args: argparse.Namespace, settings: Settings) -> int:
    _setup(settings)
    from web.accounts.models import Store

    for s in Store.objects.all():
        print(f"{s.code:12} {s.name}")
    return 0


def cmd_audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    _setup(settings)
    from web import audit
    from web.audit.models import AuditEntry

    n = AuditEntry.objects.count()
    broken = audit.verify()
    if broken:
        for row_id in broken:
            print(f"audit row {row_id}: hash chain broken (row changed, or the row before it deleted)")
        print(f"{len(broken)} of {n} audit rows fail the check", file=sys.stderr)
        return 1
    print(f"audit trail intact: {n} rows")
    return 0


def cmd_audit_export(args: argparse.Namespace, settings: Settings) -> int:
    _setup(settings)
    from web import audit

    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            n = audit.export_jsonl(fh)
        print(f"wrote {n} audit rows to {args.out}", file=sys.stderr)
    else:
        n = audit.export_jsonl(sys.stdout)
    return 0
