#!/usr/bin/env bash
# The programs a matrix VM of another architecture runs besides tcptrail
# (busybox, python3, iproute2) and the libraries they load: that
# architecture's Debian packages, the same versions this machine runs,
# downloaded through its own apt (multiarch) and unpacked into a directory
# of the cache, which is printed. For this machine's architecture it is /.
# Usage: userland.sh ARCH   (a Debian architecture: amd64, arm64)
set -euo pipefail
arch=$1
if [ "$arch" = "$(dpkg --print-architecture)" ]; then
	echo /
	exit 0
fi
CACHE=${VMTEST_CACHE:-/var/cache/tcptrail-vmtest}
dir=$CACHE/userland-$arch
py=$(python3 -c 'import sys; print("python%d.%d" % sys.version_info[:2])')
# what the guest runs, and everything those packages depend on in $arch
roots="busybox-static:$arch $py-minimal:$arch lib$py-stdlib:$arch iproute2:$arch"
pkgs=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
	--no-breaks --no-replaces --no-enhances $roots 2>/dev/null |
	grep -E "^[a-z0-9][^ ]*:$arch\$" | sort -u || true)
if [ -z "$pkgs" ]; then
	echo "vmtest: apt knows no $arch packages (make vmdeps adds the architecture)" >&2
	exit 1
fi
# the exact files apt would fetch: the cache is kept while they stay the same
want=$(apt-get download --print-uris $pkgs | awk '{print $2}' | sort)
if [ "$(cat "$dir/.debs" 2>/dev/null)" != "$want" ]; then
	rm -rf "$dir.tmp" && mkdir -p "$dir.tmp/debs" "$dir.tmp/root"
	(cd "$dir.tmp/debs" && apt-get -qq -o APT::Sandbox::User=root download $pkgs >&2)
	for deb in "$dir.tmp"/debs/*.deb; do dpkg-deb -x "$deb" "$dir.tmp/root"; done
	echo "$want" > "$dir.tmp/root/.debs"
	rm -rf "$dir" && mv "$dir.tmp/root" "$dir" && rm -rf "$dir.tmp"
fi
echo "$dir"
