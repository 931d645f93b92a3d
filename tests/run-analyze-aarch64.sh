#!/bin/bash
# Rows from instructions for aarch64 code without CFI: random functions
# written with .cfi_* directives, linked by the aarch64 binutils, and copied
# without .eh_frame; the copy's rows must say what readelf reads from the
# original's CFI at every instruction, and functions the analyzer cannot
# follow must have none.
. "${top_srcdir:-.}/tests/lib.sh"

command -v aarch64-linux-gnu-as > /dev/null || skip "no aarch64-linux-gnu-as (binutils-aarch64-linux-gnu)"
for t in aarch64-linux-gnu-ld aarch64-linux-gnu-objcopy readelf python3; do
	command -v $t > /dev/null || skip "no $t"
done
ROWS=$top_builddir/tests/a64-rows
[ -x "$ROWS" ] || skip "tests/a64-rows was not built"

expect_ok "random aarch64 functions (seeds 1-${A64_RANDOM_SEEDS:-150}): rows from instructions = readelf frames-interp" \
	python3 "$top_srcdir/tests/analyze-aarch64-random.py" "$VDSOSCOPE" "$tmp" 1 "${A64_RANDOM_SEEDS:-150}" "$ROWS"
tail -n1 "$tmp/out"

# the analyzer's limits: a function that a later instruction reaches in
# another state has no rows, the one after it still has
cat > "$tmp/merge.s" <<'EOS'
	.text
	.globl a, b
	.type a,@function
a:
	cbz x0, 1f
	sub sp, sp, #16
1:	add sp, sp, #16
	ret
	.size a, .-a
	.type b,@function
b:
	paciasp
	stp x29, x30, [sp, #-32]!
	mov x29, sp
	bl a
	ldp x29, x30, [sp], #32
	autiasp
	ret
	.size b, .-b
EOS
aarch64-linux-gnu-as -o "$tmp/merge.o" "$tmp/merge.s" &&
	aarch64-linux-gnu-ld -shared -o "$tmp/merge.so" "$tmp/merge.o"
"$VDSOSCOPE" cfi --file "$tmp/merge.so" > "$tmp/merge.txt" 2>&1
if ! grep -q ' a$' "$tmp/merge.txt" && grep -q 'NO CFI, FROM INSTRUCTIONS 0x[0-9a-f]* b$' "$tmp/merge.txt" &&
   grep -q 'cfa=x29+32 x29=c-32 x30=c-24 (return address signed)$' "$tmp/merge.txt" &&
   [ "$(grep -c "^  0x" "$tmp/merge.txt")" = 6 ]; then
	pass "a function with a state conflict has no rows; its caller has 6"
else
	fail "state conflict"; sed 's/^/  | /' "$tmp/merge.txt"
fi
if "$ROWS" "$tmp/merge.so" | awk '$3 == 1' | grep -q . &&
   [ "$("$ROWS" "$tmp/merge.so" | head -n1 | cut -d' ' -f3)" = 0 ] &&
   [ "$("$ROWS" "$tmp/merge.so" | tail -n1 | cut -d' ' -f3)" = 0 ]; then
	pass "the return address is signed between paciasp and autiasp only"
else
	fail "return address signing"; "$ROWS" "$tmp/merge.so" | sed 's/^/  | /'
fi
finish
