#!/bin/bash
# A real debuginfod server (elfutils) over a store: debuginfod-find returns
# the stored bytes; vdsoscope with an empty store and DEBUGINFOD_URLS set
# resolves build-ids through the server, symbolizes like readelf and
# eu-addr2line, keeps what it fetched in its store, and refuses what is not
# a vDSO image.  The server listens on a free port and is only spoken to on
# 127.0.0.1; where possible the whole test runs in a network namespace of
# its own with nothing but the loopback device.
if [ -z "${VDSOSCOPE_NETNS:-}" ] && command -v unshare > /dev/null && command -v ip > /dev/null &&
   unshare -n true 2> /dev/null; then
	VDSOSCOPE_NETNS=1 exec unshare -n bash -c 'ip link set lo up && exec bash "$0"' "$0"
fi
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/store-lib.sh"

command -v debuginfod > /dev/null || skip "debuginfod (Debian package debuginfod) is not installed"
command -v debuginfod-find > /dev/null || skip "debuginfod-find is not installed"
grep -q '^#define HAVE_DEBUGINFOD 1' "$top_builddir/config.h" ||
	skip "vdsoscope was built without libdebuginfod (install libdebuginfod-dev, re-run configure)"
[ -n "${VDSOSCOPE_NETNS:-}" ] && echo "in a network namespace with only lo" ||
	echo "no network namespace here (unshare -n unavailable); talking to 127.0.0.1 only"

unset VDSOSCOPE_STORE DEBUGINFOD_URLS
export HOME=$tmp/home XDG_CACHE_HOME= DEBUGINFOD_CACHE_PATH=$tmp/client-cache
export DEBUGINFOD_TIMEOUT=20
unset DEBUGINFOD_PROGRESS DEBUGINFOD_VERBOSE

make_images
A=$tmp/served
imgs="$tmp/img64 $tmp/s1-stripped.so"
[ "$have32" = 1 ] && imgs="$imgs $tmp/img32"
for f in $imgs; do
	"$VDSOSCOPE" store add --store "$A" --file "$f" > /dev/null || fail "store add $f"
done
sid=$(build_id "$tmp/s1-stripped.so")
"$VDSOSCOPE" store add --store "$A" --file "$tmp/s1-stripped.so" --debug-file "$tmp/s1-full.so" > /dev/null
# not a vDSO, but an ELF file with a build-id the server will gladly serve
mkdir -p "$tmp/junk"
printf '#include <stdio.h>\nvoid say(void) { puts("hi"); }\n' > "$tmp/junk/u.c"
cc -shared -fPIC -O1 -Wl,--build-id -Wl,--no-as-needed "$tmp/junk/u.c" -o "$tmp/junk/u.so"
junkid=$(build_id "$tmp/junk/u.so")
nfiles=$(find "$A" "$tmp/junk" -type f | wc -l)

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
debuginfod -p "$port" -d "$tmp/index.sqlite" -t 0 -g 0 -c 1 -F "$A" "$tmp/junk" > "$tmp/server.log" 2>&1 &
server=$!
target_pids="$target_pids $server"
url=http://127.0.0.1:$port

