#!/bin/bash
# 32-bit ARM (Thumb-2, as in the arm64 kernel's compat vDSO): random
# functions with their CFI, assembled and linked with the arm binutils.
# At every address, readelf --debug-dump=frames-interp of the object agrees
# with the rows compiled from its CFI (.eh_frame and .debug_frame) and with
# the rows derived from the instructions of a copy without CFI; a step at
# each row of the copy, at the Thumb address, gives what readelf's rules do.
. "${top_srcdir:-.}/tests/lib.sh"

STEP=$top_builddir/tests/cfi-step
command -v arm-linux-gnueabihf-as > /dev/null || skip "no arm-linux-gnueabihf-as (binutils-arm-linux-gnueabihf)"
command -v arm-linux-gnueabihf-ld > /dev/null || skip "no arm-linux-gnueabihf-ld"
command -v arm-linux-gnueabihf-objcopy > /dev/null || skip "no arm-linux-gnueabihf-objcopy"
command -v readelf > /dev/null || skip "no readelf"
[ -x "$STEP" ] || skip "tests/cfi-step was not built"

expect_ok "random Thumb-2 functions (seeds 1-${ARM_RANDOM_SEEDS:-200}): CFI rows and rows from instructions = readelf frames-interp, stepped" \
	python3 "$top_srcdir/tests/arm-random.py" "$VDSOSCOPE" "$tmp" 1 "${ARM_RANDOM_SEEDS:-200}" "$STEP"
tail -n1 "$tmp/out"
finish
