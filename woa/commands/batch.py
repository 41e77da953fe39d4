"""``woa batch``, ``woa worker`` and ``woa index-writer``."""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from batch.indexing import IndexFeeder
from batch.progress import BatchProgress
from batch.report import ReportWriter, RunSummary, default_report_dir
from batch.walk import count_scans
from core.archive import Archive
from core.settings import Settings
from woa.commands import setting_flag, setting_overrides

log = logging.getLogger(__name__)


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "batch",
        parents=[common],
        help="archive folders of legacy scans in parallel (resumable; --broker to scale out)",
        description="Archive folders of scans in parallel, one process per core. Re-running skips what "
        "is archived, so an interrupted batch continues where it stopped. With --broker, queue one "
        "Celery task per scan for `woa worker` processes on machines sharing the archive storage.",
    )
    p.add_argument("sources", nargs="*", type=Path, metavar="SRC", help="folders or files of scans")
    setting_flag(p, "--workers", field="workers", type=int, metavar="N", help="local worker processes (default: cores)")
    p.add_argument("--report", type=Path, default=None, metavar="DIR", help="report folder (default ARCHIVE/reports/batch-…)")
    p.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE", help="tag every document, e.g. dealer=广州店")
    p.add_argument("--store", metavar="CODE", default=None,
                   help="store (门店) of every document (default: the default_store setting)")
    setting_flag(p, "--low-memory", field="low_memory", action="store_true",
                 help="workers return page buffers to the OS: far less memory, more CPU")
    p.add_argument("--location", default=None, metavar="WHERE",
                   help="where the paper originals of this batch sit (cabinet / box), e.g. 柜3/盒12; shown by woa inventory")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    setting_flag(p, "--broker", field="broker_url", metavar="URL",
                 help="Redis URL: queue tasks for `woa worker` instead of a local pool")
    p.add_argument("--no-wait", action="store_true", help="with --broker: enqueue and return without following")
    setting_flag(p, "--max-queued", field="max_queued", type=int, metavar="N",
                 help="with --broker: messages waiting in Redis at most (default 5000)")
    p.add_argument("--status", action="store_true", help="with --broker: show progress of a batch across workers")
    p.add_argument("--batch-id", default=None, metavar="ID", help="with --status: which batch (default: the latest)")
    p.add_argument("--json", action="store_true", help="with --status: print JSON")
    p.set_defaults(func=cmd_batch)

    p = sub.add_parser("worker", parents=[common], help="run a batch worker (Celery) for `woa batch --broker`")
    setting_flag(p, "--broker", field="broker_url", metavar="URL", help="Redis URL (default: the setting broker_url)")
    setting_flag(p, "--concurrency", field="workers", type=int, metavar="N", help="worker processes (default: cores)")
    p.add_argument("--hostname", default=None, metavar="NAME", help="worker name (default woa-PID@host)")
    setting_flag(p, "--visibility-timeout", field="visibility_timeout", type=float, metavar="S",
                 help="redeliver a dead worker's task after S seconds")
    setting_flag(p, "--low-memory", field="low_memory", action="store_true",
                 help="return page buffers to the OS: far less memory, more CPU")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("index-writer", parents=[common], help="index documents finished by batch workers (single writer)")
    setting_flag(p, "--broker", field="broker_url", metavar="URL", help="Redis URL (default: the setting broker_url)")
    p.add_argument("--once", action="store_true", help="index what is queued now and exit")
    p.set_defaults(func=cmd_index_writer)


def _tags(pairs: list[str]) -> dict[str, str]:
    tags = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--tag {pair!r}: expected KEY=VALUE")
        tags[key.strip()] = value.strip()
    return tags


