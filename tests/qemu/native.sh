#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# native.sh OUTDIR: cross-builds vdsoscope (and tests/test-api) for arm64,
# static, against a private sysroot of Debian's arm64 elfutils, libunwind
# and compression libraries, and runs it inside Debian's arm64 kernel under
# qemu with tests/qemu/native/init.c as /init: info and symbols on its own
# vDSO, test-api, backtrace --pid, verify --pid and profile --pid of
# tests/qemu/native/spin.c.  Two boots, a CPU without pointer authentication
# (OUTDIR/nopac) and one with it (OUTDIR/pac); the outputs are brought back
# over the serial console, to be judged by tests/run-qemu-native.sh.
# Exit status: 0 done, 1 failure, 77 skip (the reason on stderr's last line).
#
# The sysroot is kept in $cache/arm64-sysroot, the kernel in
# $cache/arm64-kernel (cache: ${VDSOSCOPE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vdsoscope}).
# The sources come from `make distdir` in $VDSOSCOPE_BUILDDIR (default: the
# top of the source tree, configured).  QEMU_TIMEOUT (seconds, default 150)
# bounds each boot.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
out=$1
builddir=${VDSOSCOPE_BUILDDIR:-$top}

skip() { echo "SKIP: $*" >&2; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }

cache=${VDSOSCOPE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vdsoscope}
kdir=$cache/arm64-kernel
sysroot=$cache/arm64-sysroot
timeout_s=${QEMU_TIMEOUT:-150}
t=aarch64-linux-gnu
cc="${CROSS_CC:-clang} --target=$t"
libs="libelf1 libelf-dev libdw1 libdw-dev zlib1g zlib1g-dev liblzma5 liblzma-dev libbz2-1.0
      libbz2-dev libzstd1 libzstd-dev libunwind8 libunwind-dev"

command -v qemu-system-aarch64 > /dev/null || skip "no qemu-system-aarch64 (package qemu-system-arm)"
for c in timeout python3 make "${CROSS_CC:-clang}"; do
	command -v "$c" > /dev/null || skip "no $c"
