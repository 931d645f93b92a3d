#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# vdsoscope profile on the workload that calls clock_gettime through the
# vDSO along two known chains (x86_64 and i386): the vDSO samples unwind
# through the vDSO to main and _start; the frames agree with gdb's bt for
# the same chain; the recorded samples replayed after the process exited
# give the same stacks, and libunwind over the same copies (--engine
# libunwind) gives the same vDSO stacks; bad input gets a clear error.
. "${top_srcdir:-.}/tests/lib.sh"
PCHECK="python3 $top_srcdir/tests/profile-check.py"

need_profile

check() { local what=$1; shift; checked first "$what" $PCHECK "$@"; }

for bits in 64 32; do
	if [ $bits = 64 ]; then T=$T64; else T=$T32; fi
	if [ ! -x "$T" ]; then
		echo "note: no 32-bit test program (gcc-multilib missing); i386 not checked"
		continue
	fi
	# ~2.5 s at 2 kHz: the workload ends itself, the profile ends with it
	if $VDSOSCOPE profile --json --frequency 2000 --record "$tmp/rec$bits" \
		-- "$T" profile-workload 3 > "$tmp/live$bits.json" 2> "$tmp/err"; then
		pass "$bits-bit: profile -- COMMAND: $(grep '^samples' "$tmp/err")"
	else
		fail "$bits-bit: profile -- COMMAND"; sed 's/^/  | /' "$tmp/err"; continue
	fi
	check "$bits-bit: vDSO samples unwind into the known chains" chains "$tmp/live$bits.json" 200
	for leaf in inner inner2 inner3; do
		timeout 120 gdb -batch -nx -ex "break $leaf" -ex run -ex delete \
			-ex 'break __vdso_clock_gettime' -ex continue -ex bt \
			--args "$T" profile-workload 1 > "$tmp/gdb" 2>&1 < /dev/null
		check "$bits-bit: the $leaf chain agrees with gdb's bt" gdb "$tmp/live$bits.json" "$tmp/gdb"
	done
	# the process is gone; the record has what is needed
	if $VDSOSCOPE profile --json --replay "$tmp/rec$bits" > "$tmp/replay$bits.json" 2> "$tmp/err"; then
		pass "$bits-bit: replay"
	else
		fail "$bits-bit: replay"; sed 's/^/  | /' "$tmp/err"
	fi
	check "$bits-bit: replayed stacks are the live ones" same "$tmp/live$bits.json" "$tmp/replay$bits.json"
	# libunwind over the same copies, with the snapshot accessors
	$VDSOSCOPE profile --json --engine libunwind --replay "$tmp/rec$bits" \
		> "$tmp/unw$bits.json" 2> "$tmp/err"
	if [ $bits = 64 ]; then
		check "64-bit: --engine libunwind: vDSO samples unwind into the known chains" \
			chains "$tmp/unw$bits.json" 200
		check "64-bit: --engine libunwind gives the core's stacks for every vDSO sample" \
			same-vdso "$tmp/replay$bits.json" "$tmp/unw$bits.json"
	elif grep -q "engine libunwind unwinds x86_64 processes only" "$tmp/err"; then
		pass "32-bit: --engine libunwind says it cannot"
	else
		fail "32-bit: --engine libunwind: $(cat "$tmp/err")"
	fi
done

# a recording replayed on a machine where the program is elsewhere: found
# under --sysroot, or by build-id under a --debug-dir root
if [ -x "$T64" ] && [ "$(head -c 4 "$T64" | od -An -c | tr -d ' ')" = "177ELF" ]; then
	mkdir -p "$tmp/away"
	cp "$T64" "$tmp/away/prog"
	$VDSOSCOPE profile --json --frequency 2000 --record "$tmp/rec-away" \
		-- "$tmp/away/prog" profile-workload 3 > /dev/null 2> "$tmp/err" ||
		fail "profile of a copy of the workload"
	mkdir -p "$tmp/root$tmp"
	mv "$tmp/away" "$tmp/root$tmp/away"
	$VDSOSCOPE profile --json --replay "$tmp/rec-away" > "$tmp/away.json" 2> "$tmp/err"
	if $PCHECK chains "$tmp/away.json" 200 > /dev/null 2>&1; then
		fail "replay without the program still finds the chains"
	else
		pass "replay without the program: the chains are not found"
	fi
	# libunwind over the same samples: it stops at the missing file as
	# well, where its own fallback would guess callers by frame pointer
	$VDSOSCOPE profile --json --engine libunwind --replay "$tmp/rec-away" > "$tmp/away-unw.json" \
		2> "$tmp/err"
	if python3 - "$tmp/away-unw.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
