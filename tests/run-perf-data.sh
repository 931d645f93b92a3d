#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# vdsoscope profile --perf-data on recordings of `perf record --call-graph
# dwarf` of the workload that calls clock_gettime through the vDSO along
# known chains: x86_64 stacks are the known chains and perf script's own
# callchains sample by sample; i386 stacks (from perf's copy of the i386
# vDSO) reach main; a 32-bit and a 64-bit process in one recording each
# get their own vDSO; a program removed after the recording is read from
# perf's cache; a recording whose vDSO images are on no part of this
# machine unwinds with them given through the store, and names the
# build-ids it lacks without; pipe-mode, call-graph-less, truncated,
# random and mutated files fail with a clear message.
. "${top_srcdir:-.}/tests/lib.sh"
# 1 GiB of address space for what reads hostile files; an ASan build needs
# terabytes of shadow reservation, so there its own allocation checks stand in
limit=$((1024 * 1024))
space="in 1 GiB"
(ulimit -v $limit && "$VDSOSCOPE" --version) > /dev/null 2>&1 || { limit=unlimited; space="(ASan)"; }
PCHECK="python3 $top_srcdir/tests/profile-check.py"

$VDSOSCOPE profile --help > /dev/null 2>&1 || skip "built without the unwind library (no profile)"
command -v perf > /dev/null 2>&1 || skip "perf is not installed"
# perf keeps the images it saw in $HOME/.debug: a private cache
HOME=$tmp/home
export HOME
mkdir -p "$HOME"
if ! perf record -q -o "$tmp/probe.data" -- true > /dev/null 2> "$tmp/probe"; then
	skip "perf record cannot sample here: $(grep -v '^$' "$tmp/probe" | head -n1)"
fi

check() { local what=$1; shift; checked first "$what" $PCHECK "$@"; }

# record FILE COMMAND...: perf record --call-graph dwarf of COMMAND
record() {
	local out=$1; shift
	perf record -q --call-graph dwarf -F 2000 -o "$out" -- "$@" > /dev/null 2> "$tmp/perf.err"
}

# profile WHAT OUT ARGS...: vdsoscope profile ARGS, stdout to OUT
profile() {
	local what=$1 out=$2; shift 2
	if $VDSOSCOPE profile "$@" > "$out" 2> "$tmp/err"; then
		pass "$what: $(grep '^samples' "$tmp/err")"
	else
		fail "$what"; sed 's/^/  | /' "$tmp/err"
	fi
}

# ---- x86_64 --------------------------------------------------------------------
if record "$tmp/p64.data" "$T64" profile-workload 1; then
	profile "64-bit: --perf-data" "$tmp/p64.json" --perf-data "$tmp/p64.data" --json \
		--svg "$tmp/p64.svg"
	check "64-bit: vDSO samples unwind into the known chains" chains "$tmp/p64.json" 200
	profile "64-bit: --perf-data --per-sample" "$tmp/p64.jsonl" --perf-data "$tmp/p64.data" \
		--json --per-sample
	perf script --ns -F pid,tid,time,ip,sym,dso -i "$tmp/p64.data" > "$tmp/p64.script" 2> /dev/null
	check "64-bit: each sample's frames are perf script's where it reaches main" \
		perf-script "$tmp/p64.jsonl" "$tmp/p64.script" 200
	if python3 -c 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1])' "$tmp/p64.svg" &&
		grep -q inner2 "$tmp/p64.svg"; then
		pass "64-bit: --svg of a perf.data file"
	else
		fail "64-bit: --svg of a perf.data file"
	fi
else
	fail "perf record of the 64-bit workload"; sed 's/^/  | /' "$tmp/perf.err"
fi

# ---- i386 ----------------------------------------------------------------------
if [ ! -x "$T32" ]; then
	echo "note: no 32-bit test program (gcc-multilib missing); i386 not checked"
