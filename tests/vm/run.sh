#!/usr/bin/env bash
# The kernel matrix: boot each of Debian's kernels under qemu (TCG: no KVM
# needed), x86-64 and arm64, run the selected integration tests inside
# against real loopback and veth traffic, and print their PASS/FAIL lines
# as vm-<kernel>/<test>. The host's own kernel is measured too (vm-host).
# Each kernel leaves its row of the kernel table; the rows make
# $OUT/kernels.md, which must agree with the committed docs/kernels.md.
# Env: OUT (build dir), OUT_ARM64 (the arm64 build), VMTEST_KERNELS
# ("5.10 6.1" ...; "host" for this machine's kernel), VMTEST_SELECT and
# VMTEST_SELECT_ARM64 (test substrings), VMTEST_CMD (a command to run
# instead, for debugging), VMTEST_TIMEOUT (seconds per VM).
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-build}
case "$OUT" in /*) ;; *) OUT="$PWD/$OUT" ;; esac
OUT_ARM64=${OUT_ARM64:-build-arm64}
# Which programs load and what the kernel lacks; every history scenario of
# the core suite, a leak with its owner, the one-shot report, listener
# records and an accept-queue alert, and the containers scenario (the
# socket's cgroup layout differs before 5.15), and the accept-wait and
# keepalive scenarios (syscall tracepoints, socket timers), and a slow
# reader's delivery facts against ss (tcp_sock's fields and chrono counters).
DEFAULT_SELECT="programs/ core/client_closes_first core/ipv6_loopback core/server_closes_first
core/rst_abort core/connection_refused core/simultaneous_close core/handshake_timeout
core/connection_before_start leaks/leaky_server_named_with_fds leaks/leak_found_by_snapshot
listen/accept_queue_overflow_matches_listen_drops
containers/connections_leaks_and_listeners_name_their_container
phases/accept_wait_names_the_acceptor phases/keepalive_detects_a_vanished_peer
delivery/slow_reader_is_receiver_limited"
SELECT=${VMTEST_SELECT:-$DEFAULT_SELECT}
SELECT_ARM64=${VMTEST_SELECT_ARM64:-$SELECT}
rows=$OUT/vmtest-rows.jsonl
: > "$rows"
rc=0

wanted() { [ -z "${VMTEST_KERNELS:-}" ] || [[ " $VMTEST_KERNELS " == *" $1 "* ]]; }

# One row of the table, with what only this side knows added.
add_row() { # name arch package=version wall_seconds row.json
	python3 - "$@" >>"$rows" <<-'EOF'
	import json, sys
	name, arch, pkg, wall, path = sys.argv[1:]
	row = json.load(open(path))
	row.update(name=name, arch=arch, package=pkg, wall_s=int(wall))
	print(json.dumps(row, sort_keys=True))
	EOF
}

# This machine's kernel first: no VM, the programs test that writes its row
# (the host suite runs the rest).
if wanted host && [ -z "${VMTEST_CMD:-}" ]; then
	start=$(date +%s)
	rm -f "$OUT/vmtest-host.json"
	TCPTRAIL="$OUT/tcptrail" TCPTRAIL_ROW="$OUT/vmtest-host.json" \
		python3 tests/integration/run.py programs/every_program_loads >"$OUT/vmtest-host.log" 2>&1 || rc=1
	sed -n 's#^\(PASS\|FAIL\|SKIP\) integration/#\1 vm-host/#p' "$OUT/vmtest-host.log"
	[ -s "$OUT/vmtest-host.json" ] && add_row host "$(dpkg --print-architecture)" - \
		$(($(date +%s) - start)) "$OUT/vmtest-host.json"
fi

if ! kernels=$(bash tests/vm/kernels.sh); then
	echo "FAIL vm: the kernel matrix could not be fetched"
	exit 1
fi
for arch in amd64 arm64; do
	grep -q "^[^ ]* $arch " <<<"$kernels" || continue
	case $arch in
	amd64) bin=$OUT/tcptrail sel=$SELECT ;;
	arm64) bin=$OUT_ARM64/tcptrail sel=$SELECT_ARM64 ;;
	esac
	rm -f "$OUT/vmtest-$arch.cpio"	# never boot an older image
	if [ ! -x "$bin" ]; then
		echo "FAIL vm-$arch: no tcptrail built for $arch at $bin (make vmtest builds it)"
		rc=1
		continue
	fi
	if ! grep "^[^ ]* $arch " <<<"$kernels" |
		VMTEST_SELECT=$sel bash tests/vm/initramfs.sh "$arch" "$OUT/vmtest-$arch.cpio" "$bin"; then
		echo "FAIL vm-$arch: the initramfs could not be built"
		rc=1
	fi
done

while read -r name arch vmlinuz _ pkg; do
	[ -n "$name" ] && [ -s "$OUT/vmtest-$arch.cpio" ] || continue
	log=$OUT/vmtest-$name.log
	case $arch in
	amd64) qemu="qemu-system-x86_64" console=ttyS0 ;;
	# neoverse-n1: no pointer authentication, which TCG emulates slowly
	arm64) qemu="qemu-system-aarch64 -M virt -cpu neoverse-n1" console=ttyAMA0 ;;
	esac
	start=$(date +%s)
	timeout "${VMTEST_TIMEOUT:-900}" $qemu -accel tcg -m 1536 -smp 2 \
		-nographic -nic none -no-reboot -kernel "$vmlinuz" -initrd "$OUT/vmtest-$arch.cpio" \
		-append "console=$console quiet panic=-1" </dev/null >"$log" 2>&1
	wall=$(($(date +%s) - start))
	tr -d '\r' <"$log" > "$log.txt"
	sed -n -e "s#^\(PASS\|FAIL\|SKIP\) integration/#\1 vm-$name/#p" \
		-e "/TCPTRAIL-VM-BEGIN/,/^TCPTRAIL-VM-END/{/^\(PASS\|FAIL\|SKIP\)\|TCPTRAIL-/!s#^#vm-$name: #p}" \
		"$log.txt"
	if ! grep -q '^TCPTRAIL-VM-END rc=0' "$log.txt"; then
		rc=1
		if ! grep -q '^TCPTRAIL-VM-END' "$log.txt"; then
			echo "FAIL vm-$name: the VM did not finish its tests after $wall s; its console is in $log, ending:"
			# what the kernel said last (a panic, a hang, qemu's error) is
			# the only evidence a CI log keeps of a VM that stopped early
			tail -n 25 "$log.txt" | sed "s#^#vm-$name console: #"
		fi
	fi
	sed -n 's/.*TCPTRAIL-ROW //p' "$log.txt" > "$OUT/vmtest-$name.json"
	# a console line can be cut by the kernel's own messages: say so
	# rather than leave only the table's "not in this run"
	if [ -s "$OUT/vmtest-$name.json" ]; then
		if ! err=$(add_row "$name" "$arch" "$pkg" "$wall" "$OUT/vmtest-$name.json" 2>&1); then
			echo "FAIL vm-$name: its kernel-table row is not JSON ($(tail -n 1 <<<"$err")): $(head -c 300 "$OUT/vmtest-$name.json")"
			rc=1
		fi
	elif grep -q '^TCPTRAIL-VM-END' "$log.txt" &&
		grep -q 'PASS integration/programs/every_program_loads' "$log.txt"; then
		echo "FAIL vm-$name: the programs test passed, but its kernel-table row never reached the console"
		rc=1
	fi
	rm -f "$log.txt"
	echo "vm-$name: $wall s"
done <<<"$kernels"

# The table: docs/kernels.md with this run's table goes to $OUT/kernels.md,
# and the two tables are compared when every kernel ran the whole selection
# (make kernels-table rewrites the committed one).
if [ -z "${VMTEST_KERNELS:-}${VMTEST_CMD:-}" ] && [ "$SELECT" = "$DEFAULT_SELECT" ]; then
	python3 tests/vm/table.py "$rows" docs/kernels.md "$OUT/kernels.md" || rc=1
fi
exit $rc
