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

# a debug image whose build-id differs (the running image was relinked)
# but whose loadable bytes are the image's: matched by content, and said so
flip_build_id() { # IN OUT [text]: the build-id's first byte changed, and .text's first byte
	python3 - "$@" <<'PY'
import re, subprocess, sys
b = bytearray(open(sys.argv[1], "rb").read())
bid = re.search(r"Build ID: ([0-9a-f]+)", subprocess.run(["readelf", "-n", sys.argv[1]],
      capture_output=True, text=True).stdout).group(1)
i = b.find(bytes.fromhex(bid))
b[i] ^= 0xff
if len(sys.argv) > 3:
    sec = subprocess.run(["readelf", "-SW", sys.argv[1]], capture_output=True, text=True).stdout
    off = re.search(r"\s\.text\s+PROGBITS\s+[0-9a-f]+\s+([0-9a-f]+)", sec).group(1)
    b[int(off, 16)] ^= 0x01
open(sys.argv[2], "wb").write(b)
PY
}
flip_build_id "$tmp/full.so" "$tmp/relinked.so"
flip_build_id "$tmp/full.so" "$tmp/changed.so" text
if [ "$(readelf -n "$tmp/relinked.so" | grep 'Build ID')" != "$(readelf -n "$tmp/full.so" | grep 'Build ID')" ]; then
	compare_line "--debug-file with another build-id, same loadable bytes" "$a1" --file "$tmp/stripped.so" --debug-file "$tmp/relinked.so"
	m=$("$VDSOSCOPE" info --json --file "$tmp/stripped.so" --debug-file "$tmp/relinked.so" | python3 -c 'import json,sys; print(json.load(sys.stdin)["debug_match"])')
	[ "$m" = content ] && pass "info says the debug file matched by content" || fail "debug_match is '$m', not content"
	mkdir -p "$tmp/bycontent"
	cp "$tmp/relinked.so" "$tmp/bycontent/vdso.so"
	compare_line "--debug-dir finds a file matching by content" "$a1" --file "$tmp/stripped.so" --debug-dir "$tmp/bycontent"
	m=$("$VDSOSCOPE" info --json --file "$tmp/stripped.so" | python3 -c 'import json,sys; print(json.load(sys.stdin)["debug_match"])')
	[ "$m" = None ] && pass "no debug file found: debug_match null" || fail "debug_match is '$m' without a debug file"
	expect_error "a debug file with another build-id and one text byte changed" 1 "build-id does not match" \
		"$VDSOSCOPE" --file "$tmp/stripped.so" --debug-file "$tmp/changed.so"
else
	fail "the build-id of the relinked copy did not change"
fi

cc -shared -fPIC -O1 -g -Wl,--build-id -Wl,-soname,other.so -DOTHER "$tmp/fake.c" -o "$tmp/other.so"
expect_error "debug file of another build" 1 "build-id does not match" \
	"$VDSOSCOPE" --file "$tmp/stripped.so" --debug-file "$tmp/other.so"

finish
