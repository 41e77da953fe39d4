#!/usr/bin/env bash
# The main job on the committed samples with the embedded defaults, then what came out.
set -euo pipefail
cd "$(dirname "$0")/.."
ARCHIVE=${1:-demo-archive}
WOA=.venv/bin/woa

echo "== woa demo: archiving samples/ into $ARCHIVE (OCR engine: ${WOA_OCR_ENGINE:-default})"
$WOA ingest samples --archive "$ARCHIVE" || true   # bad files would be listed above; the demo goes on

echo
echo "== extracted fields (woa export)"
$WOA export --archive "$ARCHIVE" -q | .venv/bin/python scripts/fields_table.py

echo
echo "== archive files (originals byte for byte, PDF/A copies, JSON sidecars)"
first=$(find "$ARCHIVE/sidecars" -name '*.json' | sort | head -1 | xargs basename | cut -d. -f1)
find "$ARCHIVE" -path "*/$first*" -type f | sort
echo "... $(find "$ARCHIVE/originals" -type f | wc -l) originals, $(find "$ARCHIVE/pdf" -type f | wc -l) PDF/A copies, $(find "$ARCHIVE/sidecars" -type f | wc -l) sidecars, $(du -sh "$ARCHIVE" | cut -f1) in all"

echo
echo "== one document (woa show $first)"
$WOA show "$first" --archive "$ARCHIVE"

if $WOA --help | grep -q " search "; then
  echo
  echo "== search: 机油 (finds 更换机油机滤 inside longer words)"
  $WOA search "机油" --archive "$ARCHIVE" --limit 5
  vin=$($WOA export --archive "$ARCHIVE" -q | .venv/bin/python -c "
import json, sys
for line in sys.stdin:
    f = json.loads(line)['fields'].get('vin') or {}
    if f.get('valid'):
        print(f['value']); break")
  if [ -n "$vin" ]; then
    echo
    echo "== vehicle history by the last 8 characters of a VIN: ${vin: -8}"
    $WOA search "vin:${vin: -8}" --archive "$ARCHIVE" --limit 5
    $WOA history "$vin" --archive "$ARCHIVE"
  fi
fi

echo
echo "== web application (users and audit trail in $ARCHIVE/db/, for this archive only)"
pw=$(.venv/bin/python -c "import secrets; print('demo-' + secrets.token_urlsafe(9))")
if $WOA users list --archive "$ARCHIVE" 2>/dev/null | grep -q "^demo "; then
  printf '%s\n' "$pw" | $WOA users password demo --archive "$ARCHIVE" >/dev/null
else
  printf '%s\n' "$pw" | $WOA users create demo --admin --archive "$ARCHIVE" >/dev/null
fi
echo "start it with:"
echo "  .venv/bin/woa serve --archive $ARCHIVE"
echo "then open http://localhost:8000/ and log in as  demo  /  $pw"
echo "(a new password is set each time 'make demo' runs; see docs/web.md for users, roles and stores)"
