"""Display names of the canonical fields."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

FIELD_LABELS = {
    "order_no": _("Order number"),
    "vin": _("VIN"),
    "plate": _("Plate"),
    "date_in": _("Date in"),
    "date_out": _("Date out"),
    "mileage_km": _("Mileage (km)"),
    "customer_name": _("Customer"),
    "phone": _("Phone"),
    "model": _("Model"),
    "advisor": _("Service advisor"),
    "labor_cost": _("Labour"),
    "parts_cost": _("Parts"),
    "total_cost": _("Total"),
}
MONEY_FIELDS = {"labor_cost", "parts_cost", "total_cost"}
