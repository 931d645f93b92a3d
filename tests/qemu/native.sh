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
# top of the source tree, configured).  QEMU_TIMEOUT (seconds, default 240)
# bounds each boot.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
out=$1
builddir=${VDSOSCOPE_BUILDDIR:-$top}

timeout_s=${QEMU_TIMEOUT:-240}
. "$here/common.sh"
sysroot=$cache/arm64-sysroot
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

qemu_scratch vdsoscope-native

# ---- arm64 packages, downloaded once ----
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
arm64_kernel
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

boot_both
collect_both "$tmp/root/spin" "$tmp/root/vdsoscope"

