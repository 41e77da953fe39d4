from __future__ import annotations

from django.urls import path

from web.documents import views as v
from web.documents import work

urlpatterns = [
    path("", v.search_page, name="search"),
    path("export/<str:fmt>/", v.search_export, name="search_export"),
    path("doc/<str:doc_id>/", v.document_page, name="document"),
    path("doc/<str:doc_id>/page/<int:page_no>/<int:width>.jpg", v.page_image, name="page_image"),
    path("doc/<str:doc_id>/download/<str:kind>/", v.download, name="download"),
    path("vehicle/<str:key>/", v.vehicle_page, name="vehicle"),
    path("review/", work.review_queue, name="review_queue"),
    path("review/<str:doc_id>/", work.review_document, name="review_document"),
    path("upload/", work.upload_page, name="upload"),
    path("upload/file/", work.upload_file, name="upload_file"),
    path("statistics/", work.statistics_page, name="statistics"),
    path("statistics/export.csv", work.statistics_export, name="statistics_export"),
]
