from __future__ import annotations

from django.urls import path

from web.accounts import admin_views as v

urlpatterns = [
    path("", v.admin_home, name="admin_home"),
    path("users/", v.users, name="admin_users"),
    path("users/<int:user_id>/", v.user_edit, name="admin_user"),
    path("stores/", v.stores, name="admin_stores"),
    path("audit/", v.audit_trail, name="admin_audit"),
]
