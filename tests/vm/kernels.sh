#!/usr/bin/env bash
# Fetch the kernel matrix: Debian's cloud kernels, each unpacked once into a
# cache that outlives the checkout. Prints one line per kernel:
#   <name> <vmlinuz> <modules dir>
# The bullseye kernel comes through a private apt state whose mirror is the
# one this machine's own apt sources name: nothing here names a host.
set -euo pipefail
CACHE=${VMTEST_CACHE:-/var/cache/tcptrail-vmtest}
mkdir -p "$CACHE"
cd "$CACHE"

# The mirror of the first Debian source this machine uses (deb822 or
# one-line format).
host_mirror() {
	local f uri
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		uri=$(awk '/^URIs:/ && /debian\/?$/ {print $2; exit}' "$f")
		[ -n "$uri" ] && { echo "$uri"; return; }
	done
	awk '$1 == "deb" && $0 ~ /debian\/? / {for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) {print $i; exit}}' \
		/etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -n 1
}

# apt-get or apt-cache ($2) with the state of one suite of our own, or the
# machine's ("host").
apt_suite() {
	local suite=$1 cmd=$2; shift 2
	if [ "$suite" = host ]; then
		"$cmd" -o APT::Sandbox::User=root "$@"
		return
	fi
	local st="$CACHE/apt-$suite"
	"$cmd" -o Dir::Etc::sourcelist="$st/sources.list" -o Dir::Etc::sourceparts=- \
		-o Dir::State::Lists="$st/lists" -o Dir::Cache="$st/cache" \
		-o Dir::State::status=/dev/null -o APT::Sandbox::User=root "$@"
}

private_state() {
	local suite=$1 st="$CACHE/apt-$1" mirror
	[ -f "$st/lists/.updated" ] && return
	mirror=$(host_mirror)
	[ -n "$mirror" ] || { echo "vmtest: no Debian mirror in this machine's apt sources" >&2; exit 1; }
	mkdir -p "$st/lists/partial" "$st/cache/archives/partial"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" \
		> "$st/sources.list"
	apt_suite "$suite" apt-get -qq update >&2
	touch "$st/lists/.updated"
}

# name  suite  meta-package (resolved to the versioned image it depends on)
MATRIX="5.10 bullseye linux-image-cloud-amd64
6.1 host linux-image-cloud-amd64
6.12 host linux-image-6.12-cloud-amd64"

host_updated=
while read -r name suite meta; do
	[ -n "${VMTEST_KERNELS:-}" ] && ! grep -qw -- "$name" <<<"$VMTEST_KERNELS" && continue
	if [ ! -f "$name/.done" ]; then
		if [ "$suite" = host ]; then
			[ -n "$host_updated" ] || { apt-get -qq update >&2; host_updated=1; }
		else
			private_state "$suite"
		fi
		image=$(apt_suite "$suite" apt-cache depends "$meta" 2>/dev/null |
			awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
		[ -n "$image" ] || { echo "vmtest: cannot resolve $meta for $name" >&2; exit 1; }
		rm -rf "$name.tmp" && mkdir -p "$name.tmp"
		(cd "$name.tmp" && apt_suite "$suite" apt-get -qq download "$image" >&2)
		dpkg-deb -x "$name.tmp"/*.deb "$name.tmp/root"
		rm -rf "$name" && mv "$name.tmp/root" "$name" && rm -rf "$name.tmp"
		touch "$name/.done"
	fi
	echo "$name $(ls "$CACHE/$name"/boot/vmlinuz-*) $(ls -d "$CACHE/$name"/lib/modules/*)"
done <<<"$MATRIX"
