#!/bin/bash
# `make install` into a scratch root (DESTDIR), then a stock gdb that is told
# nothing but where that root's init file is: `vdso info` on a running
# process, the reader loaded from the root, `bt` through the vDSO of a core
# that lacks it after the one command the error names, and the reader found
# by name in its jit-reader-directory.
#
# Debian's gdb reads its system init files from a fixed /etc/gdb/gdbinit.d
# (`gdb --configuration`), which a test must not write to.  gdb sources each
# file of that directory with source_script (gdb/main.c), before
# ~/.gdbinit and before -ix files, which go through the same source_script,
# before the program or core is loaded.  So `gdb -nx -ix ROOT/SYSCONFDIR/
# gdb/gdbinit.d/vdsoscope.py` runs exactly what gdb runs at start-up after a
# real `make install`, from the installed file, with the installed files
# around it; -nx keeps the machine's own init files (and any vdsoscope
# installed there) out.  What is not proven here: that gdb reads this
# build's gdbinitdir at all; configure's summary compares it with gdb's.
. "${top_srcdir:-.}/tests/gdb.sh"

unset VDSOSCOPE VDSOSCOPE_GDB_READER
T64=$(cd "$(dirname "$T64")" && pwd)/vdso-target
root=$tmp/root
cd "$tmp"

if ! make -s --no-print-directory -C "$top_builddir" install DESTDIR="$root" > install.log 2>&1; then
	fail "make install DESTDIR=$root"; tail -20 install.log | sed 's/^/  | /'; finish; exit 1
fi
read -r initdir readerdir bindir < <(printf 'vs-print:\n\t@echo $(gdbinitdir) $(gdbreaderdir) $(bindir)\n' |
	make -s --no-print-directory -C "$top_builddir" -f Makefile -f - vs-print)
[ -n "$initdir" ] && [ "$initdir" != no ] || skip "configured --without-gdb-system-gdbinit-dir"
init=$root$initdir/vdsoscope.py
for f in "$init" "$root$readerdir/vdsoscope-gdb.so" "$root$bindir/vdsoscope"; do
	[ -f "$f" ] && pass "installed: ${f#"$root"}" || fail "not installed: ${f#"$root"}"
done
[ -e "$readerdir/vdsoscope-gdb.so" ] || [ -e "$bindir/vdsoscope" ] &&
	echo "note: $readerdir or $bindir holds another install; the maps check below tells them apart"

# gdb as after installation: only PATH's system directories, no environment
# of the build tree, the init file the way gdb reads its system init files
plain_gdb() {
	env -i HOME="$tmp" PATH=/usr/bin:/bin TMPDIR="$tmp" timeout 300 gdb -nx -ix "$init" -batch "$@" < /dev/null
}

# ---- a running process ------------------------------------------------------------
start_target w "$T64" wait
plain_gdb -ex 'vdso info' \
	-ex 'python import re; gdb.write("@@reader %s\n" % " ".join(sorted(set(l.split()[-1] for l in open("/proc/self/maps") if "vdsoscope-gdb" in l))))' \
	-ex 'info proc mappings' -p "$w_pid" > live.out 2> live.err
range=$(awk '/\[vdso\]$/ { print $1, $2 }' live.out)
if [ -n "$range" ]; then
	# the vDSO as gdb itself dumps it, for readelf
	plain_gdb -ex "dump binary memory $tmp/live-vdso.so ${range% *} ${range#* }" -p "$w_pid" > /dev/null 2>&1
fi
want=$(readelf -n live-vdso.so 2>/dev/null | sed -n 's/^ *Build ID: *//p')
got=$(sed -n 's/^build-id: *//p' live.out)
if [ -n "$want" ] && [ "$got" = "$want" ] && grep -q "^load address: *${range% *}$" live.out; then
	pass "plain gdb -p: vdso info gives build-id $got (readelf -n of gdb's dump) at ${range% *}"
else
	fail "plain gdb -p: vdso info: build-id '$got', readelf '$want', mapping '$range'"
	sed 's/^/  | /' live.out live.err | head -30
fi
if [ "$(sed -n 's/^@@reader //p' live.out)" = "$root$readerdir/vdsoscope-gdb.so" ]; then
	pass "gdb mapped the installed reader: $(sed -n 's/^@@reader //p' live.out)"
else
	fail "gdb mapped '$(sed -n 's/^@@reader //p' live.out)', not $root$readerdir/vdsoscope-gdb.so"
fi
check_clean live
stop_target w