def redact(url: str) -> str:
    """The broker URL without its password (it goes into reports and terminal output)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def cmd_batch(args: argparse.Namespace, settings: Settings) -> int:
    if args.status:
        return _status(args, settings)
    if not args.sources:
        print("woa batch: give at least one folder or file of scans", file=sys.stderr)
        return 2
    missing = [s for s in args.sources if not s.exists()]
    for s in missing:
        print(f"woa batch: {s}: no such file or folder", file=sys.stderr)
    sources = [s for s in args.sources if s.exists()]
    try:
        tags = _tags(args.tag)
        if args.location:
            tags["location"] = args.location.strip()
        if args.store:
            tags["store"] = args.store.strip()  # carried to the workers with the tags
    except ValueError as exc:
        print(f"woa batch: {exc}", file=sys.stderr)
        return 2
    archive = Archive.from_settings(settings)
    archive.root.mkdir(parents=True, exist_ok=True)
    total = count_scans(sources, exclude=[archive.root])
    report_dir = args.report or default_report_dir(archive.root)
    show = not args.no_progress and not args.quiet
    distributed = setting_overrides(args).get("broker_url") is not None  # --broker given: scale out
    if distributed:
        summary = RunSummary(mode=f"celery ({redact(settings.broker_url)})", workers=0, sources=[str(s) for s in sources])
        report = ReportWriter(report_dir, summary)
        progress = BatchProgress(total, enabled=show)
        interrupted, batch_id = _run_broker(args, settings, archive, sources, tags, report, progress)
        summary.workers = len(summary.per_worker)
    else:
        summary = RunSummary(mode="local", workers=settings.workers, sources=[str(s) for s in sources])
        report = ReportWriter(report_dir, summary)
        progress = BatchProgress(total, enabled=show)
        interrupted = _run_local(settings, sources, tags, report, progress)
        batch_id = ""
    progress.close()
    html_path = report.close(interrupted=interrupted)
    c = summary.counts
    print(
        f"{c['archived']} archived, {c['duplicate']} duplicate, {c['failed']} failed, {c['skipped']} skipped"
        f" ({summary.pages_per_minute:.0f} pages/min){' — interrupted' if interrupted else ''}",
        file=sys.stderr,
    )
    if batch_id:
        print(f"batch {batch_id}: `woa batch --status --broker {redact(settings.broker_url)}` shows progress", file=sys.stderr)
    print(f"report: {html_path}")
    if interrupted:
        return 130
    return 1 if c["failed"] or missing else 0


def _run_local(
    settings: Settings,
    sources: list[Path],
    tags: dict[str, str],
    report: ReportWriter,
    progress: BatchProgress,
) -> bool:
    from batch.local import LocalBatch

    def sink(outcome: Any) -> None:
        report.add(outcome)
        progress.update(outcome)
        if outcome.status == "failed":
            progress.bar.write(f"woa batch: {outcome.path}: {outcome.error}", file=sys.stderr)

    feeder = IndexFeeder(Archive.from_settings(settings))
    batch = LocalBatch(sources, settings, sink=sink, feeder=feeder, tags=tags)
    return batch.run()


def _run_broker(
    args: argparse.Namespace,
    settings: Settings,
    archive: Archive,
    sources: list[Path],
    tags: dict[str, str],
    report: ReportWriter,
    progress: BatchProgress,
) -> tuple[bool, str]:
    from batch.celery_app import create_app
    from batch.distributed import RedisIndexWriter, run_distributed
    from batch.redis_state import BatchState, connect, new_batch_id

    app = create_app(settings)
    r = connect(settings.broker_url)
    batch_id = new_batch_id()
    state = BatchState(r, batch_id)
    writer = RedisIndexWriter(r, archive)
    interrupted = run_distributed(
        app,
        state,
        sources,
        archive,
        report=report,
        progress=progress,
        writer=writer,
        tags=tags,
        wait=not args.no_wait,
        max_queued=settings.max_queued,
    )
    return interrupted, batch_id


def _status(args: argparse.Namespace, settings: Settings) -> int:
    from batch.celery_app import QUEUE
    from batch.redis_state import BatchState, connect, latest_batch_id

    r = connect(settings.broker_url)
    batch_id = args.batch_id or latest_batch_id(r)
    if batch_id is None:
        print("woa batch: no batch in this Redis", file=sys.stderr)
        return 1
    snap = BatchState(r, batch_id).snapshot(QUEUE)
    if args.json:
        print(json.dumps(snap.to_dict(), ensure_ascii=False))
        return 0
    d = snap.to_dict()
    total = "?" if d["total"] is None else d["total"]
    counts = ", ".join(f"{n} {s}" for s, n in d["counts"].items())
    lines = [
        f"batch {batch_id} (started {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(float(d['started'] or 0)))})",
        f"  done {d['done']} of {total}: {counts}; {d['pages']} pages archived",
        f"  queued messages {d['queued_messages']}, running {len(d['running'])}, waiting for the index {d['index_pending']}",
    ]
    for worker, counts_w in sorted(d["workers"].items()):
        lines.append(f"  worker {worker}: " + ", ".join(f"{n} {s}" for s, n in sorted(counts_w.items())))
    for run in d["running"]:
        lines.append(f"  running on {run['worker']} for {time.time() - run['since']:.0f} s: {run['path']}")
    print("\n".join(lines))
    return 0


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    from app.worker import limit_threads
    from batch.celery_app import QUEUE, create_app

    limit_threads()
    # the worker processes are forked from this one and archive with these settings (no env vars)
    app = create_app(settings.model_copy(update={"archive_dir": Path(settings.archive_dir).resolve()}))
    level = "WARNING" if args.quiet else ("DEBUG" if args.verbose > 1 else "INFO")
    name = args.hostname or f"woa-{os.getpid()}@{socket.gethostname()}"
    argv = ["worker", "-Q", QUEUE, "--loglevel", level, "--hostname", name, "--pool", "prefork", "--without-gossip", "--without-mingle"]
    argv += ["--concurrency", str(settings.workers)]
    app.worker_main(argv)
    return 0


def cmd_index_writer(args: argparse.Namespace, settings: Settings) -> int:
    from batch.distributed import RedisIndexWriter
    from batch.progress import GracefulStop
    from batch.redis_state import connect

    writer = RedisIndexWriter(connect(settings.broker_url), Archive.from_settings(settings))
    if not writer.start():
        print("woa index-writer: another index writer is running", file=sys.stderr)
        return 1
    try:
        with GracefulStop() as stop:
            while not stop.requested:
                if writer.drain_once() == 0:
                    if args.once:
                        break
                    time.sleep(1.0)
    except KeyboardInterrupt:
        pass
    finally:
        writer.stop()
    print(f"{writer.indexed} documents indexed", file=sys.stderr)
    return 0
