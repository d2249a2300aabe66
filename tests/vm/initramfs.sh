#!/usr/bin/env bash
# Build the matrix's initramfs: busybox, the built tcptrail, the integration
# tests and what they run (python3, iproute2), the shared libraries all of
# those need, and each kernel's modules for veth. One image serves every
# kernel of the matrix; /init picks the modules of the kernel it runs on.
# Usage: initramfs.sh OUT BUILD_DIR < kernels   (lines from kernels.sh)
set -euo pipefail
out=$1 build=$2
top=$(cd "$(dirname "$0")/../.." && pwd)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{usr/bin,usr/sbin,usr/lib,usr/lib64,bbin,proc,sys,dev,tmp,run,etc,tcptrail/build}
for d in bin sbin lib lib64; do ln -s "usr/$d" "$root/$d"; done

# Every shared library f loads, at the paths the loader uses.
libs_of() {
	local f=$1 lib
	for lib in $(ldd "$f" 2>/dev/null | grep -oE '/[^ ]+' || true); do
		[ -e "$root$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
	done
}
need() {
	install -D -m 0755 "$1" "$root${2:-$1}"
	libs_of "$1"
}

cp /bin/busybox "$root/bbin/busybox"
need /usr/bin/python3.11
ln -s python3.11 "$root/usr/bin/python3"
for tool in /usr/sbin/ip /usr/bin/ss /usr/bin/nstat; do need "$tool"; done
need "$build/tcptrail" /tcptrail/build/tcptrail

# The standard library without what tests never import.
(cd /usr/lib && tar --exclude='python3.11/test' --exclude='python3.11/idlelib' \
	--exclude='python3.11/tkinter' --exclude='python3.11/ensurepip' \
	--exclude='python3.11/lib2to3' --exclude='python3.11/turtledemo' \
	--exclude='python3.11/pydoc_data' --exclude='python3.11/distutils' \
	--exclude='python3.11/config-*' --exclude='python3.11/site-packages' \
	--exclude='python3.11/dist-packages' -cf - python3.11) | tar -C "$root/usr/lib" -xf -
for so in "$root"/usr/lib/python3.11/lib-dynload/*.so; do libs_of "$so"; done

mkdir -p "$root/tcptrail/tests"
cp -r "$top/tests/integration" "$root/tcptrail/tests/"
rm -rf "$root/tcptrail/tests/integration/__pycache__"
install -m 0755 "$top/tests/vm/init" "$root/init"
printf '%s\n' "${VMTEST_SELECT:-}" > "$root/tcptrail/selected"
[ -z "${VMTEST_CMD:-}" ] || printf '%s\n' "$VMTEST_CMD" > "$root/tcptrail/command"

# Modules: each with its dependencies first, decompressed (busybox's insmod
# reads plain .ko files).
module_file() { find "$1" -name "$2.ko" -o -name "$2.ko.xz" | head -n 1; }
add_module() {
	local mods=$1 name=$2 dest=$3 f dep
	grep -qx "$name" "$dest/load.list" 2>/dev/null && return
	f=$(module_file "$mods" "$name")
	[ -n "$f" ] || { echo "vmtest: module $name missing in $mods" >&2; exit 1; }
	case $f in *.xz) xz -dc "$f" > "$dest/$name.ko" ;; *) cp "$f" "$dest/$name.ko" ;; esac
	for dep in $(strings "$dest/$name.ko" | sed -n 's/^depends=//p' | tr ',' ' '); do
		add_module "$mods" "$dep" "$dest"
	done
	echo "$name" >> "$dest/load.list"
}
while read -r name vmlinuz mods; do
	dest="$root/modules/$(basename "$mods")"
	mkdir -p "$dest"
	: > "$dest/load.list"
	# veth for namespaces; inet_diag and tcp_diag for ss and the sock_diag
	# fallback (a booted system loads them on demand)
	for m in veth inet_diag tcp_diag; do add_module "$mods" "$m" "$dest"; done
done

(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) > "$out.tmp"
mv "$out.tmp" "$out"