elif record "$tmp/p32.data" "$T32" profile-workload 1; then
	profile "32-bit: --perf-data" "$tmp/p32.json" --perf-data "$tmp/p32.data" --json
	check "32-bit: vDSO samples unwind into the known chains (to main and _start)" \
		chains "$tmp/p32.json" 200 linux-gate.so.1
else
	fail "perf record of the 32-bit workload"; sed 's/^/  | /' "$tmp/perf.err"
fi

# ---- a 32-bit and a 64-bit process in one recording -----------------------------
if [ -x "$T32" ]; then
	if record "$tmp/two.data" sh -c "\"$T32\" profile-workload 1 & \"$T64\" profile-workload 1; wait"
	then
		profile "32 and 64 bits in one recording" "$tmp/two.json" --perf-data "$tmp/two.data" --json
		check "one recording: the i386 process's vDSO samples" chains "$tmp/two.json" 200 \
			linux-gate.so.1
		check "one recording: the x86_64 process's vDSO samples" chains "$tmp/two.json" 200 \
			linux-vdso.so.1
	else
		fail "perf record of two processes"; sed 's/^/  | /' "$tmp/perf.err"
	fi
fi

# A perf that lists only its own x86_64 vDSO (older perfs, and perf without
# its 32-bit vDSO reader): the recording made on this kernel, so the i386
# processes get this kernel's i386 vDSO, from the 32-bit helper.
if [ -f "$tmp/two.json" ] && python3 - "$tmp" <<'PY'
import sys
tmp = sys.argv[1]
data = open(f"{tmp}/two.data", "rb").read()
assert data.count(b"[vdso32]") == 1
open(f"{tmp}/only64.data", "wb").write(data.replace(b"[vdso32]", b"[vdsoZZ]"))
PY
then
	profile "a recording that names only the x86_64 vDSO" "$tmp/only64.json" \
		--perf-data "$tmp/only64.data" --json
	grep -q "names no i386 vDSO; its x86_64 vDSO is this kernel's" "$tmp/err" ||
		fail "no note that this kernel's i386 vDSO stands in"
	check "only the x86_64 vDSO named: the i386 process's vDSO samples" chains \
		"$tmp/only64.json" 200 linux-gate.so.1
	VDSOSCOPE_HELPER_DIR=$tmp/nowhere $VDSOSCOPE profile --perf-data "$tmp/only64.data" \
		> /dev/null 2> "$tmp/err"
	if grep -q "pid [0-9]* (i386): the recording names no i386 vDSO" "$tmp/err"; then
		pass "without the 32-bit helper: $(grep 'names no i386' "$tmp/err")"
	else
		fail "without the 32-bit helper"; sed 's/^/  | /' "$tmp/err"
	fi
fi

# A program that is gone since the recording: perf's cache kept a copy
# ($HOME/.debug/.build-id/xx/rest -> .../elf), which is used
mkdir -p "$tmp/away"
cp "$T64" "$tmp/away/prog"
if record "$tmp/away.data" "$tmp/away/prog" profile-workload 1; then
	rm -rf "$tmp/away"
	profile "the program removed after the recording" "$tmp/away.json" \
		--perf-data "$tmp/away.data" --json
	check "the program from perf's cache: vDSO samples unwind into the known chains" \
		chains "$tmp/away.json" 200
	mkdir -p "$tmp/nocache"
	HOME=$tmp/nocache $VDSOSCOPE profile --perf-data "$tmp/away.data" --json \
		> "$tmp/nocache.json" 2> /dev/null
	if $PCHECK chains "$tmp/nocache.json" 200 > /dev/null 2>&1; then
		fail "without perf's cache the removed program still gives the chains"
	else
		pass "without perf's cache the removed program's frames are not made up"
	fi
else
	fail "perf record of a copy of the workload"; sed 's/^/  | /' "$tmp/perf.err"
fi

