from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "web.documents"
    label = "documents"
