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

# code the analyzer does not understand leaves its function without rows;
# the others keep theirs.  Thumb symbols name their even start.
cat > "$tmp/odd.s" <<'EOF2'
	.syntax unified
	.arch armv7-a
	.thumb
	.text
	.globl good
	.type good,%function
	.thumb_func
good:
	push {r4, lr}
	pop {r4, pc}
	.size good, .-good
	.globl sp_from_r0
	.type sp_from_r0,%function
	.thumb_func
sp_from_r0:
	push {r4, lr}
	mov sp, r0
	pop {r4, pc}
	.size sp_from_r0, .-sp_from_r0
	.globl table
	.type table,%function
	.thumb_func
table:
	tbb [pc, r0]
	bx lr
	.size table, .-table
	.globl lr_lost
	.type lr_lost,%function
	.thumb_func
lr_lost:
	bl good
	bx lr
	.size lr_lost, .-lr_lost
	.globl r4_clobbered
	.type r4_clobbered,%function
	.thumb_func
r4_clobbered:
	movs r4, #1
	bx lr
	.size r4_clobbered, .-r4_clobbered
EOF2
arm-linux-gnueabihf-as -o "$tmp/odd.o" "$tmp/odd.s" && arm-linux-gnueabihf-ld -shared -o "$tmp/odd.so" "$tmp/odd.o"
"$VDSOSCOPE" cfi --file "$tmp/odd.so" > "$tmp/odd.txt" 2>&1
if grep -q '^NO CFI, FROM INSTRUCTIONS 0x[0-9a-f]* good$' "$tmp/odd.txt" &&
   [ "$(grep -c '^NO CFI' "$tmp/odd.txt")" = 1 ]; then
	pass "functions with sp from r0, tbb, lr lost by a call or r4 written unsaved have no rows"
else
	fail "rows for code not understood"; sed 's/^/  | /' "$tmp/odd.txt"
fi
good=$(readelf -Ws "$tmp/odd.so" | awk '$8 == "good" && $4 == "FUNC" { print $2; exit }')
good=$(printf '%x' $((0x${good:-0})))
case $good in *[13579bdf]) thumb=ok ;; *) thumb="" ;; esac
even=$(printf '%x' $((0x$good & ~1)))
if [ -n "$thumb" ] && "$VDSOSCOPE" symbolize "0x$good" "0x$even" --file "$tmp/odd.so" > "$tmp/sym.txt" &&
   grep -q "^0x$good good+0x1\$" "$tmp/sym.txt" && grep -q "^0x$even good+0x0\$" "$tmp/sym.txt"; then
	pass "the Thumb symbol good (0x$good) names its code from 0x$even"
else
	fail "Thumb symbol"; sed 's/^/  | /' "$tmp/sym.txt"
fi
finish
