"""Inbox rules: what is taken, what is ignored, tags, refused layouts, network filesystems."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from watch_folder.rules import (
    Folders,
    LayoutError,
    candidate,
    check_layout,
    default_folders,
    filesystem_type,
    ignored_reason,
    is_network_fs,
    tags_for,
    walk_inbox,
)
from watch_folder.service import backoff_delay, choose_observer, kv


@pytest.mark.parametrize(
    ("rel", "ignored"),
    [
        ("scan_0001.pdf", False),
        ("广州店/维修委托书.jpg", False),
        ("广州店/2024/03/scan.tif", False),
        ("scan.pdf.tmp", True),
        ("scan.PART", True),
        ("scan.pdf.part", True),
        ("~$report.docx", True),
        (".~lock.scan.pdf#", True),
        (".DS_Store", True),
        ("Thumbs.db", True),
        ("thumbs.db", True),
        ("desktop.ini", True),
        ("广州店/@eaDir/scan.pdf", True),
        ("@eaDir/x/SYNOFILE_THUMB_M.jpg", True),
        (".hidden.pdf", True),
        (".git/config", True),
        ("广州店/.sync/scan.pdf", True),
        ("processed/scan.pdf", True),
        ("failed/scan.pdf", True),
        ("广州店/processed/scan.pdf", False),  # only the inbox's own top-level folders are reserved
        ("processed", False),  # a *file* called processed at the top level is a scan like any other
    ],
)
def test_ignore_rules(rel: str, ignored: bool) -> None:
    assert (ignored_reason(Path(rel)) is not None) == ignored


@pytest.mark.parametrize(
    ("rel", "tags"),
    [
        ("scan.pdf", {}),
        ("广州店/scan.pdf", {"dealer": "广州店"}),
        ("深圳店/2024-03/scan.pdf", {"dealer": "深圳店"}),
    ],
)
def test_first_folder_level_is_the_dealer_tag(rel: str, tags: dict[str, str]) -> None:
    assert tags_for(Path(rel)) == tags


def test_layout_refuses_outputs_inside_the_inbox(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    ok = default_folders(inbox, tmp_path / "archive")
    check_layout(ok)
    assert ok.failed == tmp_path / "failed" and ok.processed == tmp_path / "processed"
    for bad in (
        Folders(inbox, inbox / "archive", ok.failed, ok.processed),
        Folders(inbox, ok.archive, inbox / "failed", ok.processed),
        Folders(inbox, ok.archive, ok.failed, inbox / "sub" / "processed"),
        Folders(inbox, tmp_path, ok.failed, ok.processed),  # inbox inside the archive
        Folders(inbox, inbox, ok.failed, ok.processed),
    ):
        with pytest.raises(LayoutError):
            check_layout(bad)
    with pytest.raises(LayoutError):
        check_layout(default_folders(tmp_path / "missing", tmp_path / "archive"))


def test_layout_sees_through_symlinks(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "arch").mkdir()
    link = tmp_path / "archive-link"
    link.symlink_to(inbox / "arch")
    with pytest.raises(LayoutError):
        check_layout(default_folders(inbox, link))


def test_walk_takes_files_and_does_not_follow_links_out_of_the_inbox(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    outside = tmp_path / "outside"
    (inbox / "广州店").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.pdf").write_bytes(b"%PDF-1.4 outside")
    (inbox / "a.pdf").write_bytes(b"a")
    (inbox / "广州店" / "b.jpg").write_bytes(b"b")
    (inbox / "广州店" / "b.jpg.part").write_bytes(b"partial")
    (inbox / ".hidden").mkdir()
    (inbox / ".hidden" / "c.pdf").write_bytes(b"c")
    (inbox / "link-out.pdf").symlink_to(outside / "secret.pdf")
    (inbox / "dir-out").symlink_to(outside, target_is_directory=True)
    (inbox / "link-in.pdf").symlink_to(inbox / "a.pdf")
    found = [p.relative_to(inbox).as_posix() for p in walk_inbox(inbox)]
    assert found == ["a.pdf", "link-in.pdf", "广州店/b.jpg"]
    assert candidate(inbox, inbox / "link-out.pdf") is None
    assert candidate(inbox, inbox / "dir-out" / "secret.pdf") is None
    assert candidate(inbox, tmp_path / "outside" / "secret.pdf") is None


MOUNTS = """\
/dev/vda / ext4 rw,relatime 0 0
proc /proc proc rw 0 0
//nas/scans /mnt/scans cifs rw,vers=3.0 0 0
nas:/export /srv/nfs nfs4 rw 0 0
/dev/vdb /srv/nfs/local ext4 rw 0 0
user@host:/x /home/u/remote\\040dir fuse.sshfs rw 0 0
tmpfs /tmp tmpfs rw 0 0
"""


@pytest.mark.parametrize(
    ("path", "fs_type", "network"),
    [
        ("/home/u/inbox", "ext4", False),
        ("/mnt/scans", "cifs", True),
        ("/mnt/scans/广州店", "cifs", True),
        ("/mnt/scansx", "ext4", False),
        ("/srv/nfs/inbox", "nfs4", True),
        ("/srv/nfs/local/inbox", "ext4", False),  # a local disk mounted below the NFS mount
        ("/home/u/remote dir/inbox", "fuse.sshfs", True),
        ("/tmp/inbox", "tmpfs", False),
    ],
)
def test_network_filesystem_detection(path: str, fs_type: str, network: bool) -> None:
    assert filesystem_type(Path(path), MOUNTS) == fs_type
    assert is_network_fs(fs_type) == network
    kind, interval, _why = choose_observer(Path(path), 0.0, MOUNTS)
    assert (kind == "polling") == network
    assert (interval > 0) == network


def test_poll_option_forces_polling() -> None:
    assert choose_observer(Path("/home/u/inbox"), 1.5, MOUNTS)[:2] == ("polling", 1.5)


def test_backoff_doubles_up_to_the_cap() -> None:
    assert [backoff_delay(n, 2.0, 20.0) for n in range(1, 7)] == [2.0, 4.0, 8.0, 16.0, 20.0, 20.0]


def test_log_lines_are_key_value() -> None:
    line = kv("failed", path=Path("广州店/a b.pdf"), id=3, error='bad "x"', skipped=None)
    assert line == 'event=failed path="广州店/a b.pdf" id=3 error="bad \\"x\\""'


def test_real_mounts_of_this_machine_parse() -> None:
    text = Path("/proc/mounts").read_text()
    assert filesystem_type(Path(os.getcwd()), text) != ""
