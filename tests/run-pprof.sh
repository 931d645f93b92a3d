#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# vdsoscope profile's other outputs, each against a reader or a truth of its
# own: `go tool pprof` reads --pprof files (live and replayed) and its
# -traces are the folded stacks of the same samples, the [vdso] mapping has
# the build-id readelf reads in the vDSO's bytes (also a 32-bit process's
# own linux-gate.so.1) and its locations are named with the function
# readelf's symbols place there; a C++ program's names come out as c++filt
# demangles the raw ones, which pprof keeps as system names; node's JIT frames are named as the entries of its
# /tmp/perf-PID.map that hold the sampled addresses; the kernel-time line
# agrees with the workload's own getrusage().
. "${top_srcdir:-.}/tests/lib.sh"
PCHECK="python3 $top_srcdir/tests/pprof-check.py"

need_profile

check() { local what=$1; shift; checked last "$what" $PCHECK "$@"; }

# go tool pprof, offline, writing nothing outside $tmp
gopprof() {
	HOME=$tmp GOPATH=$tmp/gopath GOCACHE=$tmp/gocache GOFLAGS= GOTOOLCHAIN=local \
		PPROF_TMPDIR=$tmp/pprof PPROF_BINARY_PATH=/nonexistent \
		timeout 60 go tool pprof -symbolize=none "$@"
}

# ---- pprof --------------------------------------------------------------------
if ! $VDSOSCOPE profile --pprof "$tmp/x.pb.gz" --replay /nonexistent > /dev/null 2> "$tmp/err" &&
	grep -q "built without protobuf-c" "$tmp/err"; then
	echo "note: $(cat "$tmp/err"); pprof not checked"
elif ! command -v go > /dev/null; then
	echo "note: no go (Debian package golang-go): pprof files not read"
else
	# the vDSO's bytes as this kernel maps them, for readelf
	python3 - "$tmp/vdso.so" <<'PY'
import sys
for line in open("/proc/self/maps"):
    if line.rstrip().endswith("[vdso]"):
        lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
        with open("/proc/self/mem", "rb") as m:
            m.seek(lo)
            open(sys.argv[1], "wb").write(m.read(hi - lo))
PY
	vid=$(readelf -n "$tmp/vdso.so" | sed -n 's/.*Build ID: *//p')
	readelf --dyn-syms -W "$tmp/vdso.so" > "$tmp/dynsyms"
	if $VDSOSCOPE profile --frequency 2000 --record "$tmp/rec" --pprof "$tmp/live.pb.gz" \
		-- "$T64" profile-workload 1 > "$tmp/live.folded" 2> "$tmp/err"; then
		pass "profile --pprof -- COMMAND: $(grep '^samples' "$tmp/err")"
	else
		fail "profile --pprof -- COMMAND"; sed 's/^/  | /' "$tmp/err"
	fi
	if $VDSOSCOPE profile --frequency 2000 --replay "$tmp/rec" --pprof "$tmp/replay.pb.gz" \
		> "$tmp/replay.folded" 2> "$tmp/err"; then
		pass "profile --pprof --replay"
	else
		fail "profile --pprof --replay"; sed 's/^/  | /' "$tmp/err"
	fi
	for run in live replay; do
		if gopprof -sample_index=samples -traces "$tmp/$run.pb.gz" > "$tmp/$run.traces" 2> "$tmp/err" &&
			gopprof -raw "$tmp/$run.pb.gz" > "$tmp/$run.raw" 2>> "$tmp/err" &&
			gopprof -top "$tmp/$run.pb.gz" > "$tmp/$run.top" 2>> "$tmp/err"; then
			pass "$run: go tool pprof reads the file: $(grep -m1 '__vdso_clock_gettime' "$tmp/$run.top" | sed 's/  */ /g')"
		else
			fail "$run: go tool pprof"; sed 's/^/  | /' "$tmp/err"
			continue
		fi
		check "$run: pprof -traces = the folded stacks" traces "$tmp/$run.folded" "$tmp/$run.traces"
		check "$run: the [vdso] mapping and its names" vdso "$tmp/$run.raw" "$vid" "$tmp/dynsyms" linux-vdso.so.1
		if grep -q "^Period: 500000$" "$tmp/$run.raw" && grep -q "^PeriodType: cpu nanoseconds" "$tmp/$run.raw" &&
			grep -q "^samples/count cpu/nanoseconds" "$tmp/$run.raw"; then
			pass "$run: sample types samples/count, cpu/nanoseconds; period 0.5 ms at 2 kHz"
		else
			fail "$run: sample types and period"; sed -n '1,4s/^/  | /p' "$tmp/$run.raw"
		fi
	done
	# a 32-bit process, its vDSO (linux-gate.so.1) not the profiler's, by --pid
	if [ -x "$T32" ]; then
		start_target w32 "$T32" profile-workload
		python3 - "$w32_pid" "$tmp/vdso32.so" <<'PY'
