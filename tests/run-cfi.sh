#!/bin/bash
# Every address of every FDE: the compiled rows agree with
# readelf --debug-dump=frames-interp, for the x86_64 and the i386 vDSO.
. "${top_srcdir:-.}/tests/lib.sh"

"$VDSOSCOPE" extract -o "$tmp/vdso64.so"
"$VDSOSCOPE" cfi --json --file "$tmp/vdso64.so" > "$tmp/c64.json"
expect_ok "x86_64 CFI rows = readelf frames-interp" $CHECK cfi "$tmp/vdso64.so" "$tmp/c64.json" 0

if [ -x "$T32" ]; then
	start_target t32 "$T32"
	"$VDSOSCOPE" extract --pid "$t32_pid" -o "$tmp/vdso32.so"
	"$VDSOSCOPE" cfi --json --pid "$t32_pid" > "$tmp/c32.json"
	expect_ok "i386 CFI rows = readelf frames-interp (runtime addresses)" \
		$CHECK cfi "$tmp/vdso32.so" "$tmp/c32.json" "$t32_base"
	stop_target t32
	# rows computed from instructions (code without CFI) start and end on
	# the instruction boundaries objdump decodes
	"$VDSOSCOPE" cfi --json --file "$tmp/vdso32.so" > "$tmp/f32.json"
	if command -v objdump > /dev/null; then
		objdump -d "$tmp/vdso32.so" | awk -F: '/^ *[0-9a-f]+:\t/ { gsub(/ /, "", $1); print $1 }' > "$tmp/insns"
		if python3 - "$tmp/f32.json" "$tmp/insns" <<'PY'
import json, sys
rows = [r for r in json.load(open(sys.argv[1])) if r["synthesized"]]
insns = {int(x, 16) for x in open(sys.argv[2]).read().split()}
bad = [r for r in rows if int(r["start"], 16) not in insns]
print(f"  {len(rows)} rows from instructions, {len(bad)} not on an objdump boundary")
for r in bad[:5]:
    print("  ", r["start"])
if not rows:
    print("  this i386 vDSO has CFI for all its code: nothing to compare")
sys.exit(1 if bad else 0)
PY
		then pass "i386 rows from instructions start where objdump's instructions do"
		else fail "i386 rows from instructions"; fi
	fi
	# the rules of the signal trampolines are the DWARF expressions readelf shows
	if readelf --debug-dump=frames "$tmp/vdso32.so" | grep -q 'DW_CFA_def_cfa_expression (DW_OP_breg4 (esp): 32; DW_OP_deref)' &&
	   "$VDSOSCOPE" cfi --file "$tmp/vdso32.so" | grep -q 'cfa=exp(esp+32; deref)'; then
		pass "i386 sigreturn CFA expression"
	else
		fail "i386 sigreturn CFA expression not shown as readelf has it"
	fi
else
	echo "i386 part skipped: $T32 was not built (no gcc -m32)"
fi
finish
