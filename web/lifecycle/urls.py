from __future__ import annotations

from django.urls import path

from web.lifecycle import views as v

urlpatterns = [
    path("", v.expiring_page, name="lifecycle"),
    path("holds/", v.holds_page, name="lifecycle_holds"),
    path("inventory/", v.inventory_page, name="lifecycle_inventory"),
    path("tier/", v.tier_page, name="lifecycle_tier"),
    path("doc/<str:doc_id>/<str:action>/", v.document_action, name="lifecycle_action"),
]
