"""The Celery application of the distributed batch (broker: Redis).

``woa worker --broker URL`` starts a worker of this app; ``celery -A batch.celery_app worker -Q woa``
works as well, with the settings (``broker_url`` among them) loaded as every ``woa`` command loads
them (``woa.toml``, ``WOA_*``). The app carries the worker's ``Settings``: its processes archive
with them. Messages are acknowledged only when
a task has finished (``task_acks_late``) and requeued when its worker process dies
(``task_reject_on_worker_lost``); each worker process takes one message at a time
(``worker_prefetch_multiplier=1``). A message whose worker died entirely (machine lost, SIGKILL)
stays unacknowledged in Redis and is redelivered after ``visibility_timeout`` seconds, which must
exceed the longest task (a 300-page PDF takes several minutes on one core): the setting
``visibility_timeout``, default two hours.
"""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from celery.schedules import crontab
from celery.signals import worker_process_init

from app.worker import init_worker_process
from batch.tasks import run_ingest_task
from core.settings import Settings, load_settings

QUEUE = "woa"
TASK_NAME = "woa.ingest_document"
LIFECYCLE_TASK = "woa.lifecycle_run"  # the daily records-lifecycle pass, scheduled by `celery beat`
RESTORE_INTERVAL = 30.0  # seconds between scans for messages of dead workers


def celery_config(broker_url: str, visibility_timeout: float) -> dict[str, Any]:
    return {
        "broker_url": broker_url,
        "broker_connection_retry_on_startup": True,
        "broker_transport_options": {
            "visibility_timeout": visibility_timeout,
            "unacked_restore_interval": min(RESTORE_INTERVAL, max(1.0, visibility_timeout / 5)),
            "unacked_restore_throttle": 1,
        },
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_ignore_result": True,
        "result_backend": None,
        "task_default_queue": QUEUE,
        "task_serializer": "json",
        "accept_content": ["json"],
        "worker_max_tasks_per_child": 500,  # bounds slow leaks of native OCR libraries
        "worker_hijack_root_logger": False,
        "worker_send_task_events": False,
        "worker_cancel_long_running_tasks_on_connection_loss": False,
    }


def _ingest_document(
    self: Task, key: str, batch_id: str, path: str, sha256: str, tags: dict[str, str] | None = None
) -> str:
    return run_ingest_task(self, key, batch_id, path, sha256, tags)


def _lifecycle_run(self: Task) -> str:
    """``woa lifecycle run`` as a task of the Celery deployment, with the app's settings."""
    from datetime import date

    from app.lifecycle.run import run_pass
    from core.archive import Archive

    settings = app_settings(self.app)
    return "\n".join(run_pass(Archive.from_settings(settings), settings, date.today()).lines())


def create_app(settings: Settings) -> Celery:
    """The Celery app of ``settings`` (broker, visibility timeout); its worker processes archive with them."""
    app = Celery("woa", set_as_current=False)
    app.conf.update(celery_config(settings.broker_url, settings.visibility_timeout))
    app.conf.woa_settings = settings.model_dump(mode="json")
    app.task(bind=True, name=TASK_NAME, max_retries=3)(_ingest_document)
    app.task(bind=True, name=LIFECYCLE_TASK)(_lifecycle_run)
    # `celery -A batch.celery_app beat` runs the lifecycle pass daily (docs/lifecycle.md)
    app.conf.beat_schedule = {"woa-lifecycle-daily": {"task": LIFECYCLE_TASK, "schedule": crontab(hour=2, minute=30)}}

    def init_process(**_: Any) -> None:
        init_worker_process(settings)

    worker_process_init.connect(init_process, weak=False, dispatch_uid=f"woa-worker-init-{id(app)}")
    return app


def app_settings(app: Celery) -> Settings:
    """The settings a worker process of ``app`` archives with."""
    return Settings.model_validate(app.conf.woa_settings)


def __getattr__(name: str) -> Celery:
    """``app`` for ``celery -A batch.celery_app worker``, built from the settings on first use."""
    if name == "app":
        app = create_app(load_settings())
        globals()["app"] = app
        return app
    raise AttributeError(name)
