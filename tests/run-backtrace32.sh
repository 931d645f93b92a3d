#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# vdsoscope backtrace (the core and libdwfl engines) on i386 processes and their cores,
# against gdb and eu-stack: one blocked in __kernel_vsyscall, one blocked
# inside a signal handler that returns through __kernel_sigreturn.
. "${top_srcdir:-.}/tests/lib.sh"
BTCMP="python3 $top_srcdir/tests/bt-compare.py"

[ -x "$T32" ] || skip "no 32-bit test program (gcc-multilib missing)"
$VDSOSCOPE backtrace --help > /dev/null 2>&1 || skip "built without libunwind (no backtrace)"
command -v eu-stack > /dev/null || skip "eu-stack (elfutils) is not installed"
command -v gdb > /dev/null || skip "gdb is not installed"

cmp_ok() {
	local what=$1; shift
	if $BTCMP check "$@" > "$tmp/cmp" 2>&1; then
		pass "$what: $(tail -n1 "$tmp/cmp")"
	else
		fail "$what"; sed 's/^/  | /' "$tmp/cmp"
	fi
}

gdb_bt() {
	local out=$1; shift
	timeout 120 gdb -batch -nx "$@" -ex 'thread apply all bt' > "$out" 2>&1 < /dev/null
}

for mode in block signal; do
	mkdir "$tmp/$mode"
	TARGET_DIR=$tmp/$mode start_target t "$T32" $mode
	"$top_builddir/tests/vdso-stop" "$t_pid" > "$tmp/regs" || { fail "vdso-stop"; continue; }
	expect_error "i386 $mode: the libunwind engine says it cannot" 1 "x86_64 targets only" \
		$VDSOSCOPE backtrace --pid "$t_pid" --engine libunwind
	eu-stack -p "$t_pid" > "$tmp/live-eu" 2>&1
	gdb_bt "$tmp/live-gdb" -p "$t_pid"
	for e in core libdwfl; do
		if $VDSOSCOPE backtrace --pid "$t_pid" --engine $e --json > "$tmp/live.json" 2> "$tmp/err"
		then
			pass "i386 $mode: backtrace --pid --engine $e"
		else
			fail "i386 $mode: backtrace --pid --engine $e: $(cat "$tmp/err")"
		fi
		# live, libdwfl (eu-stack's too) stops early in the 32-bit libc,
		# where the core engine goes on as gdb does
		eu=--eu-stack
		[ $e = core ] && eu=--eu-least
		cmp_ok "i386 $mode live, $e vs gdb bt, eu-stack -p, ptrace" "$tmp/live.json" \
			--gdb "$tmp/live-gdb" $eu "$tmp/live-eu" --regs "$tmp/regs" --main --vdso-top 1
		if [ $mode = signal ]; then
			if grep -q '"function":"__kernel_sigreturn"' "$tmp/live.json"; then
				pass "i386 signal, $e: a frame in __kernel_sigreturn"
			else
				fail "i386 signal, $e: no frame in __kernel_sigreturn"
			fi
		fi
	done
	core=""
	if [ "$(cat /proc/sys/kernel/core_pattern)" = core ]; then
		kill -ABRT "$t_pid"
		kill -CONT "$t_pid"
		wait "$t_pid" 2>/dev/null
		for f in "$tmp/$mode"/core "$tmp/$mode"/core.*; do [ -f "$f" ] && core=$f; done
	else
		gcore -o "$tmp/$mode/g" "$t_pid" > /dev/null 2>&1
		core=$tmp/$mode/g.$t_pid
		kill -9 "$t_pid"
	fi
	[ -f "$core" ] || { fail "i386 $mode: no core"; continue; }
	eu-stack --core="$core" -e "$T32" > "$tmp/core-eu" 2>&1
	gdb_bt "$tmp/core-gdb" "$T32" -c "$core"
	for e in core libdwfl; do
		if $VDSOSCOPE backtrace --core "$core" --engine $e --json > "$tmp/core.json" 2> "$tmp/err"
		then
			pass "i386 $mode: backtrace --core --engine $e"
		else
			fail "i386 $mode: backtrace --core --engine $e: $(cat "$tmp/err")"
		fi
		cmp_ok "i386 $mode core, $e vs gdb, eu-stack --core" "$tmp/core.json" \
			--gdb "$tmp/core-gdb" --eu-stack "$tmp/core-eu" --main --vdso-top 1
	done
done
finish
