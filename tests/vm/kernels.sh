#!/usr/bin/env bash
# Fetch the kernel matrix: Debian's cloud kernels, each unpacked once into a
# cache that outlives the checkout. Prints one line per kernel:
#   <name> <arch> <vmlinuz> <modules dir> <package>=<version>
# Each suite is read through a private apt state whose mirror is the one
# this machine's own apt sources name: nothing here names a host.
# Env: VMTEST_KERNELS (names to fetch; default all), VMTEST_CACHE,
# VMTEST_REFRESH=1 (read the suites' package lists again: newer kernels).
set -euo pipefail
CACHE=${VMTEST_CACHE:-/var/cache/tcptrail-vmtest}
mkdir -p "$CACHE"
cd "$CACHE"

# name  arch  suite  image package (a regular expression: the newest match)
# From 6.19 on, Debian's linux-image-* is empty: the kernel is in
# linux-binary-* (vmlinuz under /usr/lib/modules/VERSION/), its modules in
# linux-modules-*, its config in linux-base-*, all three its dependencies.
MATRIX='5.10 amd64 bullseye linux-image-5\.10\.0-[0-9]+-cloud-amd64
6.1 amd64 bookworm linux-image-6\.1\.0-[0-9]+-cloud-amd64
6.12 amd64 trixie linux-image-6\.12\.[0-9]+\+deb13-cloud-amd64
6.18 amd64 trixie-backports linux-image-6\.18\.[0-9]+\+deb13-cloud-amd64
7.x amd64 trixie-backports linux-image-7\.[0-9]+\.[0-9]+\+deb13-cloud-amd64
6.12-arm64 arm64 trixie linux-image-6\.12\.[0-9]+\+deb13-cloud-arm64'

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

# apt-get or apt-cache ($2) with the private state of one suite.
apt_suite() {
	local st="$CACHE/apt-$1" cmd=$2
	shift 2
	"$cmd" -o Dir::Etc::sourcelist="$st/sources.list" -o Dir::Etc::sourceparts=- \
		-o Dir::State::Lists="$st/lists" -o Dir::Cache="$st/cache" \
		-o Dir::State::status=/dev/null -o APT::Sandbox::User=root \
		-o APT::Architectures::=amd64 -o APT::Architectures::=arm64 "$@"
}

# Read a suite's package lists: once, or again when asked ($2 = refresh).
suite_lists() {
	local suite=$1 st="$CACHE/apt-$1" mirror
	[ -f "$st/lists/.updated" ] && [ "${2:-}" != refresh ] && return
	mirror=$(host_mirror)
	[ -n "$mirror" ] || { echo "vmtest: no Debian mirror in this machine's apt sources" >&2; exit 1; }
	mkdir -p "$st/lists/partial" "$st/cache/archives/partial"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" \
		> "$st/sources.list"
	apt_suite "$suite" apt-get -qq update >&2
	touch "$st/lists/.updated"
}

# The newest package of a suite whose whole name matches a pattern.
newest() {
	apt_suite "$1" apt-cache pkgnames "${2%%[\\[]*}" | grep -E "^$2\$" | sort -V | tail -n 1
}

# Download an image package and the kernel packages it depends on (its
# binary, modules and base from 6.19 on) and unpack them into dir.
fetch_kernel() {
	local suite=$1 arch=$2 image=$3 dir=$4 rel pkgs
	rel=${image#linux-image-}
	pkgs="$image $(apt_suite "$suite" apt-cache depends "$image:$arch" 2>/dev/null |
		awk -v rel="$rel" '$1 ~ /Depends:/ && $2 ~ "^linux-(binary|modules|base)-" {
			sub(/:.*/, "", $2); if (substr($2, length($2) - length(rel) + 1) == rel) print $2 }' |
		sort -u | tr '\n' ' ')"
	rm -rf "$dir.tmp" && mkdir -p "$dir.tmp/root"
	(cd "$dir.tmp" && apt_suite "$suite" apt-get -qq download $(printf "%s:$arch " $pkgs) >&2) ||
		return 1
	for deb in "$dir.tmp"/*.deb; do dpkg-deb -x "$deb" "$dir.tmp/root"; done
	echo "$image=$(dpkg-deb -f "$dir.tmp/${image}_"*.deb Version)" > "$dir.tmp/root/.done"
	rm -rf "$dir" && mv "$dir.tmp/root" "$dir" && rm -rf "$dir.tmp"
}

shopt -s nullglob
declare -A refreshed
while read -r name arch suite pattern; do
	[ -n "${VMTEST_KERNELS:-}" ] && [[ " $VMTEST_KERNELS " != *" $name "* ]] && continue
	if [ "${VMTEST_REFRESH:-0}" = 1 ] && [ -z "${refreshed[$suite]:-}" ]; then
		suite_lists "$suite" refresh
		refreshed[$suite]=1
	else
		suite_lists "$suite"
	fi
	image=$(newest "$suite" "$pattern" || true)
	[ -n "$image" ] || { echo "vmtest: no package in $suite matches $pattern" >&2; exit 1; }
	if ! grep -qs "^$image=" "$name/.done"; then
		# lists read long ago may name packages the mirror has dropped
		if ! fetch_kernel "$suite" "$arch" "$image" "$name"; then
			suite_lists "$suite" refresh
			image=$(newest "$suite" "$pattern" || true)
			fetch_kernel "$suite" "$arch" "$image" "$name" ||
				{ echo "vmtest: cannot download $image" >&2; exit 1; }
		fi
	fi
	found=("$CACHE/$name"/boot/vmlinuz-* "$CACHE/$name"/usr/lib/modules/*/vmlinuz)
	vmlinuz=${found[0]:-}
	found=("$CACHE/$name"/lib/modules/* "$CACHE/$name"/usr/lib/modules/*)
	mods=${found[0]:-}
	[ -n "$vmlinuz" ] && [ -n "$mods" ] ||
		{ echo "vmtest: $name ($image) has no vmlinuz or modules" >&2; exit 1; }
	echo "$name $arch $vmlinuz $mods $(cat "$name/.done")"
done <<<"$MATRIX"
