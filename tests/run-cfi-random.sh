#!/bin/bash
# Shared objects made from random .cfi_* directives (x86_64 and i386;
# .eh_frame with and without .eh_frame_hdr, .debug_frame only): every
# address of every FDE agrees with readelf --debug-dump=frames-interp, and a
# step at each row's start gives what readelf's rules say.  Then an FDE that
# libdw refuses, --no-debug, and the text form of a register rule.
. "${top_srcdir:-.}/tests/lib.sh"

STEP=$top_builddir/tests/cfi-step
command -v readelf > /dev/null || skip "no readelf"
command -v gcc > /dev/null || skip "no gcc"
printf '\t.text\nf:\n\t.cfi_startproc\n\tret\n\t.cfi_endproc\n' > "$tmp/probe.s"
gcc -shared -nostdlib -o "$tmp/probe.so" "$tmp/probe.s" 2> /dev/null || skip "gcc cannot link a shared object"
[ -x "$STEP" ] && [ -x "$top_builddir/tests/eh-table-dump" ] || skip "tests/cfi-step or tests/eh-table-dump was not built"

# seeds alternate x86_64 and i386; i386 objects are left out without gcc -m32
expect_ok "random CFI (seeds 1-${CFI_RANDOM_SEEDS:-240}) = readelf frames-interp, stepped, and as the hook's table" \
	python3 "$top_srcdir/tests/cfi-random.py" "$VDSOSCOPE" "$tmp" 1 "${CFI_RANDOM_SEEDS:-240}" "$STEP" \
	"$top_builddir/tests/eh-table-dump" "$top_srcdir/tests/elfmut.py"
tail -n1 "$tmp/out"

# an FDE libdw refuses (an unknown DW_CFA operation) costs only itself
cat > "$tmp/drop.s" <<'EOF'
	.text
	.globl bad
	.type bad,@function
bad:
	.cfi_startproc
	nop
	.cfi_escape 0x2a
	ret
	.cfi_endproc
	.globl good
	.type good,@function
good:
	.cfi_startproc
	push %rbx
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %rbx, 0
	.cfi_register %r12, %r13
	pop %rbx
	ret
	.cfi_endproc
EOF
gcc -shared -nostdlib -o "$tmp/drop.so" "$tmp/drop.s" 2> /dev/null
"$VDSOSCOPE" cfi --file "$tmp/drop.so" > "$tmp/drop.txt" 2> "$tmp/drop.err"
if grep -q '^FDE 0x[0-9a-f]* good' "$tmp/drop.txt" && ! grep -q ' bad' "$tmp/drop.txt" &&
   grep -q 'CFI: 1 FDE dropped, first: FDE 0x[0-9a-f]*-0x[0-9a-f]* (.eh_frame): ' "$tmp/drop.err"; then
	pass "a refused FDE is dropped alone: $(cat "$tmp/drop.err")"
else
	fail "a refused FDE"; sed 's/^/  | /' "$tmp/drop.txt" "$tmp/drop.err"
fi
if "$VDSOSCOPE" info --file "$tmp/drop.so" | grep -q '^CFI dropped:   1 FDE, first: FDE ' &&
   "$VDSOSCOPE" info --json --file "$tmp/drop.so" | grep -q '"cfi_dropped": *1'; then
	pass "info names the dropped FDE"
else
	fail "info does not name the dropped FDE"
fi
# the register rule, as text and stepped: the caller's r12 is the callee's
# r13, which cfi-step sets to 0x10000 * 14 + 0x100
if grep -q ' r12=r13 ' "$tmp/drop.txt"; then
	pass "a register rule reads r12=r13"
else
	fail "register rule text"; sed 's/^/  | /' "$tmp/drop.txt"
fi
at=$(awk '/ r12=r13 / { split($1, r, "-"); print substr(r[1], 3); exit }' "$tmp/drop.txt")
if [ -n "$at" ] && "$STEP" "$tmp/drop.so" "$at" | grep -q ' r12=e0100\b'; then
	pass "r12=r13 stepped: r12 gets r13's value"
else
	fail "r12=r13 stepped"; "$STEP" "$tmp/drop.so" "${at:-0}" | sed 's/^/  | /'
