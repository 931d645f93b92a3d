#!/bin/bash
# vdsoscope verify: every instruction boundary of every vDSO call the helpers
# make (x86_64 and i386) unwinds exactly as ptrace shows after the return;
# with one CFI rule corrupted, it names the function, address and register
# that go wrong, where readelf shows the rule changed; --pid on a running
# process, also when signals arrive while it is being stepped (a timer's
# SIGALRM, Go's preemption SIGURG): they are held until the call returned,
# the results stay exact and the process lives on as before; calls that
# fault in the vDSO are left out with the reason.
. "${top_srcdir:-.}/tests/lib.sh"

export VDSOSCOPE_HELPER_DIR=$top_builddir/tools
"$VDSOSCOPE" verify --json > "$tmp/v.json"
rc=$?
python3 - "$tmp/v.json" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
for r in v["runs"]:
    print(f"  {r['arch']}: {r['calls']} calls, {r['points']} points, {r['exact']} exact, {r['wrong']} wrong;"
          f" not visited: {r['not_visited']}")
PY
[ $rc = 0 ] && pass "verify: exit 0" || fail "verify: exit $rc"
if python3 - "$tmp/v.json" "$T32" <<'PY'
import json, os, sys
v = json.load(open(sys.argv[1]))
runs = {r["arch"]: r for r in v["runs"]}
want = ["x86_64"] + (["i386"] if os.access(sys.argv[2], os.X_OK) else [])
ok = True
for arch in want:
    r = runs.get(arch)
    if not r or r["wrong"] or r["exact"] != r["points"] or r["points"] < 300:
        print(f"  {arch}: {r}")
        ok = False
        continue
    names = {f["name"] for f in r["functions"]}
    need = {"__vdso_clock_gettime", "__vdso_gettimeofday", "__vdso_time", "__vdso_getcpu",
            "__vdso_clock_getres"}
    if arch == "i386":
        need |= {"__kernel_vsyscall", "__kernel_sigreturn", "__kernel_rt_sigreturn"}
    if need - names:
        print(f"  {arch}: not visited {need - names}")
        ok = False
sys.exit(0 if ok else 1)
PY
then pass "100% exact over every function, x86_64$([ -x "$T32" ] && echo " and i386")"; else fail "verify results"; fi

# corrupt_rule IMAGE FDE_START OPCODE OLD NEW OUT: in the FDE readelf shows at
# FDE_START, replace the bytes OPCODE OLD of a DW_CFA_offset with OPCODE NEW
corrupt_rule() {
	python3 - "$@" <<'PY'
import re, subprocess, sys
image, fde_pc, op, old, new, out = sys.argv[1], int(sys.argv[2], 0), int(sys.argv[3], 0), \
    int(sys.argv[4], 0), int(sys.argv[5], 0), sys.argv[6]
secs = subprocess.run(["readelf", "-SW", image], capture_output=True, text=True).stdout
m = re.search(r"\.eh_frame\s+PROGBITS\s+\S+\s+([0-9a-f]+)\s+([0-9a-f]+)", secs)
eh_off, eh_size = int(m.group(1), 16), int(m.group(2), 16)
frames = subprocess.run(["readelf", "-W", "--debug-dump=frames", image], capture_output=True, text=True).stdout
for line in frames.splitlines():
    m = re.match(r"([0-9a-f]+) ([0-9a-f]+) [0-9a-f]+ FDE cie=[0-9a-f]+ pc=([0-9a-f]+)\.\.", line)
    if m and int(m.group(3), 16) == fde_pc:
        start, length = eh_off + int(m.group(1), 16), int(m.group(2), 16) + 4
        break
else:
    sys.exit(f"no FDE at 0x{fde_pc:x}")
b = bytearray(open(image, "rb").read())
i = b.find(bytes([op, old]), start, start + length)
if i < 0:
    sys.exit("rule not found in the FDE")
b[i + 1] = new
open(out, "wb").write(b)
PY
}

