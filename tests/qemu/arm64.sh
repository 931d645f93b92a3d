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

skip() { echo "SKIP: $*" >&2; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }

cache=${VDSOSCOPE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vdsoscope}
kdir=$cache/arm64-kernel
want_pkg=linux-image-6.1.0-56-cloud-arm64-unsigned
timeout_s=${QEMU_TIMEOUT:-240}

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

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vdsoscope-qemu.XXXXXX")
qemu_pids=""
cleanup() {
	local p
	for p in $qemu_pids; do kill "$p" 2> /dev/null; done
	wait 2> /dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# ---- the kernel, downloaded once ----
fetch_kernel() {
	local pkg deb rc
	command -v apt-get > /dev/null && command -v dpkg-deb > /dev/null || skip "no apt-get/dpkg-deb to fetch the arm64 kernel"
	if ! dpkg --print-foreign-architectures | grep -qx arm64; then
		[ "$(id -u)" = 0 ] || skip "arm64 is no dpkg architecture here (dpkg --add-architecture arm64 as root)"
		dpkg --add-architecture arm64 || skip "dpkg --add-architecture arm64 failed"
		apt-get update -qq > "$tmp/apt.log" 2>&1
		rc=$?
		# another foreign index failing its size check makes this exit 100
		[ $rc = 0 ] || [ $rc = 100 ] || skip "apt-get update failed ($rc)"
	fi
	pick() {
		if apt-cache show "$want_pkg:arm64" > /dev/null 2>&1; then
			echo "$want_pkg"
		else
			apt-cache pkgnames linux-image- 2> /dev/null |
				grep -E '^linux-image-[0-9.]+-[0-9]+-cloud-arm64-unsigned$' | sort -V | tail -n1
		fi
	}
	pkg=$(pick)
	if [ -z "$pkg" ] && [ "$(id -u)" = 0 ]; then
		apt-get update -qq > "$tmp/apt.log" 2>&1
		pkg=$(pick)
	fi
	[ -n "$pkg" ] || skip "the registry has no linux-image-*-cloud-arm64-unsigned"
	mkdir -p "$tmp/deb" && chmod 777 "$tmp/deb"
	(cd "$tmp/deb" && apt-get download -q "$pkg:arm64" > "$tmp/apt.log" 2>&1) ||
		skip "apt-get download $pkg:arm64 failed: $(tail -n1 "$tmp/apt.log")"
	deb=$(ls "$tmp"/deb/*.deb)
	dpkg-deb -x "$deb" "$tmp/deb/x" || fail "dpkg-deb -x $deb"
	mkdir -p "$kdir"
	cp "$tmp"/deb/x/boot/vmlinuz-* "$kdir/vmlinuz.new" || fail "no vmlinuz in $deb"
	basename "$tmp"/deb/x/boot/vmlinuz-* | sed 's/^vmlinuz-//' > "$kdir/version"
	mv "$kdir/vmlinuz.new" "$kdir/vmlinuz"
	rm -rf "$tmp/deb"
}
[ -s "$kdir/vmlinuz" ] || fetch_kernel
kver=$(cat "$kdir/version" 2> /dev/null)
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
	cp "$tmp/child64" "$tmp/child32" "$out/$v/"
	echo "$kver" > "$out/$v/kernel"
done
[ $status = 0 ] || exit 1
python3 "$here/check.py" "$out/nopac" "$out/pac"
