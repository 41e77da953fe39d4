from django.apps import AppConfig


class LifecycleConfig(AppConfig):
    name = "web.lifecycle"
    label = "lifecycle"
