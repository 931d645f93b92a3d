#!/bin/bash
# Debug files matched by build-id: local functions and file:line, compared
# with eu-addr2line on the same debug file.  An image made here stands in
# for a vDSO (a stripped shared object and its unstripped twin); real
# Debian images are run-debian-dbg.sh's.
. "${top_srcdir:-.}/tests/lib.sh"

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
cc -shared -fPIC -O1 -g -Wl,--build-id -Wl,-soname,linux-fake.so.1 "$tmp/fake.c" -o "$tmp/full.so" ||
	skip "no C compiler to make a test image"
strip -o "$tmp/stripped.so" "$tmp/full.so"
helper=$(readelf -Ws "$tmp/full.so" | awk '$8 == "helper" { print "0x" $2 }')
[ -n "$helper" ] || fail "readelf finds no helper in the test image"
a1=$(printf '0x%x' $((helper + 1)))

# compare_line LABEL ADDR ARGS...: function and file:line as eu-addr2line has them
compare_line() {
	local label=$1 addr=$2; shift 2
	want_fn=$(eu-addr2line -f -e "$tmp/full.so" "$addr" | sed -n 1p)
	want_line=$(eu-addr2line -e "$tmp/full.so" "$addr" | sed 's/:\([0-9]*\):[0-9]*$/:\1/')
	got=$("$VDSOSCOPE" symbolize "$@" "$addr")
	if [ "$(echo "$got" | awk '{ sub(/\+.*/, "", $2); print $2 }')" = "$want_fn" ] &&
	   [ "$(echo "$got" | awk '{ print $3 }')" = "$want_line" ]; then
		pass "$label: $got"
	else
		fail "$label: vdsoscope '$got', eu-addr2line '$want_fn $want_line'"
	fi
}

compare_line "--debug-file" "$a1" --file "$tmp/stripped.so" --debug-file "$tmp/full.so"
id=$("$VDSOSCOPE" info --json --file "$tmp/full.so" --no-debug | python3 -c 'import json,sys; print(json.load(sys.stdin)["build_id"])')
mkdir -p "$tmp/dbg/${id:0:2}"
cp "$tmp/full.so" "$tmp/dbg/${id:0:2}/${id:2}.debug"
compare_line "--debug-dir (.build-id layout)" "$a1" --file "$tmp/stripped.so" --debug-dir "$tmp/dbg"
compare_line "unstripped image is its own debug file" "$a1" --file "$tmp/full.so"

"$VDSOSCOPE" symbolize --file "$tmp/stripped.so" --no-debug "$a1" > "$tmp/nodebug" || true
if grep -q 'helper' "$tmp/nodebug"; then fail "without the debug file the static function has a name"; else pass "without the debug file: $(cat "$tmp/nodebug")"; fi

cc -shared -fPIC -O1 -g -Wl,--build-id -Wl,-soname,other.so -DOTHER "$tmp/fake.c" -o "$tmp/other.so"
expect_error "debug file of another build" 1 "build-id does not match" \
	"$VDSOSCOPE" --file "$tmp/stripped.so" --debug-file "$tmp/other.so"

finish
