#!/usr/bin/env bash
# Build the matrix's initramfs for one architecture: busybox, a tcptrail
# built for it, the integration tests and what they run (python3,
# iproute2), the shared libraries all of those load, and each kernel's
# modules for veth and sock_diag. One image serves every kernel of that
# architecture; /init picks the modules of the kernel it runs on.
# Usage: initramfs.sh ARCH OUT TCPTRAIL < kernels   (kernels.sh lines of ARCH)
set -euo pipefail
arch=$1 out=$2 tcptrail=$3
top=$(cd "$(dirname "$0")/../.." && pwd)
case $arch in
amd64) triplet=x86_64-linux-gnu ;;
arm64) triplet=aarch64-linux-gnu ;;
*) echo "vmtest: no initramfs for $arch" >&2; exit 1 ;;
esac
# where that architecture's programs come from: / for this machine's own
sys=$(bash "$top/tests/vm/userland.sh" "$arch")
sys=${sys%/}
py=$(python3 -c 'import sys; print("python%d.%d" % sys.version_info[:2])')
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{usr/bin,usr/sbin,usr/lib/$triplet,usr/lib64,bbin,proc,sys,dev,tmp,run,etc,tcptrail/build}
for d in bin sbin lib lib64; do ln -s "usr/$d" "$root/$d"; done

# Every shared library an ELF file loads, found the way the loader would
# (its multiarch directories, in the unpacked packages first, then this
# machine's multiarch libraries, which hold what tcptrail was linked
# against), and installed where the loader looks. Read from the ELF
# headers, not by running ldd, so that it works for any architecture.
libdirs="$sys/lib/$triplet $sys/usr/lib/$triplet /lib/$triplet /usr/lib/$triplet"
# The file a path names, following links inside the unpacked packages
# (theirs are absolute: /sbin/ip -> /bin/ip).
real() {
	local p=$1 t n=0
	while [ -L "$p" ] && [ $((n += 1)) -lt 40 ]; do
		t=$(readlink "$p")
		case $t in /*) p=$sys$t ;; *) p=$(dirname "$p")/$t ;; esac
	done
	readlink -f "$p"
}
libs_of() {
	local f=$1 lib dir interp
	interp=$(readelf -l "$f" | sed -n 's/.*Requesting program interpreter: \(.*\)\]/\1/p')
	if [ -n "$interp" ] && [ ! -e "$root$interp" ]; then
		install -D -m 0755 "$(real "$sys$interp")" "$root$interp"
	fi
	for lib in $(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		[ -e "$root/usr/lib/$triplet/$lib" ] && continue
		for dir in $libdirs ''; do [ -e "$dir/$lib" ] && break; done
		[ -n "$dir" ] || { echo "vmtest: $f needs $lib, not found for $arch" >&2; exit 1; }
		install -m 0755 "$(real "$dir/$lib")" "$root/usr/lib/$triplet/$lib"
		libs_of "$dir/$lib"
	done
}
need() {
	local f
	f=$(real "$1")
	install -D -m 0755 "$f" "$root$2"
	libs_of "$f"
}
# a program of that architecture, wherever its package put it
program() {
	local d
	for d in usr/sbin usr/bin sbin bin; do
		[ -f "$sys/$d/$1" ] && { echo "$sys/$d/$1"; return; }
	done
	echo "vmtest: no $1 for $arch" >&2
	exit 1
}

need "$(program busybox)" /bbin/busybox
need "$(program "$py")" "/usr/bin/$py"
ln -s "$py" "$root/usr/bin/python3"
for tool in ip ss nstat; do need "$(program "$tool")" "/usr/bin/$tool"; done
need "$tcptrail" /tcptrail/build/tcptrail

# The standard library without what tests never import.
(cd "$sys/usr/lib" && tar --exclude="$py/test" --exclude="$py/idlelib" \
	--exclude="$py/tkinter" --exclude="$py/ensurepip" \
	--exclude="$py/lib2to3" --exclude="$py/turtledemo" \
	--exclude="$py/pydoc_data" --exclude="$py/distutils" \
	--exclude="$py/config-*" --exclude="$py/site-packages" \
	--exclude="$py/dist-packages" -cf - "$py") | tar -C "$root/usr/lib" -xf -
for so in "$root/usr/lib/$py"/lib-dynload/*.so; do libs_of "$so"; done

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
while read -r name _ vmlinuz mods _; do
	dest="$root/modules/$(basename "$mods")"
	mkdir -p "$dest"
	: > "$dest/load.list"
	# veth for namespaces; inet_diag and tcp_diag for ss and the sock_diag
	# fallback (a booted system loads them on demand)
	for m in veth inet_diag tcp_diag; do add_module "$mods" "$m" "$dest"; done
done

(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) > "$out.tmp"
mv "$out.tmp" "$out"