# ---- another kernel --------------------------------------------------------------
# The build-ids of both vDSOs rewritten in the recording and in copies of
# perf's images: images that neither this machine's processes, perf's
# cache nor the default store have.
if [ -f "$tmp/two.json" ]; then
	perf buildid-list -i "$tmp/two.data" > "$tmp/ids" 2> /dev/null
	id64=$(awk '$2 == "[vdso]" { print $1 }' "$tmp/ids")
	id32=$(awk '$2 == "[vdso32]" { print $1 }' "$tmp/ids")
	if [ -n "$id64" ] && [ -n "$id32" ] && python3 - "$tmp" "$HOME/.debug" "$id64" "$id32" <<'PY'
import sys
tmp, cache, ids = sys.argv[1], sys.argv[2], sys.argv[3:]
data = open(f"{tmp}/two.data", "rb").read()
for k, h in enumerate(ids):
    old = bytes.fromhex(h)
    new = bytes(b ^ 0x5a for b in old)
    img = open(f"{cache}/[vdso]/{h}/vdso", "rb").read()
    assert img.count(old) == 1 and data.count(old) >= 1
    open(f"{tmp}/moved{k}.so", "wb").write(img.replace(old, new))
    open(f"{tmp}/moved{k}.id", "w").write(new.hex())
    data = data.replace(old, new)
open(f"{tmp}/moved.data", "wb").write(data)
PY
	then
		new64=$(cat "$tmp/moved0.id") new32=$(cat "$tmp/moved1.id")
		perf buildid-list -i "$tmp/moved.data" 2> /dev/null | grep -q "^$new32 \[vdso32\]" ||
			fail "the rewritten recording does not name $new32 for [vdso32]"
		mkdir -p "$tmp/elsewhere"
		if HOME=$tmp/elsewhere $VDSOSCOPE profile --perf-data "$tmp/moved.data" --json \
			> "$tmp/moved.json" 2> "$tmp/err" &&
			grep -q "no vDSO image of build-id $new64" "$tmp/err" &&
			grep -q "no vDSO image of build-id $new32" "$tmp/err" &&
			python3 -c 'import json, sys; sys.exit(any(f["vdso"] for s in json.load(open(sys.argv[1]))["stacks"] for f in s["frames"]))' "$tmp/moved.json"
		then
			pass "images of another kernel missing: both build-ids named, no vDSO frames made up"
		else
			fail "images of another kernel missing"; sed 's/^/  | /' "$tmp/err"
		fi
		$VDSOSCOPE store add --store "$tmp/store" --file "$tmp/moved0.so" > /dev/null 2>&1 &&
			$VDSOSCOPE store add --store "$tmp/store" --file "$tmp/moved1.so" > /dev/null 2>&1 ||
			fail "store add of the rewritten images"
		HOME=$tmp/elsewhere
		profile "images of another kernel from --store" "$tmp/store.json" \
			--perf-data "$tmp/moved.data" --store "$tmp/store" --json
		HOME=$tmp/home
		check "another kernel: the i386 process's vDSO samples" chains "$tmp/store.json" 200 \
			linux-gate.so.1
		check "another kernel: the x86_64 process's vDSO samples" chains "$tmp/store.json" 200 \
			linux-vdso.so.1
	else
		fail "rewriting the recording's vDSO build-ids ([vdso] '$id64', [vdso32] '$id32')"
	fi
fi

# ---- bad files -----------------------------------------------------------------------
if perf record -q --call-graph dwarf -o - -- "$T64" profile-workload 1 > "$tmp/pipe.data" 2> /dev/null; then
	expect_error "a pipe-mode recording" 1 "perf data .*pipe.data: a pipe-mode recording" \
		$VDSOSCOPE profile --perf-data "$tmp/pipe.data"
else
	fail "perf record -o -"
fi
if perf record -q -o "$tmp/nocg.data" -- "$T64" profile-workload 1 > /dev/null 2>&1; then
	expect_error "a recording without --call-graph dwarf" 1 \
		"perf data .*nocg.data: the samples carry no user registers.*--call-graph dwarf" \
		$VDSOSCOPE profile --perf-data "$tmp/nocg.data"
