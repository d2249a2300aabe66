#!/usr/bin/env bash
# The kernel matrix: boot each of Debian's kernels under qemu (TCG: no KVM
# needed), run the selected integration tests inside against real loopback
# and veth traffic, and print their PASS/FAIL lines as vm-<kernel>/<test>.
# Env: OUT (build dir), VMTEST_KERNELS ("5.10 6.1" ...), VMTEST_SELECT
# (test substrings), VMTEST_CMD (a command to run instead, for debugging).
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-build}
# Every history scenario of the core suite, a leak with its owner, the
# one-shot report, listener records and an accept-queue alert, and the
# containers scenario (the socket's cgroup layout differs before 5.15), and
# the accept-wait and keepalive scenarios (syscall tracepoints, socket timers).
DEFAULT_SELECT="core/client_closes_first core/ipv6_loopback core/server_closes_first
core/rst_abort core/connection_refused core/simultaneous_close core/handshake_timeout
core/connection_before_start leaks/leaky_server_named_with_fds leaks/leak_found_by_snapshot
listen/accept_queue_overflow_matches_listen_drops
containers/connections_leaks_and_listeners_name_their_container
phases/accept_wait_names_the_acceptor phases/keepalive_detects_a_vanished_peer"
export VMTEST_SELECT=${VMTEST_SELECT:-$DEFAULT_SELECT}

if ! kernels=$(bash tests/vm/kernels.sh); then
	echo "FAIL vm: the kernel matrix could not be fetched"
	exit 1
fi
img=$OUT/vmtest.cpio
if ! bash tests/vm/initramfs.sh "$img" "$OUT" <<<"$kernels"; then
	echo "FAIL vm: the initramfs could not be built"
	exit 1
fi
rc=0
while read -r name vmlinuz _; do
	log=$OUT/vmtest-$name.log
	start=$(date +%s)
	timeout "${VMTEST_TIMEOUT:-900}" qemu-system-x86_64 -accel tcg -m 1536 -smp 2 \
		-nographic -nic none -no-reboot -kernel "$vmlinuz" -initrd "$img" \
		-append "console=ttyS0 quiet panic=-1" </dev/null >"$log" 2>&1
	tr -d '\r' <"$log" | sed -n -e "s#^\(PASS\|FAIL\|SKIP\) integration/#\1 vm-$name/#p" \
		-e "/TCPTRAIL-VM-BEGIN/,/^TCPTRAIL-VM-END/{/^\(PASS\|FAIL\|SKIP\)\|TCPTRAIL-VM/!s#^#vm-$name: #p}"
	if ! grep -q '^TCPTRAIL-VM-END rc=0' <(tr -d '\r' <"$log"); then
		rc=1
		grep -q '^TCPTRAIL-VM-END' <(tr -d '\r' <"$log") ||
			echo "FAIL vm-$name: the VM did not finish its tests; its console is in $log"
	fi
	echo "vm-$name: $(($(date +%s) - start)) s"
done <<<"$kernels"
exit $rc
