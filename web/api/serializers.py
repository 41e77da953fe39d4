"""Request and response shapes of the API (used for validation and for the OpenAPI schema)."""

from __future__ import annotations

from rest_framework import serializers

from core.models import CANONICAL_FIELDS


class TokenRequest(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)


class TokenResponse(serializers.Serializer):
    token = serializers.CharField()
    username = serializers.CharField()


class OrderSummarySerializer(serializers.Serializer):
    """What a search hit and a vehicle-history entry both say of one work order."""

    id = serializers.CharField()
    date = serializers.CharField(allow_null=True)
    order_no = serializers.CharField(allow_null=True)
    plate = serializers.CharField(allow_null=True)
    vin = serializers.CharField(allow_null=True)
    model = serializers.CharField(allow_null=True)
    mileage_km = serializers.IntegerField(allow_null=True)
    labor = serializers.CharField(allow_null=True, help_text="yuan, e.g. 1236.50")
    parts = serializers.CharField(allow_null=True)
    total = serializers.CharField(allow_null=True)
    needs_review = serializers.BooleanField()
    store = serializers.CharField()
    url = serializers.CharField()


class HitSerializer(OrderSummarySerializer):
    customer = serializers.CharField(allow_null=True)
    phone = serializers.CharField(allow_null=True)
    advisor = serializers.CharField(allow_null=True)
    snippet = serializers.CharField(help_text="matched text, HTML-escaped, matches in <mark>")


class Paged(serializers.Serializer):
    count = serializers.IntegerField()
    page = serializers.IntegerField()
    pages = serializers.IntegerField()
    page_size = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)


class SearchResponse(Paged):
    query = serializers.CharField()
    results = HitSerializer(many=True)


class FieldSerializer(serializers.Serializer):
    value = serializers.CharField(allow_null=True)
    confidence = serializers.FloatField()
    valid = serializers.BooleanField()
    doubtful = serializers.BooleanField()
    page = serializers.IntegerField(allow_null=True)
    box = serializers.ListField(child=serializers.IntegerField(), allow_null=True,
                                help_text="x0, y0, x1, y1 in pixels of the page (see pages[].width/height)")
    note = serializers.CharField()
    source = serializers.CharField()


class PageSerializer(serializers.Serializer):
    no = serializers.IntegerField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    dpi = serializers.IntegerField()


class DocumentSerializer(serializers.Serializer):
    id = serializers.CharField()
    store = serializers.CharField()
    source_name = serializers.CharField()
    sha256 = serializers.CharField()
    ingested_at = serializers.CharField()
    needs_review = serializers.BooleanField()
    confidence = serializers.FloatField()
    fields = serializers.DictField(child=FieldSerializer())
    items = serializers.ListField(child=serializers.DictField())
    pages = PageSerializer(many=True)
    history = serializers.ListField(child=serializers.DictField())
    files = serializers.DictField(child=serializers.CharField())


class CorrectionRequest(serializers.Serializer):
    field = serializers.ChoiceField(choices=list(CANONICAL_FIELDS))
    value = serializers.CharField(max_length=500)


class CorrectionResponse(serializers.Serializer):
    id = serializers.CharField()
    field = serializers.CharField()
    old = serializers.CharField(allow_null=True)
    new = serializers.CharField()
    at = serializers.CharField()
    user = serializers.CharField()
    valid = serializers.BooleanField()
    needs_review = serializers.BooleanField()


class HistoryEntrySerializer(OrderSummarySerializer):
    items = serializers.ListField(child=serializers.DictField())
    linked_by = serializers.CharField()


class HistoryResponse(Paged):
    key = serializers.CharField()
    results = HistoryEntrySerializer(many=True)


class ReviewResponse(Paged):
    results = HitSerializer(many=True)


class UploadRequest(serializers.Serializer):
    file = serializers.FileField(help_text="one scan: PDF, TIFF, JPEG or PNG")
    store = serializers.CharField(required=False, allow_blank=True, help_text="store code (default: your only one)")


class UploadResult(serializers.Serializer):
    name = serializers.CharField()
    status = serializers.CharField(help_text="archived | duplicate | refused")
    id = serializers.CharField(required=False)
    pages = serializers.IntegerField(required=False)
    needs_review = serializers.BooleanField(required=False)
    url = serializers.CharField(required=False)
    reason = serializers.CharField(required=False, help_text="why a file was refused, one line")


class StatisticsResponse(serializers.Serializer):
    # the shape of ``index.Stats.to_dict`` (as ``woa stats --format json``)
    orders = serializers.IntegerField()
    labor = serializers.CharField(allow_null=True)
    parts = serializers.CharField(allow_null=True)
    total = serializers.CharField(allow_null=True)
    months = serializers.ListField(child=serializers.DictField())
    top_items = serializers.ListField(child=serializers.DictField())
    top_models = serializers.ListField(child=serializers.DictField())
    advisors = serializers.ListField(child=serializers.DictField())
    stores = serializers.ListField(child=serializers.DictField())
