"""Records lifecycle: retention rules, reminders over a real SMTP server, legal hold, approved
disposal with tombstones, inventory (issue 14). Documents are born-digital PDFs from the sample
generator, ingested for real (no OCR needed)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from app.ingest import ingest_file
from app.lifecycle.run import run_pass
from app.lifecycle.state import load_state, read_events
from app.verify import verify_archive
from core.archive import Archive
from core.retention import add_period
from core.settings import Settings, SettingsError, load_settings
from index import search
from tests.helpers import woa_main
from tests.lifecycle_servers import born_digital_scans, smtp_server


@pytest.fixture(scope="module")
def born_digital(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return born_digital_scans(tmp_path_factory)


def _ingest(paths: list[Path], settings: Settings, tags: dict[str, str] | None = None) -> list[str]:
    ids = []
    for p in paths:
        res = ingest_file(p, settings, tags=tags)
        assert res.status == "archived", res.error
        ids.append(res.archived_id)
    return ids


def _set(archive: Path, doc_id: str, field: str, value: str, config: Path | None = None) -> None:
    assert woa_main(archive, "review", "set", doc_id, field, value, config=config) == 0


# -- policies -------------------------------------------------------------------------------------
def test_rule_below_legal_minimum_refused_with_line(tmp_path: Path) -> None:
    toml = tmp_path / "woa.toml"
    toml.write_text('archive_dir = "x"\n\n[[retention]]\nname = "warranty"\nyears = 10\n'
                    'field = { claim = "*" }\n\n[[retention]]\nname = "short"\nyears = 2\n', encoding="utf-8")
    with pytest.raises(SettingsError) as exc:
        load_settings(config=toml)
    msg = str(exc.value)
    assert msg.startswith(f"{toml}:8:") and "'short'" in msg and "legal minimum of 6 years" in msg and "override" in msg
    toml.write_text('[[retention]]\nname = "short"\nyears = 2\noverride = true\n', encoding="utf-8")
    assert load_settings(config=toml).retention[0].years == 2


@pytest.mark.parametrize(("body", "line", "reason"), [
    ('[[retention]]\nname = "a"\nyears = 7\nyeers = 10\n', 4, "unknown field 'yeers'"),
    ('[[retention]]\nname = "a"\nyears = 500\n', 1, "over 100 years is impossible"),
    ('[[retention]]\nname = "a"\nyears = -7\n', 3, "cannot be negative"),
    ('[[retention]]\nname = "a"\n', 1, "give a period"),
])
def test_bad_policy_refused_with_line_and_reason(tmp_path: Path, body: str, line: int, reason: str) -> None:
    toml = tmp_path / "woa.toml"
    toml.write_text(body, encoding="utf-8")
    with pytest.raises(SettingsError) as exc:
        load_settings(config=toml)
    assert str(exc.value).startswith(f"{toml}:{line}:") and reason in str(exc.value)
    assert woa_main(tmp_path, "lifecycle", "run", config=toml) == 2  # the CLI refuses to start


def test_calendar_period() -> None:
    assert add_period(date(2024, 2, 29), 6, 0, 0) == date(2030, 2, 28)
    assert add_period(date(2021, 11, 30), 0, 3, 1) == date(2022, 3, 1)


def test_retention_at_ingest_rules_correction_show_export_search(
        tmp_path: Path, born_digital: list[Path], capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "archive"
    toml = tmp_path / "woa.toml"
    toml.write_text(f'archive_dir = "{root}"\n[[retention]]\nname = "accident"\nyears = 10\nfrom = "date_in"\n'
                    'tag = ["kind=accident"]\n', encoding="utf-8")
    settings = load_settings(config=toml)
    (plain,) = _ingest(born_digital[:1], settings)
    (accident,) = _ingest(born_digital[1:2], settings, tags={"kind": "accident"})
    archive = Archive(root)
    _set(root, plain, "date_out", "2021-03-15", toml)
    _set(root, accident, "date_in", "2020-05-02", toml)
    doc = archive.load(plain)
    assert (doc.retain_until, doc.retention_rule) == ("2027-03-15", "default")
    assert (archive.load(accident).retain_until, archive.load(accident).retention_rule) == ("2030-05-02", "accident")
    _set(root, plain, "date_out", "2022-01-31", toml)  # a correction moves it
    assert archive.load(plain).retain_until == "2028-01-31"
    raw = json.loads(archive.sidecar_path(plain).read_text(encoding="utf-8"))
    assert raw["retain_until"] == "2028-01-31" and raw["retention_rule"] == "default"

    capsys.readouterr()
    assert woa_main(root, "show", plain, config=toml) == 0
    assert "retain until  2028-01-31  (rule default)" in capsys.readouterr().out
    assert woa_main(root, "export", config=toml) == 0
    recs = {r["id"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert recs[plain]["retain_until"] == "2028-01-31" and recs[accident]["retention_rule"] == "accident"

    def ids(q: str) -> set[str]:
        return {h.id for h in search(archive, q, limit=50).hits}

    assert ids("retain_until:2028-01") == {plain}
    assert ids("expires:<2029-01") == {plain}
    assert ids("expires:>2029") == {accident}
    assert ids("retain_until:2027..2031") == {plain, accident}
    assert ids("hold:yes") == set()
    assert ids("hold:no") == {plain, accident}


def test_rule_change_recomputes_on_next_pass(tmp_path: Path, born_digital: list[Path]) -> None:
    root = tmp_path / "archive"
    settings = load_settings(archive_dir=root)
    (doc_id,) = _ingest(born_digital[:1], settings)
    _set(root, doc_id, "date_out", "2021-03-15")
    archive = Archive(root)
    assert archive.load(doc_id).retain_until == "2027-03-15"
    run_pass(archive, settings, date(2025, 1, 1))
    longer = load_settings(archive_dir=root, retention=[{"name": "all-ten", "years": 10}])
    report = run_pass(archive, longer, date(2025, 1, 2))
    assert report.recomputed == 1
    assert (archive.load(doc_id).retain_until, archive.load(doc_id).retention_rule) == ("2031-03-15", "all-ten")
    assert {h.id for h in search(archive, "expires:2031-03").hits} == {doc_id}
    assert run_pass(archive, longer, date(2025, 1, 3)).recomputed == 0


# -- reminders ------------------------------------------------------------------------------------
def _mail_docs(msg: Any) -> set[str]:
    body = msg.get_payload(decode=True).decode("utf-8")
    return {line.split()[0] for line in body.splitlines() if line.startswith("  ")}


@pytest.mark.django_db  # `woa hold set` writes the web audit trail
def test_reminders_over_a_simulated_year(tmp_path: Path, born_digital: list[Path]) -> None:
    """Real SMTP on loopback: one mail per lead time (90/30/7), none twice, none after a hold."""
    root = tmp_path / "archive"
    start = date(2027, 1, 1)
    with smtp_server() as smtp:
        settings = load_settings(archive_dir=root, smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_tls="none",
                                 reminder_recipients={"*": ["manager@store.example"], "GZ01": ["gz@store.example"]})
        a, b, c = _ingest(born_digital[:3], settings)
        archive = Archive(root)
        # retain_until = date_out + 6 years: A expires on day 200, B on day 30 (inside the 30-day mark
        # already), C on day 150 but is put on hold on day 20 (before its 90-day mark on day 60)
        for doc_id, day in ((a, 200), (b, 30), (c, 150)):
            _set(root, doc_id, "date_out", add_period(start + timedelta(days=day), -6, 0, 0).isoformat())
        for day in range(365):
            today = start + timedelta(days=day)
            smtp.now = day
            if day == 20:
                assert woa_main(root, "hold", "set", c, "--reason", "customer dispute 2027-017", "--by", "wang") == 0
            run_pass(archive, settings, today)
            if day in (0, 110, 200):
                run_pass(archive, settings, today)  # a second run the same day sends nothing more
        sent: dict[str, list[int]] = {a: [], b: [], c: []}
        for msg, day in zip(smtp.messages, smtp.tags, strict=True):
            assert msg["To"] == "manager@store.example" and msg["Subject"].startswith("[woa] (no store)")
            for doc_id in _mail_docs(msg):
                sent[doc_id].append(day)
    assert sent[a] == [110, 170, 193]  # 90, 30 and 7 days before day 200
    assert sent[b] == [0, 23]  # first seen inside 30 days: the 30-day digest (settles 90), then 7
    assert sent[c] == []  # held before its first mark
    state = load_state(archive)
    assert set(state.due) == {a, b}  # expired, not held: waiting for approval (never deleted by the timer)
    assert archive.sidecar_path(a).is_file() and archive.sidecar_path(b).is_file()
    assert state.reminders[a]["sent"] == [90, 30, 7]


def test_smtp_unreachable_is_retried_next_run(tmp_path: Path, born_digital: list[Path]) -> None:
    from tests.redis_server import free_port

    root = tmp_path / "archive"
    port = free_port()
    settings = load_settings(archive_dir=root, smtp_host="127.0.0.1", smtp_port=port, smtp_tls="none",
                             smtp_timeout=2, reminder_recipients={"*": ["m@example"]})
    (doc_id,) = _ingest(born_digital[:1], settings)
    _set(root, doc_id, "date_out", "2021-03-15")
    archive = Archive(root)
    report = run_pass(archive, settings, date(2027, 3, 1))
    assert len(report.reminder_failures) == 1 and "retried next run" in report.reminder_failures[0]
    assert load_state(archive).reminders[doc_id]["sent"] == []
    with smtp_server() as smtp:
        settings.smtp_port = smtp.port
        assert len(run_pass(archive, settings, date(2027, 3, 2)).reminders_sent) == 1
        assert len(smtp.messages) == 1


# -- hold and disposal ---------------------------------------------------------------------------
@pytest.mark.django_db
def test_hold_and_approved_disposal(tmp_path: Path, born_digital: list[Path], capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "archive"
    settings = load_settings(archive_dir=root)
    keep, go = _ingest(born_digital[:2], settings)
    for doc_id in (keep, go):
        _set(root, doc_id, "date_out", "2019-06-30")
    archive = Archive(root)
    gone = archive.load(go)
    assert gone.retain_until == "2025-06-30"
    run_pass(archive, settings, date(2025, 7, 1))
    assert set(load_state(archive).due) == {keep, go}

    # a hold by query: the held document leaves the due list and cannot be disposed of
    order = archive.load(keep).fields["order_no"].value
    assert woa_main(root, "hold", "set", f"order:{order}", "--reason", "court case 2025-88", "--by", "li") == 0
    assert {h.id for h in search(archive, "hold:yes").hits} == {keep}
    run_pass(archive, settings, date(2025, 7, 2))
    assert set(load_state(archive).due) == {go}
    capsys.readouterr()
    assert woa_main(root, "dispose", "--approve", keep, "--by", "boss", "--today", "2025-07-02") == 1
    assert "on legal hold" in capsys.readouterr().err
    assert woa_main(root, "dispose", "--approve", go, "--by", "boss", "--today", "2025-06-01") == 1  # not yet expired
    assert archive.sidecar_path(go).is_file()

    assert woa_main(root, "dispose", "--approve", go, "--by", "boss", "--today", "2025-07-02") == 0
    for rel in (gone.original, gone.archive_pdf):
        assert not archive.abs(rel).exists()
    assert not archive.sidecar_path(go).exists()
    assert search(archive, f"id:{go}").total == 0
    assert search(archive, gone.fields["customer_name"].value or "x").total == 0  # personal content gone
    tomb = json.loads(archive.tombstone_path(go).read_text(encoding="utf-8"))
    assert tomb["sha256"] == gone.sha256 and tomb["approved_by"] == "boss" and tomb["retain_until"] == "2025-06-30"
    assert tomb["order_no"] == gone.fields["order_no"].value and tomb["retention_rule"] == "default"
    assert "customer_name" not in json.dumps(tomb) and gone.fields["customer_name"].value not in json.dumps(tomb)
    actions = [(e["action"], e["target"], e["actor"]) for e in read_events(archive)]
    assert ("hold.set", keep, "li") in actions and ("dispose.approve", go, "boss") in actions
    assert go not in load_state(archive).due
    from web.audit import verify as audit_verify
    from web.audit.models import AuditEntry

    rows = {(e.action, e.target, e.actor) for e in AuditEntry.objects.all()}
    assert {("hold.set", keep, "li"), ("dispose.approve", go, "boss")} <= rows
    assert audit_verify() == []

    report = verify_archive(root)
    assert report.ok, [str(p) for p in report.problems]
    src = next(p for p in born_digital[:2] if ingest_file(p, settings).status == "failed")
    res = ingest_file(src, settings)
    assert res.status == "failed" and "disposed of on" in (res.error or "") and "boss" in (res.error or "")
    assert not archive.sidecar_path(go).exists()

    assert woa_main(root, "hold", "release", keep, "--by", "li") == 0
    assert {h.id for h in search(archive, "hold:yes").hits} == set()


def test_interrupted_disposal_is_finished_by_the_next_pass(tmp_path: Path, born_digital: list[Path]) -> None:
    from app.lifecycle.dispose import tombstone_for
    from core.atomic import write_json_atomic

    root = tmp_path / "archive"
    settings = load_settings(archive_dir=root)
    (doc_id,) = _ingest(born_digital[:1], settings)
    _set(root, doc_id, "date_out", "2019-06-30")
    archive = Archive(root)
    doc = archive.load(doc_id)
    write_json_atomic(archive.tombstone_path(doc_id), tombstone_for(doc, "boss", date(2025, 7, 2)))  # crash here
    assert any("disposal interrupted" in str(p) for p in verify_archive(root).problems)
    report = run_pass(archive, settings, date(2025, 7, 3))
    assert report.disposals_finished == [doc_id]
    assert not archive.sidecar_path(doc_id).exists() and not archive.abs(doc.original).exists()
    assert verify_archive(root).ok


@pytest.mark.django_db
def test_extend_keeps_a_document_longer(tmp_path: Path, born_digital: list[Path]) -> None:
    root = tmp_path / "archive"
    settings = load_settings(archive_dir=root)
    (doc_id,) = _ingest(born_digital[:1], settings)
    _set(root, doc_id, "date_out", "2019-06-30")
    archive = Archive(root)
    run_pass(archive, settings, date(2025, 7, 1))
    assert doc_id in load_state(archive).due
    assert woa_main(root, "dispose", "--extend", doc_id, "--years", "2", "--reason", "warranty claim open") == 0
    assert archive.load(doc_id).retain_until == "2027-06-30"
    assert doc_id not in load_state(archive).due
    _set(root, doc_id, "mileage_km", "12345")  # a later correction keeps the extension
    assert archive.load(doc_id).retain_until == "2027-06-30"


# -- inventory ------------------------------------------------------------------------------------
def test_inventory_gaps_duplicates_locations(tmp_path: Path, born_digital: list[Path],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "archive"
    settings = load_settings(archive_dir=root)
    ids = _ingest(born_digital[:2], settings, tags={"location": "柜3/盒12"})
    ids += _ingest(born_digital[2:4], settings, tags={"location": "柜3/盒13"})
    for doc_id, order in zip(ids, ("WO2403001", "WO2403002", "WO2403005", "WO2403005"), strict=True):
        _set(root, doc_id, "order_no", order)
        _set(root, doc_id, "date_in", "2024-03-10")
    capsys.readouterr()
    assert woa_main(root, "inventory", "--json") == 0
    (group,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert group["month"] == "2024-03" and group["documents"] == 4
    assert group["gaps"] == ["WO2403003", "WO2403004"] and group["gap_count"] == 2
    assert group["duplicates"] == {"WO2403005": sorted(ids[2:])}
    assert group["locations"] == {"柜3/盒12": 2, "柜3/盒13": 2}


def test_run_cli_without_smtp_lists_and_is_idempotent(tmp_path: Path, born_digital: list[Path],
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "archive"
    (doc_id,) = _ingest(born_digital[:1], load_settings(archive_dir=root))
    _set(root, doc_id, "date_out", "2019-06-30")
    capsys.readouterr()
    assert woa_main(root, "lifecycle", "run", "--today", "2025-07-01") == 0
    out = capsys.readouterr().out
    assert "due for disposal: 1 (1 new)" in out and f"not mailed (no smtp_host): store (none): {doc_id}" in out
    assert woa_main(root, "lifecycle", "run", "--today", "2025-07-01") == 0
    assert "due for disposal: 1 (0 new)" in capsys.readouterr().out
    assert woa_main(root, "dispose", "--list") == 0
    assert doc_id in capsys.readouterr().out


def test_celery_beat_task_runs_the_pass(tmp_path: Path, born_digital: list[Path]) -> None:
    from batch.celery_app import LIFECYCLE_TASK, create_app

    root = tmp_path / "archive"
    settings = load_settings(archive_dir=root, broker_url="redis://127.0.0.1:1/0")
    (doc_id,) = _ingest(born_digital[:1], settings)
    _set(root, doc_id, "date_out", "2019-06-30")  # expired before today
    app = create_app(settings)
    assert app.conf.beat_schedule["woa-lifecycle-daily"]["task"] == LIFECYCLE_TASK
    out = app.tasks[LIFECYCLE_TASK].run()
    assert "due for disposal: 1 (1 new)" in out and doc_id in load_state(Archive(root)).due