print(f"  libunwind without the program: {s['unwound_to_root']} of {s['samples']} to the root,"
      f" ends {s['ends']}")
sys.exit(not (s["samples"] > 0 and s["unwound_to_root"] == 0 and s["ends"].get("file-unusable", 0) > 0))
PY
	then
		pass "replay --engine libunwind without the program: every stack ends at the missing file"
	else
		fail "replay --engine libunwind without the program goes past the missing file"
	fi
	$VDSOSCOPE profile --json --replay "$tmp/rec-away" --sysroot "$tmp/root" \
		> "$tmp/sysroot.json" 2> "$tmp/err"
	check "replay --sysroot: vDSO samples unwind into the known chains" chains "$tmp/sysroot.json" 200
	id=$(readelf -nW "$tmp/root$tmp/away/prog" | sed -n 's/.*Build ID: *//p')
	if [ -n "$id" ]; then
		mkdir -p "$tmp/dbg/.build-id/$(echo "$id" | cut -c1-2)"
		ln -s "$tmp/root$tmp/away/prog" "$tmp/dbg/.build-id/$(echo "$id" | cut -c1-2)/$(echo "$id" | cut -c3-)"
		$VDSOSCOPE profile --json --replay "$tmp/rec-away" --debug-dir "$tmp/dbg" \
			> "$tmp/byid.json" 2> "$tmp/err"
		check "replay --debug-dir ROOT (by build-id): the known chains" chains "$tmp/byid.json" 200
	fi
fi

# --pid: a running process, folded output
start_target w "$T64" profile-workload
if $VDSOSCOPE profile --pid "$w_pid" --duration 2 --frequency 1000 --svg "$tmp/fg.svg" \
	> "$tmp/folded" 2> "$tmp/err"; then
	pass "profile --pid: $(grep '^samples' "$tmp/err")"
else
	fail "profile --pid"; sed 's/^/  | /' "$tmp/err"
fi
if grep -Eq '^_start;.*;main;profile_workload;outer;inner;(__vdso_)?clock_gettime [0-9]+$' "$tmp/folded"; then
	pass "profile --pid: folded stack main;profile_workload;outer;inner;__vdso_clock_gettime"
else
	fail "profile --pid: no folded stack through the vDSO"; sed 's/^/  | /' "$tmp/folded"
fi
if grep -q '<svg' "$tmp/fg.svg" && grep -q 'inner2' "$tmp/fg.svg" && ! grep -Eq '(href|src)=' "$tmp/fg.svg" &&
	python3 -c 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1])' "$tmp/fg.svg"; then
	pass "--svg: a well-formed SVG without external references"
else
	fail "--svg: $(head -c 300 "$tmp/fg.svg")"
fi
kill -9 "$w_pid"
wait "$w_pid" 2>/dev/null

# bad input
expect_error "--pid of a process that is gone" 1 "pid $w_pid: no such process" \
	$VDSOSCOPE profile --pid "$w_pid" --duration 1
if [ -f "$tmp/rec64" ]; then
	head -c $(($(stat -c %s "$tmp/rec64") - 100)) "$tmp/rec64" > "$tmp/trunc"
	expect_error "a truncated record file" 1 "record file .*trunc: truncated" \
		$VDSOSCOPE profile --replay "$tmp/trunc"
	head -c 12 "$tmp/rec64" > "$tmp/short"
	expect_error "a record file cut inside its header" 1 "not a vdsoscope profile record" \
		$VDSOSCOPE profile --replay "$tmp/short"
fi
printf 'hello, world' > "$tmp/junk"
expect_error "not a record file" 1 "record file .*junk: not a vdsoscope profile record" \
	$VDSOSCOPE profile --replay "$tmp/junk"
expect_error "--pid and a command together" 2 "give one of" $VDSOSCOPE profile --pid 1 -- true
expect_error "a command that does not exist" 1 "cannot run /nonexistent" \
	$VDSOSCOPE profile -- /nonexistent
finish