import sys
for line in open(f"/proc/{sys.argv[1]}/maps"):
    if line.rstrip().endswith("[vdso]"):
        lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
        with open(f"/proc/{sys.argv[1]}/mem", "rb") as m:
            m.seek(lo)
            open(sys.argv[2], "wb").write(m.read(hi - lo))
PY
		vid32=$(readelf -n "$tmp/vdso32.so" | sed -n 's/.*Build ID: *//p')
		readelf --dyn-syms -W "$tmp/vdso32.so" > "$tmp/dynsyms32"
		if $VDSOSCOPE profile --frequency 2000 --duration 1 --pid "$w32_pid" \
			--pprof "$tmp/w32.pb.gz" > "$tmp/w32.folded" 2> "$tmp/err" &&
			gopprof -sample_index=samples -traces "$tmp/w32.pb.gz" > "$tmp/w32.traces" 2>> "$tmp/err" &&
			gopprof -raw "$tmp/w32.pb.gz" > "$tmp/w32.raw" 2>> "$tmp/err"; then
			pass "32-bit --pid: $(grep '^samples' "$tmp/err")"
			check "32-bit: pprof -traces = the folded stacks" traces "$tmp/w32.folded" "$tmp/w32.traces"
			check "32-bit: the [vdso] mapping is linux-gate.so.1's" vdso "$tmp/w32.raw" "$vid32" "$tmp/dynsyms32" linux-gate.so.1
		else
			fail "32-bit --pid --pprof"; sed 's/^/  | /' "$tmp/err"
		fi
		kill "$w32_pid" 2> /dev/null
		wait "$w32_pid" 2> /dev/null
	fi
	# inlined functions: middle3 is inlined into outer3 (several lines at one address)
	if awk '/M=[0-9]+ middle3 /{getline; if ($1 == "outer3") ok=1} END{exit !ok}' "$tmp/live.raw"; then
		pass "middle3 inlined into outer3: one location, two lines, innermost first"
	else
		fail "no location has middle3 then outer3"; grep -A1 middle3 "$tmp/live.raw" | sed 's/^/  | /'
	fi
fi

# ---- C++ names and kernel time -------------------------------------------------
CXX=${CXX:-g++}
if ! command -v "$CXX" > /dev/null || ! command -v c++filt > /dev/null; then
	echo "note: no $CXX or c++filt: demangling not checked"
elif ! "$CXX" -O1 -g -o "$tmp/cxx-workload" "$top_srcdir/tests/cxx-workload.cc" 2> "$tmp/err"; then
	fail "building tests/cxx-workload.cc"; sed 's/^/  | /' "$tmp/err"
