"""The web tests that touch the database most, run again on a real PostgreSQL server.

``make test-web-postgresql`` runs every web test on PostgreSQL; this keeps a PostgreSQL run in
the default suite: the permission matrix (sessions, tokens, memberships, every page and API
endpoint), the audit trail (its advisory lock and hash chain) and the database check, in a pytest of their own with
``WOA_TEST_DB=postgresql``, on this session's ingested samples (no second OCR run).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.helpers import ROOT
from tests.web.helpers import WebArchive

pytestmark = pytest.mark.slow

FILES = ["tests/web/test_database.py", "tests/web/test_permissions.py", "tests/web/test_web_audit.py"]


def test_web_tests_pass_on_postgresql(web_archive_session: WebArchive) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WOA_")}
    env.update({"WOA_TEST_DB": "postgresql", "WOA_WEB_TEST_ARCHIVE": str(web_archive_session.root)})
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *FILES],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    tail = out.stdout[-3000:]
    assert out.returncode == 0, tail
    assert " passed" in tail and "failed" not in tail