# ready when the one traversal is done and every file it queued is scanned
metrics() { python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' "$url/metrics" 2> /dev/null; }
scanned() {
	local m
	m=$(metrics) || return 1
	echo "$m" | grep -q '^thread_work_total{role="traverse"} [1-9]' &&
	echo "$m" | grep -q '^thread_work_pending{role="scan"} 0$' &&
	echo "$m" | grep -q '^thread_busy{role="scan"} 0$' &&
	echo "$m" | grep -q "^scanned_files_total{source=\"file\"} $nfiles\$"
}
for i in $(seq 300); do
	scanned && break
	kill -0 "$server" 2> /dev/null || break
	sleep 0.1
done
if ! scanned; then
	fail "debuginfod on $url did not index $nfiles files"
	sed 's/^/  | /' "$tmp/server.log"
	finish
	exit 1
fi
pass "debuginfod -F indexed the store ($nfiles files) on $url"

# ---- what the server serves is what the store holds -----------------------------
export DEBUGINFOD_URLS=$url
for f in $imgs; do
	id=$(build_id "$f")
	got=$(debuginfod-find executable "$id" 2> "$tmp/find.err") || { fail "debuginfod-find executable $id: $(cat "$tmp/find.err")"; continue; }
	same_bytes "debuginfod-find executable $(basename "$f") = stored image" "$got" "$A/$id/vdso"
done
got=$(debuginfod-find debuginfo "$sid" 2> "$tmp/find.err") &&
	same_bytes "debuginfod-find debuginfo = stored debug file" "$got" "$A/$sid/vdso.debug" ||
	fail "debuginfod-find debuginfo $sid: $(cat "$tmp/find.err")"

# ---- vdsoscope through the server, with an empty store ---------------------------
B=$tmp/local
for img in img64 img32; do
	[ -f "$tmp/$img" ] || continue
	id=$(build_id "$tmp/$img")
	read -r addr name < <(readelf -W --dyn-syms "$tmp/$img" |
		awk '$4 == "FUNC" && $5 == "GLOBAL" && $2 !~ /^0+$/ { sub(/@.*/, "", $8); print $2, $8; exit }')
	a=$(printf '0x%x' $((0x$addr + 2)))
	got=$("$VDSOSCOPE" symbolize --store "$B" --build-id "$id" "$a" 2>&1)
	case $got in
	"$a $name@"*"+0x2") pass "$img through debuginfod: $got (readelf: $name at 0x$addr)" ;;
	*) fail "$img through debuginfod: '$got', readelf has $name at 0x$addr" ;;
	esac
	same_bytes "$img: fetched image kept in the store" "$B/$id/vdso" "$tmp/$img"
done
id64=$(build_id "$tmp/img64")
src=$("$VDSOSCOPE" info --json --store "$tmp/other" --build-id "$id64" 2>&1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["source"])' 2>&1)
[ "$src" = "build-id $id64 (debuginfod $url)" ] && pass "source: $src" || fail "source: '$src'"

helper=$(readelf -Ws "$tmp/s1-full.so" | awk '$8 == "helper" { print "0x" $2 }')
a=$(printf '0x%x' $((helper + 1)))
want=$(eu-addr2line -e "$tmp/s1-full.so" "$a" | sed 's/:\([0-9]*\):[0-9]*$/:\1/')
got=$("$VDSOSCOPE" symbolize --store "$B" --build-id "$sid" "$a" 2>&1)
[ "$got" = "$a helper+0x1 $want" ] && pass "debug file through debuginfod: $got" ||
	fail "debug file through debuginfod: '$got', eu-addr2line: helper $want"
same_bytes "fetched image kept in the store" "$B/$sid/vdso" "$tmp/s1-stripped.so"
same_bytes "fetched debug file kept in the store" "$B/$sid/vdso.debug" "$tmp/s1-full.so"

expect_error "the server's non-vDSO file is refused" 1 "build-id $junkid: .*debuginfod server has it; refused the file from $url: debuginfod $url: not a vDSO image: it needs libc" \
	"$VDSOSCOPE" info --store "$B" --build-id "$junkid"
[ ! -e "$B/$junkid" ] && pass "nothing kept for the refused file" || fail "$B/$junkid exists"
expect_error "an id the server lacks" 1 "build-id 0011223344: .*debuginfod server has it" \
	"$VDSOSCOPE" info --store "$B" --build-id 0011223344

kill "$server"
wait "$server" 2> /dev/null
target_pids=${target_pids% $server}
! kill -0 "$server" 2> /dev/null && pass "server stopped" || fail "server still running"

# ---- afterwards the store answers alone ------------------------------------------
src=$("$VDSOSCOPE" info --json --store "$B" --build-id "$sid" | python3 -c 'import json,sys; print(json.load(sys.stdin)["source"])')
[ "$src" = "build-id $sid (store $B/$sid/vdso)" ] && pass "with the server gone, from the store: $src" || fail "source '$src'"
expect_ok "verify the filled store" "$VDSOSCOPE" store verify --store "$B"

finish