else
	fail "perf record without a call graph"
fi
if [ -f "$tmp/p64.data" ]; then
	head -c $(($(stat -c %s "$tmp/p64.data") / 2)) "$tmp/p64.data" > "$tmp/trunc.data"
	expect_error "a truncated recording" 1 "perf data .*trunc.data: truncated" \
		$VDSOSCOPE profile --perf-data "$tmp/trunc.data"
	head -c 60 "$tmp/p64.data" > "$tmp/short.data"
	expect_error "a recording cut inside its header" 1 "perf data .*short.data: truncated" \
		$VDSOSCOPE profile --perf-data "$tmp/short.data"
fi
head -c 65536 /dev/urandom > "$tmp/random.data"
expect_error "random bytes" 1 "perf data .*random.data: not a perf.data file" \
	$VDSOSCOPE profile --perf-data "$tmp/random.data"
expect_error "--perf-data with --record" 2 "goes without --record" \
	$VDSOSCOPE profile --perf-data "$tmp/random.data" --record "$tmp/x"

# a small recording with bytes changed anywhere: a profile or a clear error
if perf record -q --call-graph dwarf -F 200 -o "$tmp/small.data" -- "$T64" profile-workload 1 \
	> /dev/null 2>&1 && python3 - "$tmp" <<'PY'
import random, sys
tmp = sys.argv[1]
data = open(f"{tmp}/small.data", "rb").read()
rng = random.Random(7)
for k in range(40):
    b = bytearray(data)
    for _ in range(rng.randint(1, 16)):
        # the header, the attributes and the feature sections, or anywhere
        at = rng.choice([rng.randrange(0, 512), rng.randrange(len(b) - 4096, len(b)),
                         rng.randrange(0, len(b))])
        b[at] = rng.choice([0, 0xff, rng.randrange(256)])
    open(f"{tmp}/mut{k}.data", "wb").write(b)
PY
then
	bad=0
	for k in $(seq 0 39); do
		rc=0
		$VDSOSCOPE profile --perf-data "$tmp/mut$k.data" > /dev/null 2> "$tmp/err" || rc=$?
		if [ $rc -gt 1 ] || { [ $rc = 1 ] && ! grep -q "^vdsoscope: perf data " "$tmp/err"; }; then
			bad=$((bad + 1))
			echo "  mut$k.data: exit $rc: $(head -n1 "$tmp/err")"
			cp "$tmp/mut$k.data" "${top_builddir}/tests/perf-data-mut$k.data" 2> /dev/null
		fi
	done
	if [ $bad = 0 ]; then pass "40 mutated recordings: a profile or a clear error each"
	else fail "$bad of 40 mutated recordings crashed or failed without a clear message"; fi
	# the fuzz harness's entry point as an ordinary program, in 1 GiB
	if [ -x "$top_builddir/tests/replay-perf-data" ]; then
		if (ulimit -v $limit; timeout 120 "$top_builddir/tests/replay-perf-data" \
			"$tmp/small.data" "$tmp"/mut*.data) > "$tmp/out" 2>&1; then
			pass "replay-perf-data $space: $(tail -n1 "$tmp/out")"
		else
			fail "replay-perf-data"; tail -n 30 "$tmp/out" | sed 's/^/  | /'
		fi
	fi
else
	fail "the small recording for mutation"
fi

# files made to make the reader keep and redo much: 20000 code mappings,
# then a new one before each of 20000 samples (each sample's process made
# again), or 20000 forks of the process that has them
cat > "$tmp/gen.py" <<'PY'
import struct, sys
ST = (1 << 1) | (1 << 2) | (1 << 12) | (1 << 13)
MASK = 0xff01ff
def attr():
    a = bytearray(128)
    struct.pack_into("<IIQQQQ", a, 0, 1, 128, 0, 0, ST, 0)
    flags = 1 << 18  # sample_id_all
    struct.pack_into("<Q", a, 40, flags)
    struct.pack_into("<Q", a, 80, MASK)
    struct.pack_into("<I", a, 88, 64)
    return bytes(a) + struct.pack("<QQ", 0, 0)