# changed_range ORIG CORRUPT: the addresses whose rows readelf shows differently
changed() {
	diff <(readelf -W --debug-dump=frames-interp "$1") <(readelf -W --debug-dump=frames-interp "$2") |
		awk '/^> [0-9a-f]+ / { print "0x" $2 }'
}

check_corrupt() {
	local bits=$1 image=$2 fde=$3 op=$4 old=$5 new=$6 func=$7 reg=$8
	corrupt_rule "$image" "$fde" "$op" "$old" "$new" "$image.bad" || { fail "$bits-bit: corrupting the CFI"; return; }
	rows=$(changed "$image" "$image.bad" | tr '\n' ' ')
	[ -n "$rows" ] || { fail "$bits-bit: readelf shows no changed row"; return; }
	"$VDSOSCOPE" verify --bits $bits --image "$image.bad" --json > "$tmp/bad.json"
	rc=$?
	if [ $rc != 0 ] && python3 - "$tmp/bad.json" "$func" "$reg" "$image" $rows <<'PY'
import json, subprocess, sys
v = json.load(open(sys.argv[1]))["runs"][0]
func, reg, image, rows = sys.argv[2], sys.argv[3], sys.argv[4], [int(x, 16) for x in sys.argv[5:]]
# the rows readelf shows changed, each up to the next row of its FDE
ranges, fde_end, locs = [], None, []
for line in subprocess.run(["readelf", "-W", "--debug-dump=frames-interp", image + ".bad"],
                           capture_output=True, text=True).stdout.splitlines() + ["FDE pc=0..0"]:
    if "FDE" in line or "CIE" in line:
        for i, loc in enumerate(locs):
            nxt = locs[i + 1] if i + 1 < len(locs) else fde_end
            if loc in rows:
                ranges.append((loc, nxt))
        locs = []
        fde_end = int(line.split("..")[1], 16) if "FDE" in line else None
        continue
    f = line.split()
    if f and fde_end is not None and all(c in "0123456789abcdef" for c in f[0]) and len(f[0]) >= 8:
        locs.append(int(f[0], 16))
bad = [f for f in v["functions"] if f["wrong"]]
print(f"  wrong: {[(f['name'], f['first_wrong']) for f in bad]}; changed rows {[(hex(a), hex(b)) for a, b in ranges]}")
if len(bad) != 1 or bad[0]["name"] != func or bad[0]["first_wrong"].get("register") != reg:
    sys.exit(1)
off = int(bad[0]["first_wrong"]["address"], 16) - int(v["load_address"], 16)
sys.exit(0 if any(a <= off < b for a, b in ranges) else 1)
PY
	then pass "$bits-bit: corrupted rule found: $func, $reg"
	else fail "$bits-bit: corrupted rule: exit $rc, $(head -c 600 "$tmp/bad.json")"; fi
}

"$VDSOSCOPE" extract -o "$tmp/v64.so"
# __vdso_clock_gettime saves rbx at cfa-32: DW_CFA_offset r3 is 0x83 and
# the factored offset 4 (data alignment -8); make it cfa-40
fde64=$(readelf -W --dyn-syms "$tmp/v64.so" | awk '$8 ~ /^__vdso_clock_gettime@/ { print "0x" $2 }')
check_corrupt 64 "$tmp/v64.so" "$fde64" 0x83 4 5 __vdso_clock_gettime rbx

if [ -x "$T32" ]; then
	start_target t32 "$T32"
	"$VDSOSCOPE" extract --pid "$t32_pid" -o "$tmp/v32.so"
	stop_target t32
	# __kernel_vsyscall saves ecx at cfa-8: DW_CFA_offset r1 is 0x81 and
	# the factored offset 2 (data alignment -4); make it cfa-12
	fde32=$(readelf -W --debug-dump=frames "$tmp/v32.so" | awk '/FDE/ { split($NF, p, "[=.]"); print "0x" p[2]; exit }')
	check_corrupt 32 "$tmp/v32.so" "$fde32" 0x81 2 3 __kernel_vsyscall ecx
fi

