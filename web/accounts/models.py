"""Stores, memberships (user x store x role) and failed log-in attempts (for throttling)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from web.accounts.roles import ROLE_LABELS, ROLES

STORE_CODE_RE = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$"


class Store(models.Model):
    """A store (门店) of the dealer group; documents carry its code (``Document.store``)."""

    code = models.CharField(_("code"), max_length=32, unique=True,
                            validators=[RegexValidator(STORE_CODE_RE, _("letters, digits, _ . - (at most 32)"))])
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=16, choices=[(r, ROLE_LABELS[r]) for r in ROLES])

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "store", "role"], name="unique_membership")]
        ordering = ["store__code", "role"]

    def __str__(self) -> str:
        return f"{self.user} @ {self.store.code}: {self.role}"


class LoginFailure(models.Model):
    """One failed log-in; recent rows per user name and per address throttle further attempts."""

    username = models.CharField(max_length=150, db_index=True)
    address = models.CharField(max_length=64, db_index=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
