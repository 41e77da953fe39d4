"""The Celery application of the distributed batch (broker: Redis).

``woa worker --broker URL`` starts a worker of this app; ``celery -A batch.celery_app worker -Q woa``
works as well, with the broker taken from ``WOA_BROKER_URL``. Messages are acknowledged only when
a task has finished (``task_acks_late``) and requeued when its worker process dies
(``task_reject_on_worker_lost``); each worker process takes one message at a time
(``worker_prefetch_multiplier=1``). A message whose worker died entirely (machine lost, SIGKILL)
stays unacknowledged in Redis and is redelivered after ``visibility_timeout`` seconds, which must
exceed the longest task (a 300-page PDF takes several minutes on one core): default two hours,
``WOA_VISIBILITY_TIMEOUT`` to change it.
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery, Task
from celery.schedules import crontab
from celery.signals import worker_process_init

from batch.tasks import run_ingest_task
from batch.work import limit_threads, low_memory_from_env, tune_malloc

QUEUE = "woa"
TASK_NAME = "woa.ingest_document"
LIFECYCLE_TASK = "woa.lifecycle_run"  # the daily records-lifecycle pass, scheduled by `celery beat`
DEFAULT_BROKER = "redis://localhost:6379/0"
DEFAULT_VISIBILITY_TIMEOUT = 7200.0
RESTORE_INTERVAL = 30.0  # seconds between scans for messages of dead workers


def broker_from_env() -> str:
    return os.environ.get("WOA_BROKER_URL", DEFAULT_BROKER)


def visibility_timeout_from_env() -> float:
    return float(os.environ.get("WOA_VISIBILITY_TIMEOUT", DEFAULT_VISIBILITY_TIMEOUT))


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


def _lifecycle_run() -> str:
    """``woa lifecycle run`` as a task, for the Celery deployment (settings from WOA_CONFIG / WOA_*)."""
    from datetime import date

    from app.lifecycle.run import run_pass
    from core.archive import Archive
    from core.settings import load_settings

    settings = load_settings()
    return "\n".join(run_pass(Archive.from_settings(settings), settings, date.today()).lines())


def create_app(broker_url: str | None = None, visibility_timeout: float | None = None) -> Celery:
    app = Celery("woa", set_as_current=False)
    app.conf.update(
        celery_config(
            broker_url or broker_from_env(),
            visibility_timeout if visibility_timeout is not None else visibility_timeout_from_env(),
        )
    )
    app.task(bind=True, name=TASK_NAME, max_retries=3)(_ingest_document)
    app.task(name=LIFECYCLE_TASK)(_lifecycle_run)
    # `celery -A batch.celery_app beat` runs the lifecycle pass daily (docs/lifecycle.md)
    app.conf.beat_schedule = {"woa-lifecycle-daily": {"task": LIFECYCLE_TASK, "schedule": crontab(hour=2, minute=30)}}
    return app


def _init_worker_process(**_: Any) -> None:
    limit_threads()
    tune_malloc(low_memory_from_env())


worker_process_init.connect(_init_worker_process, weak=False)

app = create_app()  # for `celery -A batch.celery_app worker`