else
	if $VDSOSCOPE profile --frequency 1000 --record "$tmp/cxx.rec" \
		-- "$tmp/cxx-workload" 2 syscalls > "$tmp/cxx.folded" 2> "$tmp/cxx.err"; then
		pass "C++ workload profiled: $(grep '^kernel' "$tmp/cxx.err")"
	else
		fail "C++ workload"; sed 's/^/  | /' "$tmp/cxx.err"
	fi
	$VDSOSCOPE profile --replay "$tmp/cxx.rec" --no-demangle > "$tmp/cxx-raw.folded" 2> /dev/null
	$VDSOSCOPE profile --replay "$tmp/cxx.rec" > "$tmp/cxx-dem.folded" 2> "$tmp/replay.err"
	check "C++ names demangled as c++filt does" demangle "$tmp/cxx-raw.folded" "$tmp/cxx-dem.folded"
	if ! grep -q "built without protobuf-c" "$tmp/probe" && command -v go > /dev/null &&
		$VDSOSCOPE profile --replay "$tmp/cxx.rec" --pprof "$tmp/cxx.pb.gz" > /dev/null 2>&1 &&
		gopprof -raw "$tmp/cxx.pb.gz" > "$tmp/cxx.raw" 2> /dev/null; then
		check "pprof: demangled names, mangled system names" sysnames "$tmp/cxx.raw" 3
	fi
	if grep -q "vdsotest::detail::Clock<long>::read(int);clock_gettime;__vdso_clock_gettime " "$tmp/cxx-dem.folded"; then
		pass "a templated member of a nested namespace calls into the vDSO"
	else
		fail "no stack through vdsotest::detail::Clock<long>::read into the vDSO"
	fi
	# the summary's kernel share; the workload's rusage went to stdout, first
	# line, before the folded stacks
	grep '^rusage' "$tmp/cxx.folded" > "$tmp/rusage"
	check "kernel time against getrusage (getppid(2) loop)" kernel "$tmp/cxx.err" "$tmp/rusage" 20
	# and a program that stays in user mode (the vDSO loop alone)
	$VDSOSCOPE profile -- "$tmp/cxx-workload" 1 vdso > "$tmp/user.out" 2> "$tmp/user.err"
	grep '^rusage' "$tmp/user.out" > "$tmp/rusage"
	check "kernel time against getrusage (vDSO loop)" kernel "$tmp/user.err" "$tmp/rusage" 0
	live=$(sed -n 's/^kernel time: \(.*\) (\/proc\/\(.*\))$/\1 \2/p' "$tmp/cxx.err")
	rep=$(sed -n 's/^kernel time: \(.*\) (recorded from \/proc\/\(.*\))$/\1 \2/p' "$tmp/replay.err")
	if [ -n "$live" ] && [ "$live" = "$rep" ]; then
		pass "a replay gives the recorded kernel time: $rep"
	else
		fail "replay's kernel-time line: '$rep', live '$live'"; sed 's/^/  | /' "$tmp/replay.err"
	fi
	# without its last record (the CPU times: 8 + 24 bytes) the file is whole
	# but does not know them
	head -c -32 "$tmp/cxx.rec" > "$tmp/cxx-cut.rec"
	if $VDSOSCOPE profile --replay "$tmp/cxx-cut.rec" > /dev/null 2> "$tmp/replay.err" &&
		grep -q "^kernel time: unknown (the input has no record" "$tmp/replay.err"; then
		pass "a record without CPU times: $(grep '^kernel' "$tmp/replay.err")"
	else
		fail "a record without CPU times"; sed 's/^/  | /' "$tmp/replay.err"
	fi
fi

# ---- JIT frames from the perf map ----------------------------------------------
if ! command -v node > /dev/null; then
	echo "note: node (Debian package nodejs) is not installed: JIT names not checked"
elif ! command -v go > /dev/null || grep -q "built without protobuf-c" "$tmp/probe"; then
	echo "note: no go tool pprof: JIT names not checked"
else
	cat > "$tmp/spin.js" <<'JS'
function hot(n) { let s = 0; for (let i = 0; i < n; i++) s += Math.sqrt(i) * (i & 7); return s; }
console.log(process.pid);
let t = 0; for (;;) { t += hot(100000); if (t < 0) break; }
JS
	mkfifo "$tmp/node.pid"
	# (in $tmp: with a perf map, node also writes a V8 log in its directory)
	(cd "$tmp" && exec node --perf-basic-prof spin.js) > "$tmp/node.pid" &
	npid=$!
	target_pids="$target_pids $npid"
	read -r _ < "$tmp/node.pid"
	if $VDSOSCOPE profile --duration 2 --pid "$npid" --pprof "$tmp/node.pb.gz" \
		> "$tmp/node.folded" 2> "$tmp/err"; then
		pass "node --perf-basic-prof profiled: $(grep '^samples' "$tmp/err")"
	else
		fail "profile of node"; sed 's/^/  | /' "$tmp/err"
	fi
	kill "$npid" 2> /dev/null
	wait "$npid" 2> /dev/null
	gopprof -raw "$tmp/node.pb.gz" > "$tmp/node.raw" 2> "$tmp/err" || sed 's/^/  | /' "$tmp/err"
	check "JIT frames named from /tmp/perf-$npid.map" jit "$tmp/node.raw" "/tmp/perf-$npid.map" 5
	if grep -q ':\*hot_' "$tmp/node.folded"; then
		pass "folded stacks name the hot function: $(grep -m1 ':\*hot_' "$tmp/node.folded")"
	else
		fail "no folded stack names JS:*hot"; head -5 "$tmp/node.folded" | sed 's/^/  | /'
	fi
	rm -f "/tmp/perf-$npid.map"
fi
finish
