#!/bin/bash
# The reader's read(): a registered image with DWARF line tables becomes gdb
# symbols with lines.  An unstripped shared object named linux-vdso.so.1
# stands in for a vDSO with its debug file: gdb's `info line` for a local
# function's address gives the file and line eu-addr2line gives.
. "${top_srcdir:-.}/tests/gdb.sh"

command -v eu-addr2line > /dev/null || skip "eu-addr2line (elfutils) is not installed"
cat > "$tmp/fake.c" <<'C'
static int __attribute__((noinline)) helper(int x)
{
	return x * 3 + 1;
}

int fake_gettime(int x)
{
	return helper(x) + 2;
}
C
cc -shared -fPIC -O1 -g -Wl,--build-id -Wl,-soname,linux-vdso.so.1 "$tmp/fake.c" -o "$tmp/fake.so" ||
	skip "no C compiler to make a test image"
off=$(readelf -Ws "$tmp/fake.so" | awk '$8 == "helper" { print "0x" $2 }')
want=$(eu-addr2line -e "$tmp/fake.so" "$(printf '0x%x' $((off + 1)))" | sed 's/:\([0-9]*\):[0-9]*$/:\1/')
cat > "$tmp/l.gdb" <<GDB
set pagination off
set confirm off
jit-reader-load $READER
break registered
run
python
import re
load = int(gdb.parse_and_eval("(unsigned long)(__jit_debug_descriptor.first_entry->symfile_addr)")) + 24
gdb.write("@@line " + gdb.execute("info line *%d" % (load + $off + 1), to_string=True))
gdb.write("@@symbol " + gdb.execute("x/i %d" % (load + $off + 1), to_string=True))
end
GDB
timeout 120 gdb -nx -batch -x "$tmp/l.gdb" --args "$top_builddir/tests/jit-register" "$tmp/fake.so" > "$tmp/l.out" 2>&1 < /dev/null
line=$(sed -n 's/^@@line Line \([0-9]*\) of "\([^"]*\)".*/\2:\1/p' "$tmp/l.out")
sym=$(sed -n 's/^@@symbol .*<\([^+>]*\)+1>.*/\1/p' "$tmp/l.out")
if [ -n "$line" ] && [ "$line" = "$want" ] && [ "$sym" = helper ]; then
	pass "registered image: info line $line, x/i in $sym, as eu-addr2line"
else
	fail "registered image: gdb '$sym' '$line', eu-addr2line 'helper' '$want'"
	sed 's/^/  | /' "$tmp/l.out" | tail -20
fi
# without the reader gdb has neither the function nor the line
sed '/^jit-reader-load/d' "$tmp/l.gdb" > "$tmp/n.gdb"
timeout 120 gdb -nx -batch -x "$tmp/n.gdb" --args "$top_builddir/tests/jit-register" "$tmp/fake.so" > "$tmp/n.out" 2>&1 < /dev/null
if grep -q '^@@line Line' "$tmp/n.out" || grep -q '<helper' "$tmp/n.out"; then
	fail "gdb finds the lines without the reader: the test shows nothing"
else
	pass "without the reader gdb has no line or function there"
fi
finish
