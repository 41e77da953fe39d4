"""Refresh the web app's Chinese translations: makemessages, fill new entries, compile.

    .venv/bin/python scripts/web_i18n.py

Extracts every message of web/ into web/locale/zh_Hans/LC_MESSAGES/django.po (existing
translations are kept by makemessages), fills empty entries from ``ZH`` below, drops the fuzzy
flags it resolved, reports what is still untranslated, and compiles django.mo. Both files are
committed.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from zh_messages import ZH

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "web" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def _unquote(lines: list[str]) -> str:
    out = []
    for ln in lines:
        m = re.match(r'^(?:msgid|msgid_plural|msgstr(?:\[\d\])?)?\s*"(.*)"\s*$', ln)
        if m:
            out.append(m.group(1).encode("utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8"))
    return "".join(out)


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def fill(text: str) -> tuple[str, list[str]]:
    blocks = text.split("\n\n")
    missing: list[str] = []
    out_blocks = []
    for block in blocks:
        lines = block.split("\n")
        keys: dict[str, list[str]] = {}
        cur = None
        other: list[str] = []
        for ln in lines:
            m = re.match(r"^(msgctxt|msgid_plural|msgid|msgstr\[\d\]|msgstr)\s", ln)
            if m:
                cur = m.group(1)
                keys[cur] = [ln]
            elif ln.startswith('"') and cur:
                keys[cur].append(ln)
            else:
                other.append(ln)
                cur = None
        if "msgid" not in keys:
            out_blocks.append(block)
            continue
        msgid = _unquote(keys["msgid"])
        if not msgid:
            out_blocks.append(block)
            continue
        plural = "msgid_plural" in keys
        current = _unquote(keys.get("msgstr[0]" if plural else "msgstr", []))
        fuzzy = any(ln.startswith("#,") and "fuzzy" in ln for ln in other)
        if current and not fuzzy:
            out_blocks.append(block)
            continue
        zh = ZH.get(msgid)
        if zh is None:
            missing.append(msgid)
            out_blocks.append(block)
            continue
        new = [ln.replace(", fuzzy", "").replace("#, fuzzy", "#") if ln.startswith("#,") else ln for ln in other]
        new = [ln for ln in new if ln.strip() not in ("#", "")]
        new = [ln for ln in new if not ln.startswith("#| ")]
        if "msgctxt" in keys:
            new += keys["msgctxt"]
        new += keys["msgid"]
        if plural:
            new += keys["msgid_plural"]
            new.append(f"msgstr[0] {_quote(zh)}")
        else:
            new.append(f"msgstr {_quote(zh)}")
        out_blocks.append("\n".join(new))
    return "\n\n".join(out_blocks), missing


def main() -> int:
    web = ROOT / "web"
    py = sys.executable
    subprocess.run([py, "-m", "django", "makemessages", "-l", "zh_Hans", "--no-obsolete", "-i", "static/*",
                    "--settings=web.settings", f"--pythonpath={ROOT}"], cwd=web, check=True)
    text, missing = fill(PO.read_text(encoding="utf-8"))
    text = text.replace('"Plural-Forms: nplurals=INTEGER; plural=EXPRESSION;\\n"', '"Plural-Forms: nplurals=1; plural=0;\\n"')
    text = text.replace('"Language: \\n"', '"Language: zh_Hans\\n"')
    text = text.replace('"Content-Type: text/plain; charset=CHARSET\\n"', '"Content-Type: text/plain; charset=UTF-8\\n"')
    PO.write_text(text, encoding="utf-8")
    subprocess.run(["msgfmt", "--check-format", "-o", str(PO.with_suffix(".mo")), str(PO)], check=True)
    for m in missing:
        print(f"untranslated: {m!r}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
