#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# arm64.sh OUTDIR: boots Debian's arm64 cloud kernel under qemu twice, on a
# CPU without pointer authentication (OUTDIR/nopac) and with it (OUTDIR/pac),
# with tests/qemu/guest/tracer.c as /init, and brings back its vDSO images,
# single-step traces, cores and expected stacks; then checks them (check.py).
# Exit status: 0 pass, 1 fail, 77 skip (no qemu, no arm64 kernel package, no
# cross toolchain); the reason is the one line on stderr.
#
# The kernel is kept in ${VDSOSCOPE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vdsoscope}/arm64-kernel.
# QEMU_TIMEOUT (seconds, default 240) bounds each boot.
set -u
here=$(cd "$(dirname "$0")" && pwd)
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
out=$1

timeout_s=${QEMU_TIMEOUT:-240}
. "$here/common.sh"

command -v qemu-system-aarch64 > /dev/null || skip "no qemu-system-aarch64 (package qemu-system-arm)"
command -v timeout > /dev/null || skip "no timeout"
command -v python3 > /dev/null || skip "no python3"
cc=${CROSS_CC:-clang}
command -v "$cc" > /dev/null || skip "no $cc for the cross builds"
for t in aarch64-linux-gnu arm-linux-gnueabihf; do
	command -v $t-ld > /dev/null || skip "no $t-ld (package binutils-$t)"
	[ -f /usr/$t/include/stdio.h ] || skip "no /usr/$t/include (package libc6-dev-${t#*-linux-gnu}-cross)"
	ls /usr/lib/gcc-cross/$t/*/libgcc.a > /dev/null 2>&1 || skip "no libgcc for $t (package libgcc-12-dev-*-cross)"
done

qemu_scratch vdsoscope-qemu
arm64_kernel
echo "kernel: $kver ($kdir/vmlinuz)"

# ---- the guest programs ----
warn="-Wall -Wextra -Wno-unused-parameter"
"$cc" --target=aarch64-linux-gnu -static -O2 $warn -o "$tmp/init" "$here/guest/tracer.c" 2> "$tmp/cc.log" &&
	"$cc" --target=aarch64-linux-gnu -mbranch-protection=standard -static -O0 -g $warn \
		-o "$tmp/child64" "$here/guest/child.c" 2>> "$tmp/cc.log" &&
	"$cc" --target=arm-linux-gnueabihf -march=armv7-a -mfpu=vfpv3-d16 -mfloat-abi=hard -marm \
		-static -O0 -g $warn -o "$tmp/child32" "$here/guest/child.c" 2>> "$tmp/cc.log" ||
	{ cat "$tmp/cc.log" >&2; fail "cross build of the guest programs"; }

mkdir -p "$tmp/root"
cp "$tmp/init" "$tmp/child64" "$tmp/child32" "$tmp/root/"
python3 "$here/initramfs.py" "$tmp/root" "$tmp/initramfs.cpio" || fail "initramfs"

boot_both
collect_both "$tmp/child64" "$tmp/child32" || exit 1
python3 "$here/check.py" "$out/nopac" "$out/pac"
