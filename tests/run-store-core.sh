#!/bin/bash
# A core whose vDSO segment was removed, backtraced with the image the store
# holds (found by build-id): the same frames eu-stack gives on the whole
# core, down to main, with both engines.
. "${top_srcdir:-.}/tests/lib.sh"
BTCMP="python3 $top_srcdir/tests/bt-compare.py"

"$VDSOSCOPE" backtrace --help > /dev/null 2>&1 || skip "built without libunwind (no backtrace)"
command -v eu-stack > /dev/null || skip "eu-stack (elfutils) is not installed"
command -v gcore > /dev/null || skip "gcore (gdb) is not installed"

start_target thr "$T64" threads
"$top_builddir/tests/vdso-stop" "$thr_pid" > "$tmp/regs" || { fail "vdso-stop"; finish; exit 1; }
gcore -o "$tmp/g" "$thr_pid" > /dev/null 2>&1 || { fail "gcore"; finish; exit 1; }
core=$tmp/g.$thr_pid
store=$tmp/store
"$VDSOSCOPE" store add --pid "$thr_pid" --store "$store" > /dev/null || fail "store add --pid"
id=$("$VDSOSCOPE" info --json --pid "$thr_pid" | python3 -c 'import json,sys; print(json.load(sys.stdin)["build_id"])')
kill -9 "$thr_pid"; wait "$thr_pid" 2> /dev/null

$CHECK drop-vdso-load "$core" "$tmp/novdso.core" > /dev/null
eu-stack --core="$core" -e "$T64" > "$tmp/eu" 2>&1
expect_error "without the image" 1 "give the image with --image FILE or --build-id ID" \
	"$VDSOSCOPE" backtrace --core "$tmp/novdso.core"
expect_error "a build-id the store lacks" 1 "$(echo "${id:0:8}" | tr -d '\n')|not found" \
	env DEBUGINFOD_URLS= "$VDSOSCOPE" backtrace --core "$tmp/novdso.core" --build-id "$(echo "$id" | tr '0-9a-f' 'f0-9a-e')" --store "$store"
for e in libunwind libdwfl; do
	if env DEBUGINFOD_URLS= "$VDSOSCOPE" backtrace --core "$tmp/novdso.core" --build-id "$id" --store "$store" \
		--engine $e --json > "$tmp/$e.json" 2> "$tmp/err"; then
		if $BTCMP check "$tmp/$e.json" --eu-stack "$tmp/eu" --regs "$tmp/regs" --main --vdso-top 4 > "$tmp/cmp" 2>&1; then
			pass "core without its vDSO, image from the store by build-id, $e = eu-stack on the whole core: $(tail -n1 "$tmp/cmp")"
		else
			fail "$e"; sed 's/^/  | /' "$tmp/cmp"
		fi
	else
		fail "$e: $(cat "$tmp/err")"
	fi
done
finish