done
command -v $t-ld > /dev/null || skip "no $t-ld (package binutils-$t)"
[ -f /usr/$t/include/stdio.h ] || skip "no /usr/$t/include (package libc6-dev-arm64-cross)"
ls /usr/lib/gcc-cross/$t/*/libgcc.a > /dev/null 2>&1 || skip "no libgcc for $t (package libgcc-12-dev-arm64-cross)"
[ -f "$builddir/Makefile" ] || skip "no configured tree at $builddir for make distdir (set VDSOSCOPE_BUILDDIR)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vdsoscope-native.XXXXXX")
qemu_pids=""
cleanup() {
	local p
	for p in $qemu_pids; do kill "$p" 2> /dev/null; done
	wait 2> /dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# ---- arm64 packages, downloaded once ----
need_arch() {
	dpkg --print-foreign-architectures | grep -qx arm64 && return
	[ "$(id -u)" = 0 ] || skip "arm64 is no dpkg architecture here (dpkg --add-architecture arm64 as root)"
	dpkg --add-architecture arm64 || skip "dpkg --add-architecture arm64 failed"
	apt-get update -qq > "$tmp/apt.log" 2>&1
	rc=$?
	# another foreign index failing its size check makes this exit 100
	[ $rc = 0 ] || [ $rc = 100 ] || skip "apt-get update failed ($rc)"
}
download() { # DIR PKG...
	local d=$1
	shift
	mkdir -p "$d" && chmod 777 "$d"
	(cd "$d" && apt-get download -q "$@" > "$tmp/apt.log" 2>&1) ||
		skip "apt-get download $*: $(tail -n1 "$tmp/apt.log")"
}
command -v apt-get > /dev/null && command -v dpkg-deb > /dev/null ||
	{ [ -f "$sysroot/done" ] && [ -s "$kdir/vmlinuz" ] || skip "no apt-get/dpkg-deb for the arm64 packages"; }
if [ ! -f "$sysroot/done" ]; then
	need_arch
	download "$tmp/sr" $(for p in $libs; do echo "$p:arm64"; done)
	rm -rf "$sysroot.new"
	for d in "$tmp"/sr/*.deb; do
		dpkg-deb -x "$d" "$sysroot.new" || fail "dpkg-deb -x $d"
	done
	touch "$sysroot.new/done"
	rm -rf "$sysroot"
	mv "$sysroot.new" "$sysroot"
fi
if [ ! -s "$kdir/vmlinuz" ]; then
	need_arch
	pkg=$(apt-cache pkgnames linux-image- 2> /dev/null |
		grep -E '^linux-image-[0-9.]+-[0-9]+-cloud-arm64-unsigned$' | sort -V | tail -n1)
	[ -n "$pkg" ] || skip "the registry has no linux-image-*-cloud-arm64-unsigned"
	download "$tmp/k" "$pkg:arm64"
	dpkg-deb -x "$tmp"/k/*.deb "$tmp/k/x" || fail "dpkg-deb -x $pkg"
	mkdir -p "$kdir"
	cp "$tmp"/k/x/boot/vmlinuz-* "$kdir/vmlinuz.new" || fail "no vmlinuz in $pkg"
	basename "$tmp"/k/x/boot/vmlinuz-* | sed 's/^vmlinuz-//' > "$kdir/version"
	mv "$kdir/vmlinuz.new" "$kdir/vmlinuz"
fi
kver=$(cat "$kdir/version" 2> /dev/null)
echo "kernel: $kver; sysroot: $sysroot"

# ---- vdsoscope for arm64, static ----
start=$(date +%s)
lib=$sysroot/usr/lib/$t
make -C "$builddir" --no-print-directory distdir distdir="$tmp/src" > "$tmp/build.log" 2>&1 ||
	{ tail -n 20 "$tmp/build.log" >&2; fail "make distdir in $builddir"; }
(cd "$tmp/src" && ./configure --quiet --host=$t CC="$cc" \
	CPPFLAGS="-I$sysroot/usr/include -I$sysroot/usr/include/$t" LDFLAGS="-L$lib" \
	PKG_CONFIG_LIBDIR="$lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$sysroot" \
	--enable-static --disable-shared --disable-gdb-reader --without-debuginfod &&
	make -j"$(nproc)" --no-print-directory tools/vdsoscope tests/test-api \
		AM_LDFLAGS=-all-static LIBS="-lbz2 -llzma -lzstd -lz") >> "$tmp/build.log" 2>&1 ||
	{ grep -E 'error|undefined' "$tmp/build.log" | head -n 20 >&2; fail "the cross build of vdsoscope"; }
mkdir -p "$tmp/root"
cp "$tmp/src/tools/vdsoscope" "$tmp/src/tests/test-api" "$tmp/root/" || fail "no vdsoscope or test-api built"
file "$tmp/root/vdsoscope" 2> /dev/null | grep -q 'statically linked' ||
	{ command -v file > /dev/null && fail "vdsoscope is not a static program"; }
warn="-Wall -Wextra -Wno-unused-parameter"
$cc -static -O2 $warn -o "$tmp/root/init" "$here/native/init.c" 2> "$tmp/cc.log" &&
	$cc -mbranch-protection=standard -static -O0 -g $warn -o "$tmp/root/spin" "$here/native/spin.c" \
		2>> "$tmp/cc.log" || { cat "$tmp/cc.log" >&2; fail "cross build of the guest programs"; }
echo "build: $(($(date +%s) - start)) s"
python3 "$here/initramfs.py" "$tmp/root" "$tmp/initramfs.cpio" || fail "initramfs"

# ---- two boots, side by side ----
boot() { # NAME CPU
	timeout -k 5 "$timeout_s" qemu-system-aarch64 -M virt -cpu "$2" -m 512 -smp 1 \
		-display none -monitor none -serial "file:$tmp/$1.log" -nic none -no-reboot \
		-kernel "$kdir/vmlinuz" -initrd "$tmp/initramfs.cpio" \
		-append 'console=ttyAMA0 rdinit=/init panic=-1 quiet' < /dev/null > "$tmp/$1.qemu" 2>&1
	echo $? > "$tmp/$1.rc"
}
start=$(date +%s)
boot nopac cortex-a57 &
qemu_pids="$qemu_pids $!"
boot pac max &
qemu_pids="$qemu_pids $!"
wait
qemu_pids=""
echo "boots: $(($(date +%s) - start)) s"

status=0
for v in nopac pac; do
	rc=$(cat "$tmp/$v.rc")
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		echo "FAIL: the $v guest did not power off within ${timeout_s}s; its console ends:" >&2
		tail -n 5 "$tmp/$v.log" | cut -c1-160 >&2
		status=1
		continue
	fi
	rm -rf "${out:?}/$v"
	mkdir -p "$out/$v"
	if ! python3 "$here/console.py" "$tmp/$v.log" "$out/$v"; then
		echo "FAIL: $v: qemu exit $rc; console ends:" >&2
		grep -v '^[A-Za-z0-9+/=]*$' "$tmp/$v.log" | tail -n 8 | cut -c1-160 >&2
		cat "$tmp/$v.qemu" >&2
		status=1
		continue
	fi
	cp "$tmp/root/spin" "$tmp/root/vdsoscope" "$out/$v/"
	echo "$kver" > "$out/$v/kernel"
done
exit $status
