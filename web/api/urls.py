"""URL map of the REST API (mounted at ``/api/``)."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from web.api import views as v

urlpatterns = [
    path("token/", v.TokenView.as_view(), name="api_token"),
    path("token/revoke/", v.RevokeTokenView.as_view(), name="api_token_revoke"),
    path("search/", v.SearchView.as_view(), name="api_search"),
    path("documents/<str:doc_id>/", v.DocumentView.as_view(), name="api_document"),
    path("documents/<str:doc_id>/fields/", v.FieldsView.as_view(), name="api_fields"),
    path("documents/<str:doc_id>/corrections/", v.CorrectionsView.as_view(), name="api_corrections"),
    path("documents/<str:doc_id>/files/<str:kind>/", v.FileView.as_view(), name="api_file"),
    path("vehicles/<str:key>/history/", v.HistoryView.as_view(), name="api_history"),
    path("review/", v.ReviewQueueView.as_view(), name="api_review"),
    path("statistics/", v.StatisticsView.as_view(), name="api_statistics"),
    path("upload/", v.UploadView.as_view(), name="api_upload"),
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
]
