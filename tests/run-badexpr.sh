#!/bin/bash
# CFI rules whose DWARF expressions cannot be evaluated: division by zero,
# modulo by zero, a stack deeper than the evaluator's 64 entries, an
# operation CFI has no use for (DW_OP_skip), a load of an impossible size.  Each
# is written with .cfi_escape into a small shared object (readelf shows the
# expression as written) and stepped through: each gives
# VDSOSCOPE_E_BAD_EXPR or VDSOSCOPE_E_MEMORY naming what was wrong.
. "${top_srcdir:-.}/tests/lib.sh"

PROBE=$top_builddir/tests/badinput-probe
[ -x "$PROBE" ] || skip "tests/badinput-probe was not built"
command -v cc > /dev/null || skip "no C compiler to make the test images"
[ "$(uname -m)" = x86_64 ] || skip "the test images are x86_64 code"

# make NAME ESCAPE-BYTES: a function whose CFA rule is the expression
make_image() {
	cat > "$tmp/$1.s" <<S
	.text
	.globl f
	.type f, @function
f:
	.cfi_startproc
	nop
	.cfi_escape 0x0f, $2
	nop
	ret
	.cfi_endproc
	.size f, .-f
S
	cc -shared -nostdlib -Wl,--build-id -Wl,-soname,linux-vdso.so.1 "$tmp/$1.s" -o "$tmp/$1.so"
}

# check NAME READELF-TEXT ERROR MESSAGE
check() {
	local name=$1 shown=$2 err=$3 msg=$4 rc=0
	if ! readelf --debug-dump=frames "$tmp/$name.so" | grep -qF "$shown"; then
		fail "$name: readelf does not show $shown"
		return
	fi
	"$PROBE" step "$tmp/$name.so" > /dev/null 2> "$tmp/$name.err" || rc=$?
	if [ $rc = 1 ] && grep -q "$err" "$tmp/$name.err" && grep -qF "$msg" "$tmp/$name.err"; then
		pass "$name: $(cat "$tmp/$name.err")"
	else
		fail "$name: exit $rc: $(cat "$tmp/$name.err")"
	fi
}

make_image div "3, 0x31, 0x30, 0x1b"
check div "DW_OP_lit1; DW_OP_lit0; DW_OP_div" VDSOSCOPE_E_BAD_EXPR "division by zero"
make_image mod "3, 0x31, 0x30, 0x1d"
check mod "DW_OP_lit1; DW_OP_lit0; DW_OP_mod" VDSOSCOPE_E_BAD_EXPR "modulo by zero"
deep=$(for i in $(seq 70); do printf '0x31, '; done)
make_image deep "70, ${deep%, }"
check deep "DW_OP_lit1; DW_OP_lit1" VDSOSCOPE_E_BAD_EXPR "stack overflow"
make_image skip "4, 0x31, 0x2f, 0x00, 0x00"
check skip "DW_OP_skip" VDSOSCOPE_E_BAD_EXPR "cannot use"
# the probe's memory callback reads zeros: deref of 0 reads fine, so ask
# for 3 bytes, which no machine loads
make_image derefsize "3, 0x31, 0x94, 0x03"
check derefsize "DW_OP_deref_size: 3" VDSOSCOPE_E_BAD_EXPR "impossible size"
finish
