#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# vdsoscope backtrace --engine libdwfl at every instruction a -m32 -O2
# program reaches inside the vDSO through glibc's time functions (whose
# vDSO code has no CFI: the rows come from its instructions), live and from
# cores gcore dumps at some of the stops, against the return address
# ptrace saw at the call into the vDSO and gdb; then the same on x86_64.
. "${top_srcdir:-.}/tests/lib.sh"
WALK=$top_builddir/tests/vdso-walk
L32=$top_builddir/tests/vdso-loop32
WCHECK="python3 $top_srcdir/tests/walk-check.py"
READER=$top_builddir/plugin/.libs/vdsoscope-gdb.so
[ -f "$READER" ] && READER=$(cd "$(dirname "$READER")" && pwd)/vdsoscope-gdb.so
BTCMP="python3 $top_srcdir/tests/bt-compare.py"

[ -x "$L32" ] || skip "no 32-bit test program (gcc-multilib missing)"
$VDSOSCOPE backtrace --help > /dev/null 2>&1 || skip "built without libunwind (no backtrace)"
command -v gcore > /dev/null || skip "gcore (gdb) is not installed"

# run at each stop, with vdso-walk's WALK_* and D, PID, EXE, CORES
cat > "$tmp/stop.sh" << 'EOS'
$VDSOSCOPE backtrace --pid "$PID" --engine libdwfl --json > "$D/$WALK_N.json" || exit 1
echo "$WALK_N $WALK_IP $WALK_RA $WALK_CALL $WALK_ENTRY" >> "$D/stops"
if command -v eu-stack > /dev/null; then eu-stack -p "$PID" > "$D/$WALK_N.eu" 2>&1; fi
if [ "$WALK_ENTRY" = 1 ] || [ $((WALK_N % CORES)) = 0 ]; then
	gcore -o "$D/c" "$PID" > /dev/null 2>&1 || exit 1
	$VDSOSCOPE backtrace --core "$D/c.$PID" --engine libdwfl --json > "$D/$WALK_N.core.json" ||
		exit 1
	# at the entry gdb's own unwinder knows the return address;
	# elsewhere gdb needs the JIT reader's rows
	if [ "$WALK_ENTRY" = 1 ]; then
		timeout 120 gdb -batch -nx "$EXE" -c "$D/c.$PID" -ex 'thread apply all bt' \
			> "$D/$WALK_N.gdb" 2>&1 < /dev/null
	elif [ -f "$READER" ]; then
		timeout 120 gdb -batch -nx "$EXE" -c "$D/c.$PID" -ex "jit-reader-load $READER" \
			-ex 'thread apply all bt' > "$D/$WALK_N.gdb" 2>&1 < /dev/null
	fi
	rm -f "$D/c.$PID"
fi
exit 0
EOS

walk() {
	local name=$1 bin=$2 mode=$3 word=$4 max=$5 f n
	mkdir "$tmp/$name"
	start_target t "$bin" "$mode"
	: > "$tmp/$name/stops"
	if D=$tmp/$name PID=$t_pid EXE=$bin CORES=25 VDSOSCOPE=$VDSOSCOPE WALK_WORD=$word READER=$READER \
	   "$WALK" "$t_pid" "$max" ". '$tmp/stop.sh'" > "$tmp/$name/walk" 2>&1; then
		pass "$name: vdso-walk: $(cat "$tmp/$name/walk")"
	else
		fail "$name: vdso-walk"; sed 's/^/  | /' "$tmp/$name/walk"
	fi
	kill -9 "$t_pid"
	wait "$t_pid" 2> /dev/null
	if $WCHECK check "$tmp/$name" > "$tmp/cmp" 2>&1; then
		pass "$name: at every stop frame 0, the caller, main, the core: $(tail -n1 "$tmp/cmp")"
	else
		fail "$name"; sed 's/^/  | /' "$tmp/cmp"
	fi
	n=0
	for f in "$tmp/$name"/*.gdb; do
		[ -f "$f" ] || continue
		n=$((n + 1))
		if ! $BTCMP check "${f%.gdb}.core.json" --gdb "$f" --main > "$tmp/cmp" 2>&1; then
			fail "$name: ${f##*/}: gdb disagrees"; sed 's/^/  | /' "$tmp/cmp"
		fi
	done
	[ $n -gt 0 ] && pass "$name: gdb agrees at $n cores (entries; elsewhere with the JIT reader)" ||
		fail "$name: no gdb run"
}

walk i386 "$L32" run 4 1000
# libdwfl on the image's own CFI, as eu-stack does and the hook did
# before it wrote the rows: at some stops it loses the caller
if [ -f "$tmp/i386/1.eu" ]; then
	lost=$($WCHECK lost "$tmp/i386" eu)
	case $lost in
	0\ of*) fail "i386: eu-stack (the image's own CFI) lost no caller: the test cannot tell" ;;
	*) pass "i386: eu-stack (the image's own CFI) loses the caller at $lost" ;;
	esac
fi
walk x86_64 "$T64" loop 8 300
# there the rows are the image's own CFI: both give the same frames
if [ -f "$tmp/x86_64/1.eu" ]; then
	lost=$($WCHECK lost "$tmp/x86_64" eu)
	case $lost in
	0\ of\ 0*) fail "x86_64: eu-stack read no stop" ;;
	0\ of*) pass "x86_64: eu-stack (the image's own CFI) agrees: lost $lost" ;;
	*) fail "x86_64: eu-stack loses the caller at $lost" ;;
	esac
fi
finish
