#!/bin/bash
# The command line: help, version, usage errors, JSON that parses, and
# symbolize answers checked against readelf's symbol values.
. "${top_srcdir:-.}/tests/lib.sh"

expect_ok "--help" "$VDSOSCOPE" --help
grep -q '^Usage: vdsoscope' "$tmp/out" && pass "--help prints usage" || fail "--help text"
expect_ok "--version" "$VDSOSCOPE" --version
expect_ok "no arguments describes this process's vDSO" "$VDSOSCOPE"
grep -q '^soname: *linux-vdso.so.1' "$tmp/out" && pass "info names linux-vdso.so.1" || fail "info: $(cat "$tmp/out")"
expect_error "unknown command" 2 "unknown command 'frobnicate'" "$VDSOSCOPE" frobnicate
expect_error "unknown option" 2 "unrecognized option|Try" "$VDSOSCOPE" --frobnicate
expect_error "two sources" 2 "one of --self" "$VDSOSCOPE" --self --pid 1
expect_error "bad pid" 2 "not a process id" "$VDSOSCOPE" --pid abc
expect_error "symbolize without addresses" 2 "at least one address" "$VDSOSCOPE" symbolize
expect_error "extract without -o" 2 "needs -o" "$VDSOSCOPE" extract
expect_error "--load-addr without --file" 2 "goes with --file" "$VDSOSCOPE" --load-addr 0x1000

for cmd in info symbols cfi "symbolize +0x800 +0x5"; do
	"$VDSOSCOPE" $cmd --json > "$tmp/j" 2> /dev/null
	if python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/j"; then
		pass "$cmd --json parses"
	else
		fail "$cmd --json: $(head -c 300 "$tmp/j")"
	fi
done

# every code symbol readelf lists, one byte in: named by one of the names
# readelf gives that address, with its version, in the image mapped at an
# address of choice
"$VDSOSCOPE" extract -o "$tmp/v.so"
readelf -W --dyn-syms "$tmp/v.so" > "$tmp/readelf"
load=0x500000000
addrs=$(awk '$4 == "FUNC" && $7 != "UND" { print $2 }' "$tmp/readelf" | sort -u |
	while read -r v; do printf '0x%x ' $((load + 0x$v + 1)); done)
[ -n "$addrs" ] || fail "readelf listed no functions"
"$VDSOSCOPE" symbolize --file "$tmp/v.so" --load-addr $load $addrs > "$tmp/sym.out"
if python3 - "$tmp/readelf" "$tmp/sym.out" $load <<'PY'
import re, sys
names = {}
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) >= 8 and f[3] == "FUNC" and f[6] != "UND":
        name, _, ver = re.sub("@@", "@", f[7]).partition("@")
        names.setdefault(int(f[1], 16), set()).add((name, ver))
load, bad = int(sys.argv[3], 0), 0
for line in open(sys.argv[2]):
    addr, what = line.split()[:2]
    m = re.fullmatch(r"(.+)@(.+)\+0x1", what)
    value = int(addr, 16) - load - 1
    if not m or (m.group(1), m.group(2)) not in names.get(value, ()):
        print(f"  {addr}: got {what}, readelf has {sorted(names.get(value, ()))}")
        bad += 1
sys.exit(1 if bad or len(names) == 0 else 0)
PY
then pass "symbolize agrees with readelf for $(echo $addrs | wc -w) addresses"; else fail "symbolize"; fi

rc=0
"$VDSOSCOPE" symbolize --file "$tmp/v.so" 0x10000000 > "$tmp/out" || rc=$?
if [ $rc = 1 ] && grep -q '?? (not in the vDSO)' "$tmp/out"; then
	pass "outside address: $(cat "$tmp/out"), exit 1"
else
	fail "outside address: exit $rc, $(cat "$tmp/out")"
fi
finish