fi

# a CIE libdw refuses (its GNU as restore turned into an unknown operation)
# costs only the FDE that uses it
cat > "$tmp/cie-bad.s" <<'EOF'
	.text
	.globl a1
	.type a1,@function
a1:
	.cfi_startproc
	.cfi_restore %rbx
	nop
	ret
	.cfi_endproc
	.globl a2
	.type a2,@function
a2:
	.cfi_startproc
	push %rbx
	.cfi_adjust_cfa_offset 8
	ret
	.cfi_endproc
EOF
gcc -shared -nostdlib -o "$tmp/cie-bad.so" "$tmp/cie-bad.s" 2> /dev/null
if python3 - "$tmp/cie-bad.so" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
cie = bytes([0x0c, 0x07, 0x08, 0x90, 0x01, 0xc3])   # def_cfa rsp 8; offset rip; restore rbx
if b.count(cie) != 1:
    sys.exit(1)
b[b.index(cie) + 5] = 0x2a
open(sys.argv[1], "wb").write(b)
PY
then
	"$VDSOSCOPE" cfi --file "$tmp/cie-bad.so" > "$tmp/cb.txt" 2> "$tmp/cb.err"
	if grep -q '^FDE 0x[0-9a-f]* a2' "$tmp/cb.txt" && ! grep -q ' a1' "$tmp/cb.txt" &&
	   grep -q '1 FDE dropped' "$tmp/cb.err"; then
		pass "a refused CIE costs only its FDE"
	else
		fail "a refused CIE"; sed 's/^/  | /' "$tmp/cb.txt" "$tmp/cb.err"
	fi
else
	fail "the CIE GNU as wrote for a1 is not the expected bytes"
fi

# --no-debug: the image as mapped, without its non-allocated .debug_frame
sed '1i\	.cfi_sections .debug_frame' "$tmp/drop.s" | sed '/cfi_escape/d' > "$tmp/dbg.s"
gcc -shared -nostdlib -o "$tmp/dbg.so" "$tmp/dbg.s" 2> /dev/null
n=$("$VDSOSCOPE" cfi --file "$tmp/dbg.so" | grep -c '^FDE')
m=$("$VDSOSCOPE" cfi --no-debug --file "$tmp/dbg.so" | grep -c '^FDE')
if [ "$n" = 2 ] && [ "$m" = 0 ]; then
	pass ".debug_frame: 2 FDEs, none with --no-debug"
else
	fail ".debug_frame: $n FDEs, $m with --no-debug (want 2 and 0)"
fi

# a CIE restore in a debug file's .debug_frame is read as in the image's own
printf '\t.cfi_sections .debug_frame\n\t.text\nf:\n\t.cfi_startproc\n\t.cfi_restore %%rbx\n\tpush %%rbx\n\t.cfi_adjust_cfa_offset 8\n\t.cfi_offset %%rbx, -16\n\tpop %%rbx\n\t.cfi_restore %%rbx\n\tret\n\t.cfi_endproc\n' > "$tmp/cie.s"
gcc -shared -nostdlib -Wl,--build-id -o "$tmp/cie.so" "$tmp/cie.s" 2> /dev/null
objcopy --strip-debug "$tmp/cie.so" "$tmp/cie-stripped.so"
"$VDSOSCOPE" cfi --file "$tmp/cie.so" > "$tmp/cie.txt" 2>&1
"$VDSOSCOPE" cfi --file "$tmp/cie-stripped.so" --debug-file "$tmp/cie.so" > "$tmp/cie2.txt" 2>&1
if readelf --debug-dump=frames "$tmp/cie.so" | grep -q 'DW_CFA_restore: r3' &&
   grep -q 'rbx=c-16' "$tmp/cie.txt" && [ "$(grep -c '^  0x' "$tmp/cie.txt")" = 3 ] &&
   cmp -s "$tmp/cie.txt" "$tmp/cie2.txt"; then
	pass "CIE with DW_CFA_restore, in the image and in a debug file"
else
	fail "CIE with DW_CFA_restore"; sed 's/^/  | /' "$tmp/cie.txt" "$tmp/cie2.txt"
fi
finish
