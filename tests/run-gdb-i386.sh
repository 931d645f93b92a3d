#!/bin/bash
# i386: gdb with the reader against gdb alone in a 32-bit process: in
# __vdso_clock_gettime, at and in __kernel_vsyscall (also attached while
# blocked in a system call there), and in a signal handler that returns
# through the vDSO's __kernel_sigreturn, where "<signal handler called>"
# must still be shown (gdb's own sigtramp unwinder keeps that frame).
# Inside __vdso_clock_gettime gdb alone misreads the frame, so there the
# reader is checked against the registers after the function returned.
. "${top_srcdir:-.}/tests/gdb.sh"

[ -x "$T32" ] || skip "no 32-bit test program (gcc -m32 does not link here)"
T32=$(cd "$(dirname "$T32")" && pwd)/vdso-target32

gdb_prelude "$tmp/live.gdb" 32
cat >> "$tmp/live.gdb" <<GDB
handle SIGTRAP nostop noprint nopass
handle SIGUSR1 nostop noprint pass
starti
tbreak __vdso_clock_gettime
continue
vs_compare
stepi 6
vs_truth
tbreak on_signal
continue
vs_compare
tbreak *__kernel_vsyscall
continue
vs_compare
stepi 3
vs_compare
kill
GDB
run_gdb live32 "$tmp/live.gdb" --args "$T32" calls
check_compare live32 4
check_truth live32 1
check_clean live32
if sed -n '/^@@reader$/,/^@@end$/p' "$tmp/live32.out" | grep -q '^#1 *<signal handler called>' &&
   sed -n '/^@@reader$/,/^@@end$/p' "$tmp/live32.out" | grep -q ' on_signal ('; then
	pass "signal handler: <signal handler called> with the reader loaded"
else
	fail "signal handler: no <signal handler called> frame"
	sed 's/^/  | /' "$tmp/live32.out" | head -60
fi
if grep -q '^#0 .* in __kernel_vsyscall ()' "$tmp/live32.out"; then
	pass "stopped in __kernel_vsyscall"
else
	fail "never stopped in __kernel_vsyscall"
fi

start_target blk "$T32" block
gdb_prelude "$tmp/attach.gdb" 32
cat >> "$tmp/attach.gdb" <<GDB
vs_compare
detach
GDB
run_gdb attach32 "$tmp/attach.gdb" -p "$blk_pid"
check_compare attach32 1
check_clean attach32
if grep -q '^#0 .* in __kernel_vsyscall ()' "$tmp/attach32.out" && grep -q ' main (' "$tmp/attach32.out"; then
	pass "attached in a system call: __kernel_vsyscall up to main"
else
	fail "attached: not in __kernel_vsyscall or main not reached"
	sed 's/^/  | /' "$tmp/attach32.out" | head -30
fi
finish
