# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared by the run-gdb*.sh tests: real gdb in batch mode with and without
# vdsoscope's JIT reader, compared on gdb's own output.
. "${top_srcdir:-.}/tests/lib.sh"

command -v gdb > /dev/null || skip "gdb is not installed"
READER=$top_builddir/plugin/.libs/vdsoscope-gdb.so
[ -f "$READER" ] || skip "plugin/vdsoscope-gdb.so was not built (configure found no <gdb/jit-reader.h>)"
READER=$(cd "$(dirname "$READER")" && pwd)/vdsoscope-gdb.so
VDSO_PY=$(cd "$top_builddir/gdb-scripts" && pwd)/vdso.py
AGENT=$(cd "$top_builddir/plugin/.libs" && pwd)/libvdsoscope-agent.so
GDBCHECK="python3 $top_srcdir/tests/gdb-check.py"
export VDSOSCOPE_GDB_READER=$READER VDSOSCOPE

# gdb_prelude FILE BITS: common settings and the vs_compare command, which
# prints the backtrace and the caller's registers natively, then with the
# reader loaded (and once more with `set debug frame 1` to stderr), then
# unloads the reader again.
gdb_prelude() {
	local regs="rip rsp rbp rbx r12 r13 r14 r15"
	[ "$2" = 32 ] && regs="eip esp ebp ebx esi edi"
	cat > "$1" <<GDB
set pagination off
set width 0
set height 0
set confirm off
define vs_compare
  echo @@native\\n
  info symbol \$pc
  bt
  frame 1
  info registers $regs
  jit-reader-load $READER
  maintenance flush register-cache
  echo @@reader\\n
  info symbol \$pc
  bt
  frame 1
  info registers $regs
  echo @@end\\n
  python gdb.write("@@debug\\n", gdb.STDLOG)
  set debug frame 1
  bt
  set debug frame 0
  jit-reader-unload
  maintenance flush register-cache
  frame 0
end
define vs_truth
  jit-reader-load $READER
  maintenance flush register-cache
  frame 1
  echo @@claim\\n
  info registers $regs
  echo @@endclaim\\n
  tbreak *\$pc
  frame 0
  jit-reader-unload
  maintenance flush register-cache
  continue
  echo @@truth\\n
  info registers $regs
  echo @@endtruth\\n
end
GDB
}

# vs_truth: the caller's registers as the reader unwinds them, then the
# registers when the program reaches the caller's PC (a breakpoint there,
# the reader unloaded): the truth the unwinding must match, independent of
# gdb's own unwinders.

# run_gdb NAME COMMANDFILE ARGS...: gdb -batch; stdout in $tmp/NAME.out,
# stderr in $tmp/NAME.err
run_gdb() {
	local name=$1 cmds=$2; shift 2
	timeout 300 gdb -nx -batch -x "$cmds" "$@" > "$tmp/$name.out" 2> "$tmp/$name.err" < /dev/null
}

# check_compare NAME MIN: every vs_compare block in NAME's output agrees and
# the reader claimed exactly the vDSO frames; at least MIN blocks
check_compare() {
	local name=$1 min=$2
	if $GDBCHECK compare "$tmp/$name.out" "$tmp/$name.err" "$min" > "$tmp/$name.check" 2>&1; then
		pass "$name: $(tail -n1 "$tmp/$name.check")"
	else
		fail "$name: gdb with the reader differs from gdb alone"
		sed 's/^/  | /' "$tmp/$name.check"
	fi
}

# Warnings gdb 13 gives here with or without the reader: the kernel's
# xstate note is larger than gdb knows, gcore reads /proc/PID/cmdline and
# cannot read the execute-only vsyscall page.
GDB_OWN_WARNINGS="Section \`\.reg-xstate/[0-9]+' in core file too small|/cmdline contained unexpected null characters|Memory read failed for corefile section, 4096 bytes at 0xffffffffff600000"

# check_truth NAME MIN: every vs_truth block agrees, at least MIN blocks
check_truth() {
	local name=$1 min=$2
	if $GDBCHECK truth "$tmp/$name.out" "$min" > "$tmp/$name.truth" 2>&1; then
		pass "$name: $(tail -n1 "$tmp/$name.truth")"
	else
		fail "$name: the reader's caller registers differ from the state after the return"
		sed 's/^/  | /' "$tmp/$name.truth"
	fi
}

# check_clean NAME...: no warnings (but gdb's own, above, and those that
# $BASELINE's session without the reader had too), internal errors or Python
# exceptions
check_clean() {
	local name bad
	for name in "$@"; do
		bad=$(grep -hiE 'warning|internal-error|internal problem|Python Exception|Traceback|Fatal signal|Segmentation' \
			"$tmp/$name.out" "$tmp/$name.err" | grep -v '^\[frame\]' |
			grep -vE "$GDB_OWN_WARNINGS" |
			grep -vxF -f <(cat "$tmp/${BASELINE:-none}.out" "$tmp/${BASELINE:-none}.err" 2>/dev/null; echo @@) |
			head -n5)
		if [ -z "$bad" ]; then
			pass "$name: no warnings or errors from gdb"
		else
			fail "$name: gdb said:"
			echo "$bad" | sed 's/^/  | /'
		fi
	done
}
