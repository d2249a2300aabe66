#!/usr/bin/env bash
# The whole suite: unit tests (no root needed), integration tests on the
# real kernel (root), then the kernel matrix under qemu (VMTEST=0 skips it).
# Prints one line per test and closes with the count.
# Usage: tests/run.sh [substring ...]   (substrings select integration tests
# and leave the matrix out)
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-build}
case "$OUT" in /*) ;; *) OUT="$PWD/$OUT" ;; esac
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# A runner that crashes or fails without saying which test did is a failure
# of its own: exit codes are checked, not only the PASS/FAIL lines.
"$OUT/unit_tests" 2>&1 | grep -v -E '^[0-9]+ passed, [0-9]+ failed' | tee -a "$log"
[ "${PIPESTATUS[0]}" -eq 0 ] || unit_rc=1
# The source checks that need no build: one PASS/FAIL line each.
python3 tests/unit/headers_narrow.py 2>&1 | tee -a "$log"
[ "${PIPESTATUS[0]}" -eq 0 ] || unit_rc=1
TCPTRAIL="$OUT/tcptrail" python3 tests/integration/run.py "$@" 2>&1 | tee -a "$log"
[ "${PIPESTATUS[0]}" -eq 0 ] || integration_rc=1
# A short fuzzing pass over the recording reader, the command line and the
# writers (make fuzz runs longer ones).
if [ "${FUZZ:-1}" != 0 ] && [ $# -eq 0 ]; then
	fuzzlog=$(mktemp)
	if make --no-print-directory fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-15}" >"$fuzzlog" 2>&1; then
		sed -n 's#^fuzz_\([a-z]*\): \(.*\)#PASS fuzz/\1 (\2)#p' "$fuzzlog" | tee -a "$log"
	else
		echo "FAIL fuzz: $(tail -n 20 "$fuzzlog" | tr '\n' ' ')" | tee -a "$log"
	fi
	rm -f "$fuzzlog"
fi
# The kernel matrix: the same scenarios inside each supported kernel.
if [ "${VMTEST:-1}" != 0 ] && [ $# -eq 0 ]; then
	OUT="$OUT" bash tests/vm/run.sh 2>&1 | tee -a "$log"
	[ "${PIPESTATUS[0]}" -eq 0 ] || vm_rc=1
fi

passed=$(grep -c '^PASS ' "$log")
failed=$(grep -c '^FAIL ' "$log")
skipped=$(grep -c '^SKIP ' "$log")
if [ -n "${unit_rc:-}" ] && ! grep -q '^FAIL unit/' "$log"; then
	failed=$((failed + 1))
	echo "FAIL unit: the unit test binary exited abnormally"
fi
if [ -n "${integration_rc:-}" ] && ! grep -q '^FAIL integration/' "$log"; then
	failed=$((failed + 1))
	echo "FAIL integration: the runner exited abnormally"
fi
if [ -n "${vm_rc:-}" ] && ! grep -q '^FAIL vm' "$log"; then
	failed=$((failed + 1))
	echo "FAIL vm: the kernel matrix exited abnormally"
fi
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
