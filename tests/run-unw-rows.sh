#!/bin/bash
# The libunwind hook for images without a usable .eh_frame_hdr: a table built
# from the compiled rows.  Copies of the real image with PT_GNU_EH_FRAME
# made PT_NULL, and with .eh_frame rewritten as .debug_frame (readelf shows
# the same rules at every address as in the original), stand in for the vDSO
# of a core whose vDSO segment was removed: `backtrace --engine libunwind`
# gives eu-stack's frames of the whole core, down to main, and says the
# table was built from the rows; without a table libunwind loses the stack.
# The ptrace oracle (`verify --engine libunwind --image`) is exact on both
# copies and goes wrong without the table.  The built tables, wrapped in an
# ELF file, show readelf the original's rules and DWARF expressions (x86_64
# and i386).
. "${top_srcdir:-.}/tests/lib.sh"
BTCMP="python3 $top_srcdir/tests/bt-compare.py"
MUT="python3 $top_srcdir/tests/elfmut.py"

"$VDSOSCOPE" backtrace --help > /dev/null 2>&1 || skip "built without libunwind (no backtrace, no hook)"
command -v eu-stack > /dev/null || skip "eu-stack (elfutils) is not installed"
command -v gcore > /dev/null || skip "gcore (gdb) is not installed"
command -v readelf > /dev/null || skip "readelf (binutils) is not installed"

# field FILE KEY: KEY of the vdso object of backtrace --json FILE
field() {
	python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["vdso"].get(sys.argv[2]))' "$1" "$2"
}

start_target thr "$T64" threads
"$top_builddir/tests/vdso-stop" "$thr_pid" > "$tmp/regs" || { fail "vdso-stop"; finish; exit 1; }
gcore -o "$tmp/g" "$thr_pid" > /dev/null 2>&1 || { fail "gcore"; finish; exit 1; }
core=$tmp/g.$thr_pid
eu-stack -p "$thr_pid" > "$tmp/live-eu" 2>&1
if VDSOSCOPE_UNW_TABLE=rows "$VDSOSCOPE" backtrace --pid "$thr_pid" --engine libunwind --json > "$tmp/live.json" 2> "$tmp/err" &&
   [ "$(field "$tmp/live.json" unwind_table)" = rows ] &&
   $BTCMP check "$tmp/live.json" --eu-stack "$tmp/live-eu" --regs "$tmp/regs" --main --vdso-top 4 > "$tmp/cmp" 2>&1; then
	pass "live, the rows' table in place of the image's = eu-stack -p: $(tail -n1 "$tmp/cmp")"
else
	fail "live, the rows' table"; sed 's/^/  | /' "$tmp/err" "$tmp/cmp" 2> /dev/null
fi
kill -9 "$thr_pid"; wait "$thr_pid" 2> /dev/null

$CHECK drop-vdso-load "$core" "$tmp/novdso.core" > /dev/null
"$VDSOSCOPE" extract --core "$core" -o "$tmp/vdso.so"
eu-stack --core="$core" -e "$T64" > "$tmp/eu" 2>&1

# ---- the copies ------------------------------------------------------------------
$MUT no-eh-frame-hdr "$tmp/vdso.so" "$tmp/nohdr.so"
$MUT debug-frame-only "$tmp/vdso.so" "$tmp/dbgf.so"
if readelf -lW "$tmp/vdso.so" | grep -q GNU_EH_FRAME && ! readelf -lW "$tmp/nohdr.so" | grep -q GNU_EH_FRAME &&
   readelf -SW "$tmp/nohdr.so" | grep -q ' \.eh_frame '; then
	pass "nohdr.so: no PT_GNU_EH_FRAME, .eh_frame kept (readelf -l, -S)"
else
	fail "nohdr.so is not what it should be"
fi
if readelf -SW "$tmp/dbgf.so" | grep -q ' \.debug_frame ' && ! readelf -SW "$tmp/dbgf.so" | grep -q '\.eh_frame' &&
   ! readelf -lW "$tmp/dbgf.so" | grep -q GNU_EH_FRAME; then
	pass "dbgf.so: .debug_frame only, no PT_GNU_EH_FRAME (readelf -l, -S)"
else
	fail "dbgf.so is not what it should be"
fi
expect_ok "dbgf.so's .debug_frame has the rules of the image's .eh_frame (readelf)" \
	$CHECK frames-same "$tmp/vdso.so" "$tmp/dbgf.so"

