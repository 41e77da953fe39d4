"""Roles and what each may do. A user's role is per store (``Membership``); what a user may do in
a store is the union of their roles there. ``admin`` also manages users, roles and stores.

Permissions (actions):
  view      search, vehicle history, document pages, page images
  download  the original and the PDF/A copy
  review    the review queue and corrections
  upload    archive new scans
  stats     the statistics page
  export    CSV/XLSX exports of search results and statistics
  audit     the audit trail
  admin     users, roles, stores
  lifecycle records lifecycle: expiring documents, approve disposal, legal holds, inventory, tiers
"""

from __future__ import annotations

CLERK, ADVISOR, MANAGER, AUDITOR, ADMIN = "clerk", "advisor", "manager", "auditor", "admin"
ROLES = (CLERK, ADVISOR, MANAGER, AUDITOR, ADMIN)

VIEW, DOWNLOAD, REVIEW, UPLOAD, STATS, EXPORT, AUDIT, MANAGE, LIFECYCLE = (
    "view", "download", "review", "upload", "stats", "export", "audit", "admin", "lifecycle")
PERMISSIONS = (VIEW, DOWNLOAD, REVIEW, UPLOAD, STATS, EXPORT, AUDIT, MANAGE, LIFECYCLE)

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    CLERK: frozenset({VIEW, DOWNLOAD, REVIEW, UPLOAD}),
    ADVISOR: frozenset({VIEW, DOWNLOAD}),
    MANAGER: frozenset({VIEW, DOWNLOAD, REVIEW, UPLOAD, STATS, EXPORT, LIFECYCLE}),
    AUDITOR: frozenset({VIEW, DOWNLOAD, STATS, EXPORT, AUDIT}),
    ADMIN: frozenset({VIEW, DOWNLOAD, REVIEW, UPLOAD, STATS, EXPORT, AUDIT, MANAGE, LIFECYCLE}),
}

ROLE_LABELS = {
    CLERK: "档案管理员 clerk",
    ADVISOR: "服务顾问 advisor",
    MANAGER: "售后经理 manager",
    AUDITOR: "审计员 auditor",
    ADMIN: "管理员 admin",
}


def permissions_of(roles: set[str] | frozenset[str]) -> frozenset[str]:
    out: set[str] = set()
    for r in roles:
        out |= ROLE_PERMISSIONS.get(r, frozenset())
    return frozenset(out)
