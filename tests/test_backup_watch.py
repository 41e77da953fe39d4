"""What ``Restic.run`` watches for: the free space of a local repository's disk, and a restic
status line that only counts the seconds (no progress)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.backup import _CLOCK, Restic


@pytest.mark.parametrize("repository", ["s3:https://127.0.0.1:9000/woa", "sftp:backup@nas:/srv/woa", "rest:http://nas:8000/"])
def test_a_remote_repository_has_no_local_disk(repository: str) -> None:
    assert Restic(repository).local_free() is None


def test_a_local_repository_s_free_space_is_its_disk_s(tmp_path: Path) -> None:
    not_yet = tmp_path / "repo" / "not-created"  # restic init has not run: the nearest existing folder's disk
    assert Restic(str(not_yet)).local_free() == shutil.disk_usage(tmp_path).free


@pytest.mark.parametrize(("a", "b", "progress"), [
    ('{"message_type":"status","seconds_elapsed":494,"percent_done":1,"bytes_done":35457211}',
     '{"message_type":"status","seconds_elapsed":495,"percent_done":1,"bytes_done":35457211}', False),
    ('{"message_type":"status","seconds_elapsed":4,"seconds_remaining":9,"bytes_done":100}',
     '{"message_type":"status","seconds_elapsed":5,"seconds_remaining":8,"bytes_done":200}', True),
])
def test_a_status_line_that_only_counts_the_seconds_is_no_progress(a: str, b: str, progress: bool) -> None:
    assert (_CLOCK.sub("", a) != _CLOCK.sub("", b)) is progress
