#!/usr/bin/env bash
# Runs the Autobahn TestSuite fuzzing-client cases (through kosoku, a native runner of the Autobahn case
# files published on PyPI) against a WebSocket echo server that is already listening.
#
# Usage: scripts/autobahn.sh ws://127.0.0.1:PORT/echo
#
# The server must echo every text/binary message back unchanged (same opcode) on the given path; for the
# 12.x/13.x cases it must also negotiate permessage-deflate, otherwise those cases report UNIMPLEMENTED and
# count as failed here.
#
# Environment (all optional):
#   AUTOBAHN_CASES        space-separated case ids/globs (default: 1-7, 9, 10, 12, 13 — the server cases;
#                         8 and 11 do not exist in the Autobahn numbering)
#   AUTOBAHN_EXCLUDE      space-separated case ids/globs to skip
#   AUTOBAHN_PARALLELISM  cases run at once (default 1; the 9.x timing cases are meaningful only serially)
#   AUTOBAHN_REPORT_DIR   where the Autobahn-format report (index.json, per-case json/html) goes
#                         (default: a temporary directory, printed at the end)
#   KOSOKU_VENV           virtualenv holding kosoku (default: /tmp/kosoku-venv; created when missing)
#
# Prints every failing case (a FAILED/ERROR/UNIMPLEMENTED behaviour, or a bad close: FAILED, FAILED BY
# CLIENT, UNCLEAN, WRONG CODE), then a last line "N passed, M failed". Exits 0 only when M is 0.
# NON-STRICT and INFORMATIONAL verdicts count as passed, as in Autobahn itself.
set -euo pipefail

if [[ $# -lt 1 || "$1" == "-h" || "$1" == "--help" ]]; then
    sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi
url="$1"

venv="${KOSOKU_VENV:-/tmp/kosoku-venv}"
if ! "$venv/bin/python" -c 'import kosoku' >/dev/null 2>&1; then
    echo "autobahn.sh: installing kosoku into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check kosoku
fi

report_dir="${AUTOBAHN_REPORT_DIR:-$(mktemp -d /tmp/autobahn-report.XXXXXX)}"

AB_URL="$url" \
AB_CASES="${AUTOBAHN_CASES:-1.* 2.* 3.* 4.* 5.* 6.* 7.* 9.* 10.* 12.* 13.*}" \
AB_EXCLUDE="${AUTOBAHN_EXCLUDE:-}" \
AB_PARALLELISM="${AUTOBAHN_PARALLELISM:-1}" \
AB_REPORT_DIR="$report_dir" \
exec "$venv/bin/python" - <<'PY'
import asyncio
import os
import sys

from kosoku import FailureError, run_fuzzingclient

# Verdicts Autobahn itself treats as acceptable; everything else is a failure.
GOOD_BEHAVIOR = {"OK", "NON-STRICT", "INFORMATIONAL"}
GOOD_CLOSE = {"OK", "INFORMATIONAL"}


async def run():
    cases = os.environ["AB_CASES"].split()
    exclude = os.environ["AB_EXCLUDE"].split() or None
    try:
        return await run_fuzzingclient(
            os.environ["AB_URL"], cases, exclude, concurrency=int(os.environ["AB_PARALLELISM"])
        )
    except FailureError as failure:
        # Raised when any case failed; it still carries every case's result.
        return failure.results


def sort_key(result):
    return [int(part) for part in result.case_id.split(".")]


results = sorted(asyncio.run(run()), key=sort_key)
report_dir = os.environ["AB_REPORT_DIR"]
try:
    from kosoku._report import write_reports  # the report writer the kosoku CLI uses

    write_reports(results, report_dir)
    print(f"report: {report_dir}/index.html (index.json has every verdict)")
except Exception as error:  # the report is a convenience; verdicts below do not depend on it
    print(f"could not write the report: {error}", file=sys.stderr)

counts = {}
failed = []
for result in results:
    behavior, close = result.behavior.value, result.behavior_close.value
    counts[behavior] = counts.get(behavior, 0) + 1
    if behavior not in GOOD_BEHAVIOR or close not in GOOD_CLOSE:
        failed.append(result)

for result in failed:
    print(
        f"FAILED {result.case_id}: behavior={result.behavior.value} "
        f"close={result.behavior_close.value} "
        f"(remote close code {result.remote_close_code}, local {result.local_close_code})"
    )
    print(f"    {result.description.strip().splitlines()[0] if result.description.strip() else ''}")
    print(f"    {result.result}")
    if result.behavior_close.value not in GOOD_CLOSE:
        print(f"    close: {result.result_close}")

print("verdicts: " + ", ".join(f"{name} {count}" for name, count in sorted(counts.items())))
passed = len(results) - len(failed)
if not results:
    print("no case ran (is the server listening at the URL?)")
print(f"{passed} passed, {len(failed)} failed")
sys.exit(0 if results and not failed else 1)
PY
