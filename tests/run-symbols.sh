#!/bin/bash
# Symbols, versions and sizes agree with readelf on the same bytes: this
# process's x86_64 vDSO, and the i386 vDSO of a 32-bit process.
. "${top_srcdir:-.}/tests/lib.sh"

"$VDSOSCOPE" extract -o "$tmp/vdso64.so" || { fail "extract --self"; finish; }
"$VDSOSCOPE" symbols --json --file "$tmp/vdso64.so" > "$tmp/s64.json"
expect_ok "x86_64 symbols = readelf --dyn-syms" $CHECK symbols "$tmp/vdso64.so" "$tmp/s64.json" 0

start_target t64 "$T64"
"$VDSOSCOPE" symbols --json --pid "$t64_pid" > "$tmp/p64.json"
expect_ok "x86_64 symbols of pid at runtime addresses" \
	$CHECK symbols "$tmp/vdso64.so" "$tmp/p64.json" "$t64_base"
stop_target t64

if [ -x "$T32" ]; then
	start_target t32 "$T32"
	"$VDSOSCOPE" extract --pid "$t32_pid" -o "$tmp/vdso32.so"
	"$VDSOSCOPE" symbols --json --pid "$t32_pid" > "$tmp/p32.json"
	"$VDSOSCOPE" symbols --json --file "$tmp/vdso32.so" > "$tmp/s32.json"
	expect_ok "i386 symbols = readelf --dyn-syms" $CHECK symbols "$tmp/vdso32.so" "$tmp/s32.json" 0
	expect_ok "i386 symbols of pid at runtime addresses" \
		$CHECK symbols "$tmp/vdso32.so" "$tmp/p32.json" "$t32_base"
	# the 32-bit process's vDSO is not the tool's own
	if grep -q __kernel_vsyscall "$tmp/p32.json" && ! grep -q __kernel_vsyscall "$tmp/p64.json"; then
		pass "the i386 process has its own vDSO"
	else
		fail "the i386 process's vDSO looks like the tool's"
	fi
	# versions from verdef, cross-checked with eu-readelf
	if command -v eu-readelf > /dev/null; then
		want=$(eu-readelf -V "$tmp/vdso32.so" | sed -n 's/.*Flags: none.*Name: \(\S*\).*/\1/p; s/^ *0x[0-9a-f]*: Rev: 1  Flags: none  Index: [0-9]*  Cnt: [0-9]*  Name: \(\S*\)/\1/p' | sort -u | tr '\n' ' ')
		got=$("$VDSOSCOPE" info --json --file "$tmp/vdso32.so" | python3 -c 'import json,sys; print(" ".join(sorted(json.load(sys.stdin)["versions"])) + " ")')
		if [ -n "$want" ] && [ "$want" = "$got" ]; then pass "i386 versions: $got"; else fail "i386 versions: eu-readelf '$want', vdsoscope '$got'"; fi
	fi
	stop_target t32
else
	echo "i386 part skipped: $T32 was not built (no gcc -m32)"
fi
finish
