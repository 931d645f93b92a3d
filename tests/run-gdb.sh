#!/bin/bash
# gdb with vdsoscope's JIT reader against gdb alone: a process run under gdb
# and one attached to, stopped at and inside vDSO functions, its gcore core
# and its kernel core; the reader must give the same backtraces and caller
# registers and `set debug frame 1` must show that it unwound the vDSO
# frames.  Loading and unloading the reader repeatedly, and a stop in x86_64's
# vsyscall page.
. "${top_srcdir:-.}/tests/gdb.sh"

T64=$(cd "$(dirname "$T64")" && pwd)/vdso-target
mkdir -p "$tmp/kcore"

# ---- run under gdb: several stops, a gcore, then a kernel core --------------
gdb_prelude "$tmp/live.gdb" 64
cat >> "$tmp/live.gdb" <<GDB
handle SIGTRAP nostop noprint nopass
starti
tbreak *__vdso_clock_gettime
continue
vs_compare
tbreak __vdso_clock_gettime
continue
vs_compare
gcore $tmp/g.core
stepi 5
vs_compare
stepi 5
vs_compare
stepi 5
vs_compare
tbreak *__vdso_clock_getres
continue
vs_compare
tbreak __vdso_gettimeofday
continue
vs_compare
stepi 9
vs_compare
tbreak *__vdso_time
continue
vs_compare
tbreak __vdso_getcpu
continue
vs_compare
stepi 3
vs_compare
signal SIGABRT
GDB
(cd "$tmp/kcore" && ulimit -c unlimited && run_gdb live "$tmp/live.gdb" --args "$T64" calls)
check_compare live 10
check_clean live

# ---- the gcore core and the kernel's core --------------------------------------
gdb_prelude "$tmp/core.gdb" 64
echo vs_compare >> "$tmp/core.gdb"
if [ -s "$tmp/g.core" ]; then
	run_gdb gcore "$tmp/core.gdb" "$T64" "$tmp/g.core"
	check_compare gcore 1
	check_clean gcore
else
	fail "gcore wrote no core"
fi
kcore=$(ls "$tmp/kcore"/core* 2>/dev/null | head -n1)
if [ -n "$kcore" ]; then
	run_gdb kcore "$tmp/core.gdb" "$T64" "$kcore"
	if grep -q 'terminated with signal SIGABRT' "$tmp/kcore.out"; then
		pass "kernel core: the process died of SIGABRT inside the vDSO"
	else
		fail "kernel core: not the SIGABRT core"
	fi
	check_compare kcore 1
	check_clean kcore
else
	echo "kernel core: none written (core_pattern: $(cat /proc/sys/kernel/core_pattern)); gcore only"
fi

# ---- attached to a running process ------------------------------------------------
start_target loop "$T64" loop
gdb_prelude "$tmp/attach.gdb" 64
cat >> "$tmp/attach.gdb" <<GDB
tbreak __vdso_clock_gettime
continue
vs_compare
stepi 4
vs_compare
tbreak *__vdso_clock_gettime
continue
vs_compare
detach
GDB
run_gdb attach "$tmp/attach.gdb" -p "$loop_pid"
check_compare attach 3
check_clean attach

# ---- the vsyscall page ---------------------------------------------------------------
if ! grep -q '^ffffffffff600000-.* ..x. .*\[vsyscall\]' /proc/self/maps; then
	echo "vsyscall page: not mapped executable here (vsyscall=none?); not checked"
else
	gdb_prelude "$tmp/vsys.gdb" 64
	cat >> "$tmp/vsys.gdb" <<'GDB'
handle SIGTRAP nostop noprint nopass
starti
python
arch = gdb.selected_inferior().architecture()
lo = int(gdb.parse_and_eval("(unsigned long)calls"))
for entry in ("0xffffffffff600000", "0xffffffffff600400", "0xffffffffff600800"):
    mov = next(i for i in arch.disassemble(lo, lo + 4000) if entry in i["asm"])
    gdb.execute("tbreak *%d" % mov["addr"], to_string=True)
    gdb.execute("continue", to_string=True)
    for _ in range(16):
        if int(gdb.parse_and_eval("(unsigned long)$pc")) >= 0xffffffffff600000:
            break
        gdb.execute("stepi", to_string=True)
    gdb.execute("vs_compare")
end
GDB
	run_gdb vsys "$tmp/vsys.gdb" --args "$T64" calls
	check_compare vsys 3
	check_clean vsys
	if [ "$(grep -c '^#[0-9].* main (' "$tmp/vsys.out")" -ge 6 ]; then
		pass "vsyscall page: bt reaches main from all three entries, with and without the reader"
	else
		fail "vsyscall page: bt does not reach main"
		sed 's/^/  | /' "$tmp/vsys.out" | head -40
	fi
fi
finish
