#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# vdsoscope backtrace on gcore cores of a static program linked without
# .eh_frame_hdr (one thread blocked joining, one blocked in a signal
# handler): every engine gives eu-stack's frames for every thread, from
# .eh_frame alone and, for the program's own functions, from .debug_frame;
# without unwind info, or without the file, the stack ends there saying so.
. "${top_srcdir:-.}/tests/lib.sh"
BTCMP="python3 $top_srcdir/tests/bt-compare.py"
S=$top_builddir/tests/static-threads
SD=$top_builddir/tests/static-threads-dbg

[ -x "$S" ] || skip "no static test program (libc.a missing)"
$VDSOSCOPE backtrace --help > /dev/null 2>&1 || skip "built without libunwind (no backtrace)"
command -v eu-stack > /dev/null || skip "eu-stack (elfutils) is not installed"
command -v gcore > /dev/null || skip "gcore (gdb) is not installed"

# dump NAME BINARY: a core of BINARY once both threads block, in $tmp/NAME.core
dump() {
	local name=$1 bin=$2 n=0
	case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
	start_target s "$bin" run
	# the handler said "ready"; main blocks in pthread_join's futex wait
	# (system call 202) once it got there
	until [ "$(cut -d' ' -f1 "/proc/$s_pid/syscall" 2>/dev/null)" = 202 ]; do
		n=$((n + 1))
		[ $n -lt 1000000 ] || { fail "$name: main never blocked in pthread_join"; break; }
	done
	gcore -o "$tmp/$name" "$s_pid" > /dev/null 2>&1
	kill -9 "$s_pid"
	wait "$s_pid" 2> /dev/null
	mv "$tmp/$name.$s_pid" "$tmp/$name.core" 2> /dev/null || fail "$name: gcore"
}

cmp_eu() {
	local name=$1 bin=$2 engine
	eu-stack --core="$tmp/$name.core" -e "$bin" > "$tmp/$name.eu" 2>&1
	for engine in core libunwind libdwfl; do
		$VDSOSCOPE backtrace --core "$tmp/$name.core" --engine $engine --json \
			> "$tmp/$name.$engine.json" 2> "$tmp/err" || { fail "$name $engine: $(cat "$tmp/err")"; continue; }
		if $BTCMP check "$tmp/$name.$engine.json" --eu-stack "$tmp/$name.eu" --main \
		   > "$tmp/cmp" 2>&1 && [ "$(grep -c '^#' "$tmp/$name.eu")" -ge 14 ]; then
			pass "$name, $engine vs eu-stack --core -e: $(tail -n1 "$tmp/cmp")"
		else
			fail "$name, $engine vs eu-stack --core -e"; sed 's/^/  | /' "$tmp/cmp" "$tmp/$name.eu"
		fi
	done
}

# ends NAME ENGINE PATTERN: every thread's end says PATTERN
ends() {
	local name=$1 engine=$2 pattern=$3
	$VDSOSCOPE backtrace --core "$tmp/$name.core" --engine $engine > "$tmp/out" 2>&1
	if [ "$(grep -c '^end:' "$tmp/out")" = 2 ] &&
	   [ "$(grep -c "^end: $pattern" "$tmp/out")" = 2 ]; then
		pass "$name, $engine: $(grep '^end:' "$tmp/out" | head -n1)"
	else
		fail "$name, $engine: ends not \"$pattern\""; sed 's/^/  | /' "$tmp/out"
	fi
}

dump eh "$S"
readelf -lS "$S" | grep -q "EH_FRAME\|eh_frame_hdr" && fail "$S has .eh_frame_hdr"
cmp_eu eh "$S"
dump dbg "$SD"
cmp_eu dbg "$SD"

# the program's functions without unwind info: the stacks end in them
cp "$SD" "$tmp/nocfi"
objcopy --remove-section .debug_frame "$tmp/nocfi"
dump nocfi "$tmp/nocfi"
ends nocfi libunwind "no unwind info for the code at 0x[0-9a-f]* in $tmp/nocfi\$"
ends nocfi libdwfl "no unwind info for the code at 0x[0-9a-f]* in $tmp/nocfi\$"
ends nocfi core "no unwind info for the code at 0x[0-9a-f]* in $tmp/nocfi\$"
# and without the file
rm "$tmp/nocfi"
ends nocfi libunwind "module $tmp/nocfi not found: no unwind info for the code at 0x[0-9a-f]*\$"
ends nocfi libdwfl "module $tmp/nocfi not found: no unwind info for the code at 0x[0-9a-f]*\$"
ends nocfi core "the file of the code at 0x[0-9a-f]* was not found: $tmp/nocfi "
finish
