#!/bin/bash
# A core whose vDSO segment was removed: gdb alone shows "??" and loses the
# frames above the vDSO; with gdb-scripts/vdso.py (which loads the reader) and
# `vdso load-image` it shows the backtrace of the intact core, and the reader
# did the unwinding.  Also `vdso info` and `vdso extract` on the intact core,
# and `vdso reader off|on`.
. "${top_srcdir:-.}/tests/gdb.sh"

T64=$(cd "$(dirname "$T64")" && pwd)/vdso-target
cd "$tmp"

cat > mk.gdb <<GDB
set confirm off
handle SIGTRAP nostop noprint nopass
starti
tbreak __vdso_clock_gettime
continue
stepi 4
gcore $tmp/g.core
kill
GDB
run_gdb mk mk.gdb --args "$T64" calls
[ -s g.core ] || { fail "gcore wrote no core"; sed 's/^/  | /' mk.out mk.err; finish; exit 1; }
"$VDSOSCOPE" extract --core g.core -o vdso.so > /dev/null || fail "vdsoscope extract --core"
$CHECK drop-vdso-load g.core nv.core > /dev/null || fail "dropping the vDSO PT_LOAD"

# bt lines without the source line numbers' text after "at"
bt_of() { sed -n '/^@@bt$/,/^@@end$/p' "$1" | grep '^#'; }

cat > intact.gdb <<GDB
set pagination off
source $VDSO_PY
vdso info
vdso extract $tmp/ex.so
vdso reader off
echo @@bt\\n
bt
echo @@end\\n
GDB
run_gdb intact intact.gdb "$T64" g.core
bt_of intact.out > ref.bt
if grep -q 'soname: *linux-vdso.so.1' intact.out && grep -q "load address: *0x" intact.out; then
	pass "vdso info: $(grep soname intact.out | tr -s ' ')"
else
	fail "vdso info"; sed 's/^/  | /' intact.out intact.err
fi
if cmp -s ex.so vdso.so; then pass "vdso extract: the same bytes as vdsoscope extract --core"; else fail "vdso extract"; fi
if grep -q '^#0 .* in clock_gettime ()' ref.bt && grep -q ' main (' ref.bt; then
	pass "intact core: $(tr '\n' ' ' < ref.bt | tr -s ' ')"
else
	fail "intact core: unexpected bt"; cat ref.bt
fi

cat > alone.gdb <<GDB
set pagination off
echo @@bt\\n
bt
echo @@end\\n
GDB
run_gdb alone alone.gdb "$T64" nv.core
bt_of alone.out > alone.bt
if grep -q '?? ()' alone.bt && ! cmp -s alone.bt ref.bt; then
	pass "without the vDSO segment gdb alone loses the stack: $(tr '\n' ' ' < alone.bt | tr -s ' ')"
else
	fail "gdb alone unwinds the core without the vDSO segment"; cat alone.bt
fi

cat > loaded.gdb <<GDB
set pagination off
source $VDSO_PY
vdso load-image $tmp/vdso.so
echo @@bt\\n
bt
echo @@end\\n
python gdb.write("@@debug\\n", gdb.STDLOG)
set debug frame 1
bt
set debug frame 0
vdso reader off
vdso reader on
vdso reader on
echo @@bt\\n
bt
echo @@end\\n
GDB
run_gdb loaded loaded.gdb "$T64" nv.core
sed -n '/^@@bt$/,/^@@end$/p' loaded.out | grep '^#' > loaded.bt
if cmp -s loaded.bt <(cat ref.bt ref.bt); then
	pass "vdso load-image: the intact core's backtrace, also after reader off/on"
else
	fail "vdso load-image: backtrace differs from the intact core's"
	diff -u <(cat ref.bt ref.bt) loaded.bt | sed 's/^/  | /'
fi
# the same with the image found by build-id in a store
"$VDSOSCOPE" store add --file "$tmp/vdso.so" --store "$tmp/store" > /dev/null ||
	fail "store add of the extracted image"
id=$("$VDSOSCOPE" info --json --file "$tmp/vdso.so" --no-debug | python3 -c 'import json,sys; print(json.load(sys.stdin)["build_id"])')
cat > byid.gdb <<GDB
set pagination off
source $VDSO_PY
vdso load-image --build-id $id --store $tmp/store
echo @@bt\\n
bt
echo @@end\\n
GDB
DEBUGINFOD_URLS= run_gdb byid byid.gdb "$T64" nv.core
sed -n '/^@@bt$/,/^@@end$/p' byid.out | grep '^#' > byid.bt
if cmp -s byid.bt ref.bt; then
	pass "vdso load-image --build-id (from the store): the intact core's backtrace"
else
	fail "vdso load-image --build-id: backtrace differs from the intact core's"
	diff -u ref.bt byid.bt | sed 's/^/  | /'; sed 's/^/  | /' byid.err | tail -5
fi
$GDBCHECK frames loaded.err > frames.txt
if [ "$(head -n1 frames.txt)" = "0 jit" ]; then
	pass "the reader unwound the vDSO frame (set debug frame 1)"
else
	fail "frame 0 was not unwound by the reader"; cat frames.txt
fi
BASELINE=alone check_clean intact loaded

# a bad image is refused with a message, and gdb goes on
head -c 100 vdso.so > short.so
echo "source $VDSO_PY" > bad.gdb
run_gdb bad bad.gdb -ex "vdso load-image $tmp/short.so" -ex "vdso load-image $tmp/nonexistent.so" \
	-ex 'echo still here\n' "$T64" nv.core
if grep -q 'vdso: .*short.so' bad.err && grep -q 'no such file' bad.err && grep -q 'still here' bad.out; then
	pass "vdso load-image refuses bad files: $(grep short.so bad.err | head -n1)"
else
	fail "vdso load-image with bad files"; sed 's/^/  | /' bad.out bad.err
fi
finish