# ---- backtraces of the core without its vDSO ----------------------------------------
for m in vdso nohdr dbgf; do
	want=rows; [ $m = vdso ] && want=eh_frame_hdr
	if "$VDSOSCOPE" backtrace --core "$tmp/novdso.core" --image "$tmp/$m.so" --engine libunwind --json \
		> "$tmp/$m.json" 2> "$tmp/err"; then
		got=$(field "$tmp/$m.json" unwind_table)
		[ "$got" = "$want" ] && pass "$m.so: the hook's table is $want" ||
			fail "$m.so: the hook's table is $got, not $want"
		if $BTCMP check "$tmp/$m.json" --eu-stack "$tmp/eu" --regs "$tmp/regs" --main --vdso-top 4 \
			> "$tmp/cmp" 2>&1; then
			pass "$m.so: libunwind = eu-stack on the whole core: $(tail -n1 "$tmp/cmp")"
		else
			fail "$m.so: libunwind"; sed 's/^/  | /' "$tmp/cmp"
		fi
	else
		fail "$m.so: $(cat "$tmp/err")"
	fi
done
if VDSOSCOPE_UNW_TABLE=none "$VDSOSCOPE" backtrace --core "$tmp/novdso.core" --image "$tmp/nohdr.so" \
	--engine libunwind --json > "$tmp/none.json" 2> "$tmp/err" &&
   [ "$(field "$tmp/none.json" unwind_table)" = none ] &&
   ! $BTCMP check "$tmp/none.json" --eu-stack "$tmp/eu" --main > "$tmp/cmp" 2>&1; then
	pass "without a table libunwind loses the stack: $(tail -n1 "$tmp/cmp")"
else
	fail "without a table libunwind still unwinds like eu-stack"; sed 's/^/  | /' "$tmp/err" "$tmp/cmp"
fi
expect_error "VDSOSCOPE_UNW_TABLE=image without an .eh_frame_hdr" 1 "no such table" \
	env VDSOSCOPE_UNW_TABLE=image "$VDSOSCOPE" backtrace --core "$tmp/novdso.core" --image "$tmp/nohdr.so" --engine libunwind
expect_error "VDSOSCOPE_UNW_TABLE=bogus" 1 "not image, rows or none" \
	env VDSOSCOPE_UNW_TABLE=bogus "$VDSOSCOPE" backtrace --core "$tmp/novdso.core" --image "$tmp/nohdr.so" --engine libunwind

# ---- the ptrace oracle through the hook ------------------------------------------------
export VDSOSCOPE_HELPER_DIR=$top_builddir/tools
for m in nohdr dbgf; do
	if "$VDSOSCOPE" verify --engine libunwind --image "$tmp/$m.so" > "$tmp/v" 2>&1 &&
	   grep -q "table for the vDSO: built from the image's CFI rows" "$tmp/v" &&
	   grep -q 'total: .* (100.0%), 0 wrong' "$tmp/v"; then
		pass "verify --engine libunwind --image $m.so: $(grep 'total:' "$tmp/v" | sed 's/^ *//')"
	else
		fail "verify --engine libunwind --image $m.so"; sed 's/^/  | /' "$tmp/v"
	fi
done
rc=0
VDSOSCOPE_UNW_TABLE=none "$VDSOSCOPE" verify --engine libunwind --image "$tmp/nohdr.so" > "$tmp/v" 2>&1 || rc=$?
if [ $rc = 1 ] && grep -q 'total: .*, [1-9][0-9]* wrong' "$tmp/v"; then
	pass "verify without a table goes wrong: $(grep 'total:' "$tmp/v" | sed 's/^ *//')"
else
	fail "verify without a table: exit $rc"; sed 's/^/  | /' "$tmp/v"
fi

# ---- the built tables as readelf sees them -----------------------------------------------
images="vdso"
if [ -x "$T32" ]; then
	start_target t32 "$T32"
	"$VDSOSCOPE" extract --pid "$t32_pid" -o "$tmp/vdso32.so"
	stop_target t32
	images="vdso vdso32"
fi
for m in $images; do
	if out=$("$top_builddir/tests/eh-table-dump" "$tmp/$m.so" "$tmp/$m.blob"); then
		set -- $out
		$MUT wrap-eh-frame "$tmp/$m.so" "$tmp/$m.blob" "$1" "$2" "$tmp/$m.table"
		expect_ok "$m.so: the table built from its rows has its rules and expressions (readelf, $4 FDEs)" \
			$CHECK frames-same "$tmp/$m.so" "$tmp/$m.table"
	else
		fail "eh-table-dump $m.so"
	fi
done
finish