# the libunwind hook, through the same oracle
if "$VDSOSCOPE" verify --engine libunwind --json > "$tmp/lu.json" 2> "$tmp/lu.err"; then
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["runs"][0]; print("  ", r["points"], "points,", r["exact"], "exact"); sys.exit(not (r["wrong"] == 0 and r["exact"] == r["points"] and r["points"] > 300))' "$tmp/lu.json" &&
		pass "verify --engine libunwind: 100% exact" || fail "verify --engine libunwind: $(head -c 400 "$tmp/lu.json")"
elif grep -q 'no libunwind' "$tmp/lu.err"; then
	echo "libunwind engine skipped: this build has no libunwind"
else
	fail "verify --engine libunwind: $(cat "$tmp/lu.err") $(head -c 800 "$tmp/lu.json")"
fi

start_target loop "$T64" loop
"$VDSOSCOPE" verify --pid "$loop_pid" --calls 5 --json > "$tmp/pid.json"
rc=$?
kill "$loop_pid"
if [ $rc = 0 ] && python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["runs"][0]; print("  ", r["calls"], "calls,", r["points"], "points"); sys.exit(not (r["calls"] == 5 and r["wrong"] == 0 and r["points"] > 0))' "$tmp/pid.json"; then
	pass "verify --pid on a running process"
else
	fail "verify --pid: exit $rc, $(cat "$tmp/pid.json")"
fi

# pid_exact WHAT JSON MIN_HELD: 20 calls, exact, no points left out, at
# least MIN_HELD signals held
pid_exact() {
	python3 - "$@" <<'PY'
import json, sys
r = json.load(open(sys.argv[2]))["runs"][0]
print(f"  {sys.argv[1]}: {r['calls']} calls, {r['points']} points, {r['exact']} exact,"
      f" {r['signals_held']} signals held, left out: {r['left_out']}")
# a thread that blocks in the kernel ends the run early, saying so; what was
# judged until then must still be exact
if r.get("blocked") and r["calls"] == 0:
    print(f"  {sys.argv[1]}: the thread blocked before a call: {r.get('error')}")
    sys.exit(2)
sys.exit(not (r["wrong"] == 0 and r["points"] > 0 and r["exact"] == r["points"] and
              (r["calls"] == 20 or r.get("blocked")) and not r["left_out"] and
              r["signals_held"] >= int(sys.argv[3])))
PY
}

