"""`woa batch` command-line edges: usage errors and what it prints about the broker."""

from __future__ import annotations

from pathlib import Path

import pytest

from woa.cli import main
from woa.commands.batch import redact


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://localhost:6379/0", "redis://localhost:6379/0"),
        ("redis://:s3cret@10.1.2.3:6379/0", "redis://:***@10.1.2.3:6379/0"),
        ("redis://woa:s3cret@redis.lan/2", "redis://woa:***@redis.lan/2"),
        ("rediss://:pw@redis.lan:6380/0", "rediss://:***@redis.lan:6380/0"),
    ],
)
def test_broker_password_is_never_shown(url: str, shown: str) -> None:
    assert redact(url) == shown


def test_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["batch", "--archive", str(tmp_path / "a")]) == 2
    assert "at least one folder" in capsys.readouterr().err
    (tmp_path / "in").mkdir()
    assert main(["batch", str(tmp_path / "in"), "--archive", str(tmp_path / "a"), "--tag", "no-equals-sign"]) == 2
    assert "KEY=VALUE" in capsys.readouterr().err


def test_empty_folder_gives_an_empty_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "readme.txt").write_text("no scans here", encoding="utf-8")
    rc = main(["batch", str(tmp_path / "in"), "--archive", str(tmp_path / "a"), "--report", str(tmp_path / "r"), "--no-progress"])
    out = capsys.readouterr()
    assert rc == 0
    assert f"report: {tmp_path / 'r' / 'report.html'}" in out.out
    assert "0 archived, 0 duplicate, 0 failed, 0 skipped" in out.err
    assert (tmp_path / "r" / "documents.csv").read_text(encoding="utf-8").count("\n") == 1  # header only
