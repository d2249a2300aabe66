#!/bin/sh
# Run an apt-get install so that no service a package brings is started or
# left enabled: the test suite needs servers' binaries (prometheus), never
# their daemons running on someone's machine.
#   sh tests/install-quietly.sh apt-get install -y PACKAGE...
# While it runs, /usr/sbin/policy-rc.d answers 101 ("action forbidden"), which
# invoke-rc.d and deb-systemd-invoke honour: postinst scripts start nothing.
# Afterwards every unit the install enabled (a new link under
# /etc/systemd/system/*.wants) is disabled again, and stopped if systemd runs.
# TT_POLICY_RC and TT_SYSTEMD_DIR move both places (the test suite's fakes).
set -u
policy=${TT_POLICY_RC:-/usr/sbin/policy-rc.d}
units=${TT_SYSTEMD_DIR:-/etc/systemd/system}
before=$(mktemp)
trap 'rm -f "$before"' EXIT
find "$units" -path '*.wants/*' 2>/dev/null | sort > "$before"
ours=""
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# tcptrail tests: no service starts while test packages install\nexit 101\n' > "$policy"
	chmod 0755 "$policy"
	ours=1
fi
"$@"
rc=$?
[ -n "$ours" ] && rm -f "$policy"
find "$units" -path '*.wants/*' 2>/dev/null | sort | comm -13 "$before" - | while read -r link; do
	unit=$(basename "$link")
	if command -v systemctl >/dev/null 2>&1 && [ -z "${TT_SYSTEMD_DIR:-}" ]; then
		[ -d /run/systemd/system ] && systemctl stop "$unit" 2>/dev/null
		systemctl disable "$unit" >/dev/null 2>&1
	fi
	rm -f "$link"	# what disable removes, where systemctl cannot
	echo "tcptrail: left $unit disabled and stopped (a test dependency's service)" >&2
done
exit $rc
