#!/bin/bash
# aarch64 on an x86_64 build, from elfutils' real aarch64 core (kernel 3.13,
# a vDSO with .eh_frame that keeps a return address in x2): the image's
# symbols are readelf's, its rows are readelf's frames-interp at every
# address, and the core's threads backtrace as far as eu-stack goes without
# the executable, naming the missing file.
. "${top_srcdir:-.}/tests/lib.sh"
BTCMP="python3 $top_srcdir/tests/bt-compare.py"

data=${VDSOSCOPE_SHARED_DATA:-$top_srcdir/../shared/data}/elfutils-cores
[ -f "$data/backtrace.aarch64.core.bz2" ] || skip "$data/backtrace.aarch64.core.bz2 is absent (../shared/data)"
command -v eu-stack > /dev/null || skip "eu-stack (elfutils) is not installed"
core=$tmp/aarch64.core
bzip2 -dc "$data/backtrace.aarch64.core.bz2" > "$core"

"$VDSOSCOPE" extract --core "$core" -o "$tmp/vdso.so"
arch=$("$VDSOSCOPE" info --json --core "$core" | python3 -c 'import json,sys; print(json.load(sys.stdin)["machine"])')
[ "$arch" = aarch64 ] && pass "info: arch aarch64" || fail "info: arch '$arch'"
"$VDSOSCOPE" symbols --json --file "$tmp/vdso.so" > "$tmp/syms.json"
expect_ok "symbols = readelf --dyn-syms" $CHECK symbols "$tmp/vdso.so" "$tmp/syms.json" 0
"$VDSOSCOPE" cfi --json --file "$tmp/vdso.so" > "$tmp/cfi.json"
expect_ok "rows = readelf frames-interp at every address" $CHECK cfi "$tmp/vdso.so" "$tmp/cfi.json" 0

# the vDSO of the core at its run-time address: the same rows, rebased
"$VDSOSCOPE" cfi --json --core "$core" > "$tmp/cfi-core.json"
base=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["load_address"])' \
	<("$VDSOSCOPE" info --json --core "$core"))
expect_ok "rows of the core's vDSO at 0x${base#0x}" $CHECK cfi "$tmp/vdso.so" "$tmp/cfi-core.json" "$base"

eu-stack --core "$core" > "$tmp/eu" 2>&1
if "$VDSOSCOPE" backtrace --core "$core" --json > "$tmp/bt.json" 2> "$tmp/err" &&
   $BTCMP check "$tmp/bt.json" --eu-prefix "$tmp/eu" > "$tmp/cmp" 2>&1 &&
   python3 - "$tmp/bt.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
ends = [t.get("end", "") for t in d["threads"]]
print("  ends:", ends)
sys.exit(not ends or not all("backtrace-child" in e and "not found" in e for e in ends))
PY
then
	pass "backtrace --core: a prefix of eu-stack's frames per thread, the missing executable named"
else
	fail "backtrace --core"; sed 's/^/  | /' "$tmp/err" "$tmp/cmp" "$tmp/bt.json"
fi
finish
