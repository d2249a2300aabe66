#!/usr/bin/env bash
# The whole suite: unit tests (no root needed), then integration tests on the
# real kernel (root). Prints one line per test and closes with the count.
# Usage: tests/run.sh [substring ...]   (substrings select integration tests)
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-build}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

"$OUT/unit_tests" 2>&1 | grep -v -E '^[0-9]+ passed, [0-9]+ failed' | tee -a "$log"
TCPTRAIL="$PWD/$OUT/tcptrail" python3 tests/integration/run.py "$@" 2>&1 | tee -a "$log"

passed=$(grep -c '^PASS ' "$log")
failed=$(grep -c '^FAIL ' "$log")
skipped=$(grep -c '^SKIP ' "$log")
# A runner that died without reporting must not look like success.
if [ "$passed" -eq 0 ]; then
	failed=$((failed + 1))
	echo "FAIL suite: no test ran"
fi
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
