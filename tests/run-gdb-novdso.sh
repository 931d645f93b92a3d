#!/bin/bash
# A core whose vDSO segment was removed: gdb alone shows "??" and loses the
# frames above the vDSO; with gdb-scripts/vdso.py (which loads the reader) and
# `vdso load-image` it shows the backtrace of the intact core, and the reader
# did the unwinding.  Also `vdso info` and `vdso extract` on the intact core,
# and `vdso reader off|on`; `vdso info` on the core without the segment names
# the command that gives gdb the image, and after `vdso load-image` (also
# --build-id, which must leave no file behind) describes the loaded image.
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

want_id=$(readelf -n vdso.so | sed -n 's/^ *Build ID: *//p')
[ -n "$want_id" ] || fail "readelf -n finds no build-id in the extracted image"

cat > noinfo.gdb <<GDB
source $VDSO_PY
vdso info
GDB
run_gdb noinfo noinfo.gdb "$T64" nv.core
cmd=$(sed -n 's/^vdso: the core has no vDSO.*`\(vdso [^`]*\)`.*/\1/p' noinfo.err)
if [ "$cmd" = "vdso load-image FILE" ]; then
	pass "vdso info on the core without the vDSO names the fix: $(grep "no vDSO" noinfo.err)"
else
	fail "vdso info on the core without the vDSO: no command named"; sed 's/^/  | /' noinfo.out noinfo.err
	cmd="vdso load-image FILE"
fi

# the command the error names, with the image for FILE
cat > loaded.gdb <<GDB
set pagination off
source $VDSO_PY
${cmd%FILE}$tmp/vdso.so
echo @@info\\n
vdso info
echo @@endinfo\\n
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
vdso info
python import glob, tempfile; gdb.write("@@tempdir %s %d\\n" % (tempfile.gettempdir(), len(glob.glob(tempfile.gettempdir() + "/*"))))
GDB
mkdir -p "$tmp/gdbtmp" && ls -A "$tmp/gdbtmp" > tmp-before.txt
find "$tmp/store" -type f | sort > store-before.txt
DEBUGINFOD_URLS= TMPDIR=$tmp/gdbtmp run_gdb byid byid.gdb "$T64" nv.core
if grep -qx "@@tempdir $tmp/gdbtmp 0" byid.out && [ ! -s tmp-before.txt ] && [ -z "$(ls -A "$tmp/gdbtmp")" ] &&
   find "$tmp/store" -type f | sort | cmp -s - store-before.txt; then
	pass "vdso load-image --build-id: no file left in gdb's temporary directory or the store"
else
	fail "vdso load-image --build-id left files behind"; ls -la "$tmp/gdbtmp"; grep @@tempdir byid.out
fi
if [ "$(sed -n 's/^build-id: *//p' byid.out)" = "$want_id" ] &&
   grep -q "^source: *build-id $id (vdso load-image)" byid.out; then
	pass "vdso info after vdso load-image --build-id: build-id $want_id as readelf -n"
else
	fail "vdso info after vdso load-image --build-id"; sed 's/^/  | /' byid.out byid.err | tail -20
fi
sed -n '/^@@bt$/,/^@@end$/p' byid.out | grep '^#' > byid.bt
if cmp -s byid.bt ref.bt; then
	pass "vdso load-image --build-id (from the store): the intact core's backtrace"
else
	fail "vdso load-image --build-id: backtrace differs from the intact core's"
	diff -u ref.bt byid.bt | sed 's/^/  | /'; sed 's/^/  | /' byid.err | tail -5
fi
info_id=$(sed -n '/^@@info$/,/^@@endinfo$/s/^build-id: *//p' loaded.out)
if [ -n "$info_id" ] && [ "$info_id" = "$want_id" ] &&
   grep -q "^source: *file $tmp/vdso.so (vdso load-image)" loaded.out; then
	pass "vdso info after vdso load-image: the loaded image, build-id $info_id as readelf -n"
else
	fail "vdso info after vdso load-image: build-id '$info_id', readelf -n '$want_id'"
	sed 's/^/  | /' loaded.out loaded.err | head -30
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
