#!/bin/bash
# libvdsoscope-agent.so registers the vDSO with gdb's JIT interface: with the
# reader loaded, gdb lists the registration (maint info jit) and names vDSO
# functions from the reader's symbol table (__vdso_clock_gettime, where gdb's
# own minimal symbol is clock_gettime); in the process's core with the vDSO
# segment removed the registration alone gives names and unwinding to main.
. "${top_srcdir:-.}/tests/gdb.sh"

T64=$(cd "$(dirname "$T64")" && pwd)/vdso-target
[ -f "$AGENT" ] || { fail "libvdsoscope-agent.so was not built"; finish; exit 1; }
cd "$tmp"

cat > live.gdb <<GDB
set pagination off
set confirm off
jit-reader-load $READER
set environment LD_PRELOAD=$AGENT
handle SIGTRAP nostop noprint nopass
starti
tbreak __vdso_clock_gettime
continue
echo @@jit\\n
maint info jit
echo @@bt\\n
bt
echo @@end\\n
info symbol \$pc
gcore $tmp/a.core
kill
GDB
run_gdb live live.gdb --args "$T64" calls
jit_entries() { sed -n '/^@@jit$/,/^@@bt$/p' "$1" | grep -c '^0x'; }
bt_of() { sed -n '/^@@bt$/,/^@@end$/p' "$1" | grep '^#'; }
if [ "$(jit_entries live.out)" = 1 ]; then
	pass "maint info jit: the agent's registration"
else
	fail "maint info jit shows no registration"; sed 's/^/  | /' live.out live.err
fi
if bt_of live.out | grep -q '^#0 .* in __vdso_clock_gettime ()' && grep -q '^clock_gettime + 4 in section' live.out &&
   bt_of live.out | grep -q ' main ('; then
	pass "bt names the reader's __vdso_clock_gettime (gdb's own symbol: clock_gettime) and reaches main"
else
	fail "bt does not use the reader's symbols"; sed 's/^/  | /' live.out
fi
check_clean live

if [ -s a.core ]; then
	$CHECK drop-vdso-load a.core nv.core > /dev/null || fail "dropping the vDSO PT_LOAD"
	cat > core.gdb <<GDB
set pagination off
jit-reader-load $READER
core-file $tmp/nv.core
echo @@jit\\n
maint info jit
echo @@bt\\n
bt
echo @@end\\n
python gdb.write("@@debug\\n", gdb.STDLOG)
set debug frame 1
bt
GDB
	run_gdb core core.gdb "$T64"
	$GDBCHECK frames core.err > frames.txt
	if [ "$(jit_entries core.out)" = 1 ] && bt_of core.out | grep -q '^#0 .* in __vdso_clock_gettime ()' &&
	   bt_of core.out | grep -q ' main (' && [ "$(head -n1 frames.txt)" = "0 jit" ]; then
		pass "core without the vDSO segment: the registration names and unwinds the vDSO"
	else
		fail "core without the vDSO segment"; sed 's/^/  | /' core.out; cat frames.txt
	fi
	# gdb alone on the same core, for the warnings that are not the reader's
	printf 'core-file %s\nbt\n' "$tmp/nv.core" > alone.gdb
	run_gdb alone alone.gdb "$T64"
	BASELINE=alone check_clean core
else
	fail "gcore wrote no core"
fi
finish