# progressed PID: PID runs on (its CPU time grows by 2 ticks) and is alive;
# a trap flag left set by the tracer would kill it at its next instruction
progressed() {
	python3 - "$1" <<'PY'
import sys
def ticks():
    try:
        f = open(f"/proc/{sys.argv[1]}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return None, "gone"
    return int(f[11]) + int(f[12]), f[0]
t0, st = ticks()
for _ in range(200000):
    t, st = ticks()
    if t is None or st in "ZX":
        sys.exit(1)
    if t >= t0 + 2:
        sys.exit(0)
sys.exit(1)
PY
}

# lines PID FIFO N: sends SIGUSR2 to PID and reads the "alarms" line it
# writes to FIFO (held open on fd 5), N times; prints the counts
alarm_counts() {
	local i line
	for i in $(seq "$2"); do
		kill -USR2 "$1"
		read -r line <&5 || return 1
		echo "$line"
	done
}

# SIGALRM every millisecond to a handler while the thread is stepped
mkfifo "$tmp/alarm.out"
"$T64" alarm-loop > "$tmp/alarm.out" &
alarm_pid=$!
target_pids="$target_pids $alarm_pid"
exec 5< "$tmp/alarm.out"
read -r _ <&5
timeout 120 "$VDSOSCOPE" verify --pid "$alarm_pid" --calls 20 --json > "$tmp/alarm.json"
rc=$?
if [ $rc = 0 ] && pid_exact "timer" "$tmp/alarm.json" 1; then
	pass "verify --pid with SIGALRM during the calls: exact, the signals held"
else
	fail "verify --pid with SIGALRM: exit $rc, $(head -c 600 "$tmp/alarm.json")"
fi
# the handler still counts: a count, the process running on, a higher count
alarm_counts "$alarm_pid" 1 > "$tmp/alarms" && progressed "$alarm_pid" &&
	alarm_counts "$alarm_pid" 1 >> "$tmp/alarms"
if kill -0 "$alarm_pid" 2> /dev/null &&
   [ "$(grep -c '^alarms' "$tmp/alarms")" = 2 ] &&
   [ "$(awk 'NR == 1 { a = $2 } NR == 2 { print ($2 > a) }' "$tmp/alarms")" = 1 ]; then
	pass "the timer's handler still runs after verify: $(tr '\n' ' ' < "$tmp/alarms")"
else
	fail "the timer process after verify: $(cat "$tmp/alarms")"
fi
kill "$alarm_pid"
exec 5<&-

# every other call faults in the vDSO (NULL timespec), a SIGSEGV handler
# jumps out: those calls are left out with the reason, never counted wrong
mkfifo "$tmp/fault.out"
"$T64" fault-loop > "$tmp/fault.out" &
fault_pid=$!
target_pids="$target_pids $fault_pid"
read -r _ < "$tmp/fault.out"
timeout 120 "$VDSOSCOPE" verify --pid "$fault_pid" --calls 20 --json > "$tmp/fault.json"
rc=$?
if [ $rc = 0 ] && python3 - "$tmp/fault.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["runs"][0]
print(f"  fault: {r['calls']} calls, {r['points']} points, {r['exact']} exact, left out: {r['left_out']}")
lo = r["left_out"]
sys.exit(not (r["wrong"] == 0 and r["exact"] == r["points"] and r["calls"] == 20 and
              len(lo) == 1 and lo[0]["signal"] == "SIGSEGV" and lo[0]["calls"] > 0 and
              "raised by the call" in lo[0]["reason"]))
PY
then
	pass "verify --pid with faulting calls: left out as SIGSEGV raised by the call, the rest exact"
else
	fail "verify --pid with faulting calls: exit $rc, $(head -c 600 "$tmp/fault.json")"
fi
progressed "$fault_pid" && pass "the faulting process lives on" || fail "the faulting process died"
kill "$fault_pid"

# Go: SIGURG preempts while the thread is in a call; pushf/popf in
# asyncPreempt under single-stepping
if command -v go > /dev/null; then
	if build_go "$tmp/goprog"; then
		# one P: the main goroutine stays on the main thread
		mkfifo "$tmp/go.out"
		GOMAXPROCS=1 "$tmp/goprog" 0 0 ready > "$tmp/go.out" &
		go_pid=$!
		target_pids="$target_pids $go_pid"
		read -r _ < "$tmp/go.out"
		held=0
		for i in 1 2 3; do
			timeout 300 "$VDSOSCOPE" verify --pid "$go_pid" --calls 20 --json > "$tmp/go.json"
			rc=$?
			pid_exact "Go, run $i" "$tmp/go.json" 0
			ex=$?
			if [ $ex = 2 ]; then
				echo "note: run $i not judged: the traced thread blocked before its first call"
			elif [ $ex = 0 ] && { [ $rc = 0 ] || grep -q '"blocked": *true' "$tmp/go.json"; }; then
				pass "verify --pid on a Go program (run $i): exact"
			else
				fail "verify --pid on a Go program (run $i): exit $rc, $(head -c 600 "$tmp/go.json")"
			fi
			held=$((held + $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["runs"][0].get("signals_held", 0))' "$tmp/go.json" 2> /dev/null || echo 0)))
			progressed "$go_pid" || { fail "the Go program died after verify"; break; }
		done
		if [ $held -gt 0 ]; then
			pass "Go: $held preemption signals held during calls, the program lives on"
		else
			echo "note: no SIGURG arrived during a call in 3 runs (nothing held)"
		fi
		kill "$go_pid"
	else
		fail "go build: $(cat "$tmp/go-build.log")"
	fi
else
	echo "note: no Go toolchain (golang-go); verify --pid on a Go program not checked"
fi
finish