def rec(t, misc, body):
    size = 8 + len(body)
    return struct.pack("<IHH", t, misc, size) + body
def trailer(pid, time):
    return struct.pack("<IIQ", pid, pid, time)
def mmap2(pid, addr, ln, time, name=b"/nonexistent/x"):
    n = name + b"\0" * (8 - len(name) % 8)
    body = struct.pack("<IIQQQ", pid, pid, addr, ln, 0) + b"\0" * 24 + struct.pack("<II", 5, 2) + n
    return rec(10, 2, body + trailer(pid, time))
def fork(pid, ppid, time):
    return rec(7, 0, struct.pack("<IIIIQ", pid, ppid, pid, ppid, time) + trailer(pid, time))
def sample(pid, time, ip):
    regs = [0] * 17
    regs[7] = 0x7fff0000; regs[8] = ip
    body = struct.pack("<IIQ", pid, pid, time) + struct.pack("<Q", 2) + struct.pack("<17Q", *regs)
    body += struct.pack("<Q", 64) + b"\0" * 64 + struct.pack("<Q", 64)
    return rec(9, 2, body)
mode, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
data = bytearray(); t = 1
if mode == "churn":
    for i in range(n):
        data += mmap2(100, 0x100000 + i * 0x2000, 0x1000, t); t += 1
    for i in range(n):
        data += mmap2(100, 0x10000000 + i * 0x2000, 0x1000, t); t += 1
        data += sample(100, t, 0x100000); t += 1
elif mode == "forks":
    for i in range(n):
        data += mmap2(100, 0x100000 + i * 0x2000, 0x1000, t); t += 1
    for i in range(n):
        data += fork(1000 + i, 100, t); t += 1
a = attr()
hdr = struct.pack("<8sQQQQQQQQ", b"PERFILE2", 104, len(a), 104, len(a), 104 + len(a), len(data), 0, 0) + b"\0" * 32
open(out, "wb").write(hdr + a + bytes(data))
PY
for mode in churn forks; do
	if ! python3 "$tmp/gen.py" $mode 20000 "$tmp/$mode.data"; then
		fail "writing $mode.data"
		continue
	fi
	rc=0
	(ulimit -v $limit; timeout 60 $VDSOSCOPE profile --perf-data "$tmp/$mode.data") \
		> /dev/null 2> "$tmp/err" || rc=$?
	if { [ $rc = 0 ] || [ $rc = 1 ]; } && grep -q "^vdsoscope: perf data \|^samples:" "$tmp/err"; then
		pass "$mode.data $space within a minute: exit $rc: $(head -n1 "$tmp/err")"
	else
		fail "$mode.data: exit $rc"; sed 's/^/  | /' "$tmp/err" | head -n 5
	fi
done

# once under valgrind: a recording of two processes, and broken ones
if command -v valgrind > /dev/null 2>&1 && [ -f "$tmp/two.data" ]; then
	vg_bad=0
	for f in two trunc random mut3; do
		[ -f "$tmp/$f.data" ] || continue
		rc=0
		valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
			"${VDSOSCOPE_BIN:-$top_builddir/tools/vdsoscope}" profile --perf-data "$tmp/$f.data" \
			> /dev/null 2> "$tmp/vg" || rc=$?
		if [ $rc -gt 1 ]; then
			vg_bad=$((vg_bad + 1))
			echo "  valgrind on $f.data: exit $rc"; sed 's/^/  | /' "$tmp/vg" | head -n 30
		fi
	done
	if [ $vg_bad = 0 ]; then pass "valgrind: no errors on a good recording and broken ones"
	else fail "valgrind found errors"; fi
fi
finish