# ---- a core without the vDSO ---------------------------------------------------------
cat > mk.gdb <<GDB
set confirm off
handle SIGTRAP nostop noprint nopass
starti
tbreak __vdso_clock_gettime
continue
stepi 4
gcore $tmp/g.core
python import re; m = [l.split() for l in gdb.execute("info proc mappings", to_string=True).splitlines() if l.endswith("[vdso]")][0]; gdb.execute("dump binary memory $tmp/vdso.so %s %s" % (m[0], m[1]))
kill
GDB
run_gdb mk mk.gdb --args "$T64" calls
[ -s g.core ] && [ -s vdso.so ] || { fail "gcore or the vDSO dump"; sed 's/^/  | /' mk.out mk.err; finish; exit 1; }
$CHECK drop-vdso-load g.core nv.core > /dev/null || fail "dropping the vDSO PT_LOAD"

plain_gdb -ex 'vdso info' "$T64" nv.core > nv.out 2> nv.err
cmd=$(sed -n 's/^vdso: the core has no vDSO.*`\(vdso [^`]*\)`.*/\1/p' nv.err)
case $cmd in
"vdso load-image FILE") pass "vdso info on the core names the fix: $cmd" ;;
*) fail "vdso info on the core without the vDSO names no command"; sed 's/^/  | /' nv.err; cmd="vdso load-image FILE" ;;
esac
plain_gdb -ex 'set pagination off' -ex "${cmd%FILE}$tmp/vdso.so" -ex 'echo @@bt\n' -ex bt "$T64" nv.core \
	> fix.out 2> fix.err
# gdb alone on the intact core
env -i HOME="$tmp" PATH=/usr/bin:/bin gdb -nx -batch -ex 'set pagination off' -ex 'echo @@bt\n' -ex bt "$T64" g.core \
	< /dev/null > ref.out 2> ref.err
sed -n '/^@@bt$/,$p' fix.out | grep '^#' > fix.bt
sed -n '/^@@bt$/,$p' ref.out | grep '^#' > ref.bt
if grep -q ' main (' fix.bt && cmp -s fix.bt ref.bt; then
	pass "after '${cmd%FILE}vdso.so' bt reaches main, as on the intact core: $(tr '\n' ' ' < fix.bt | tr -s ' ')"
else
	fail "bt after the named command differs from the intact core's"
	diff -u ref.bt fix.bt | sed 's/^/  | /'; sed 's/^/  | /' fix.err | tail -5
fi

if [ -z "$(find "$root" -name __pycache__)" ]; then
	pass "gdb wrote nothing into the installed tree"
else
	fail "gdb wrote into the installed tree: $(find "$root" -name __pycache__)"
fi

# ---- the reader by name, as a gdb installed in the same prefix finds it ------------
# gdb looks for readers in its jit-reader-directory, which moves with the gdb
# program (relocatable): a copy of the stock gdb in ROOT/BINDIR looks where a
# gdb installed in BINDIR would.
gdbbin=$(readlink -f "$(command -v gdb)")
gdbjit=$(gdb --configuration | sed -n 's/.*--with-jit-reader-dir=\([^ ]*\).*/\1/p')
datadir=$(gdb -nx -batch -ex 'show data-directory' | sed -n 's/.*"\(.*\)"\./\1/p')
if [ -n "$gdbjit" ] && [ "$(realpath -ms --relative-to="$(dirname "$gdbbin")" "$gdbjit")" = \
     "$(realpath -ms --relative-to="$bindir" "$readerdir")" ]; then
	cp "$gdbbin" "$root$bindir/gdb"
	env -i HOME="$tmp" PATH=/usr/bin:/bin "$root$bindir/gdb" -nx -batch --data-directory="$datadir" \
		-ex 'jit-reader-load vdsoscope-gdb.so' \
		-ex 'python gdb.write("@@reader %s\n" % " ".join(sorted(set(l.split()[-1] for l in open("/proc/self/maps") if "vdsoscope-gdb" in l))))' \
		< /dev/null > byname.out 2> byname.err
	if [ "$(sed -n 's/^@@reader //p' byname.out)" = "$root$readerdir/vdsoscope-gdb.so" ]; then
		pass "jit-reader-load vdsoscope-gdb.so in a gdb installed in $bindir loads $readerdir/vdsoscope-gdb.so"
	else
		fail "jit-reader-load vdsoscope-gdb.so by name"; sed 's/^/  | /' byname.out byname.err
	fi
	[ "$readerdir" = "$gdbjit" ] && echo "note: $gdbbin itself looks in $gdbjit, this build's reader directory"
else
	echo "note: $readerdir is not where a gdb in $bindir looks (${gdbjit:-?} for $gdbbin): by name not checked"
fi
finish
