#!/bin/sh
# Seed corpora for the fuzz harnesses, from this machine's vDSOs:
#   make-corpus.sh SRCDIR BUILDDIR OUTDIR
# OUTDIR/fuzz-perf-data: small perf.data files of the 64-bit and 32-bit
# test programs (perf record --call-graph dwarf, when perf can sample);
# OUTDIR/images: the x86_64 image (vdsoscope extract) and, when the 32-bit
# test program runs, the i386 one (extract --pid), and the x86_64 one with
# its CFI in a compressed .debug_frame, and an aarch64 one without CFI
# (with the aarch64 binutils); OUTDIR/cores: small
# cores of both (gcore, then every segment but the notes and the vDSO
# emptied).  Each harness's corpus is a directory of links to those.
set -eu
src=$1 build=$2 out=$3
vdsoscope=$build/tools/vdsoscope
rm -rf "$out"
mkdir -p "$out/images" "$out/cores"
"$vdsoscope" extract -o "$out/images/x86_64.so"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for t in vdso-target vdso-target32; do
	[ -x "$build/tests/$t" ] || continue
	mkfifo "$tmp/in" "$tmp/out"
	"$build/tests/$t" wait < "$tmp/in" > "$tmp/out" &
	pid=$!
	exec 3> "$tmp/in"
	read -r ready < "$tmp/out"
	[ "$t" = vdso-target32 ] && "$vdsoscope" extract --pid "$pid" -o "$out/images/i386.so"
	if command -v gcore > /dev/null && gcore -o "$tmp/core" "$pid" > /dev/null 2>&1; then
		python3 "$src/tests/elfmut.py" small-core "$tmp/core.$pid" "$out/cores/$t.core"
	fi
	exec 3>&-
	wait "$pid" || true
	rm -f "$tmp/in" "$tmp/out" "$tmp/core.$pid"
done
# the x86_64 image with its CFI only in a compressed .debug_frame
if command -v objcopy > /dev/null &&
   python3 "$src/tests/elfmut.py" debug-frame-only "$out/images/x86_64.so" "$tmp/dbgf.so"; then
	objcopy --compress-debug-sections "$tmp/dbgf.so" "$out/images/x86_64-zdebug.so" || true
fi
# an aarch64 image without CFI, for the rows from instructions: a
# frame-record function signed with paciasp and a leaf it calls
if command -v aarch64-linux-gnu-as > /dev/null && command -v aarch64-linux-gnu-ld > /dev/null; then
	printf '%s\n' '.text' '.globl leaf, frame' '.type leaf,@function' \
		'leaf: cbz x0, 1f' 'mrs x1, cntvct_el0' 'ldr x2, [x0, #8]' '1: ret' '.size leaf, .-leaf' \
		'.type frame,@function' 'frame: paciasp' 'stp x29, x30, [sp, #-48]!' 'mov x29, sp' \
		'stp x19, x20, [sp, #16]' 'sub sp, sp, #32' 'bl leaf' 'mov sp, x29' \
		'ldp x19, x20, [sp, #16]' 'ldp x29, x30, [sp], #48' 'autiasp' 'ret' \
		'.size frame, .-frame' > "$tmp/a64.s"
	aarch64-linux-gnu-as -o "$tmp/a64.o" "$tmp/a64.s" &&
		aarch64-linux-gnu-ld -shared --build-id -o "$out/images/aarch64.so" "$tmp/a64.o" || true
fi
for h in buffer lookup step vdso-elf; do
	mkdir -p "$out/fuzz-$h"
	cp "$out"/images/* "$out/fuzz-$h/"
done
# mapped ELF files: the images and a test program
mkdir -p "$out/fuzz-object"
cp "$out"/images/* "$out/fuzz-object/"
[ -x "$build/tests/vdso-target" ] && cp "$build/tests/vdso-target" "$out/fuzz-object/"
mkdir -p "$out/fuzz-core" "$out/fuzz-target"
cp "$out"/cores/* "$out/fuzz-core/" 2>/dev/null || true
cp "$out"/cores/* "$out/fuzz-target/" 2>/dev/null || true
mkdir -p "$out/fuzz-perf-data"
if command -v perf > /dev/null; then
	for t in vdso-target vdso-target32; do
		[ -x "$build/tests/$t" ] || continue
		HOME=$tmp perf record -q --call-graph dwarf,1024 -F 50 -o "$out/fuzz-perf-data/$t.data" \
			-- "$build/tests/$t" profile-workload 1 > /dev/null 2>&1 ||
			rm -f "$out/fuzz-perf-data/$t.data"
	done
fi
