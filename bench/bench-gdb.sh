#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# What vdsoscope's JIT reader costs gdb on frames that are not the vDSO's:
# `bt` of a process stopped in the vDSO under DEPTH nested calls
# (vdso-target deep-loop), attached with gdb -batch, without the reader,
# with it (jit-reader-load) and with gdb-scripts/vdso.py (the reader and
# the `vdso` commands, as the installed gdb init file loads them).  Runs
# are interleaved; each figure is the median wall time of N runs.
# Then the same stack stopped at a breakpoint in the innermost deep(), no
# frame in the vDSO, timing `bt` alone inside gdb: the reader loaded alone
# does not know the vDSO there, vdso.py names it at once.
# Usage: bench-gdb.sh BUILDDIR [DEPTH] [N]
set -u
b=${1:-.}; depth=${2:-3000}; n=${3:-7}
command -v gdb > /dev/null || { echo "bench-gdb: gdb is not installed"; exit 0; }
R=$b/plugin/.libs/vdsoscope-gdb.so
[ -f "$R" ] || { echo "bench-gdb: built without the gdb reader"; exit 0; }
R=$(cd "$(dirname "$R")" && pwd)/vdsoscope-gdb.so
PY=$(cd "$b/gdb-scripts" && pwd)/vdso.py
tmp=$(mktemp -d)
mkfifo "$tmp/in" "$tmp/out"
"$b/tests/vdso-target" deep-loop "$depth" < "$tmp/in" > "$tmp/out" &
pid=$!
exec 3> "$tmp/in"
read -r line < "$tmp/out"
trap 'kill -9 $pid 2>/dev/null; rm -rf "$tmp"' EXIT
"$b/tests/vdso-stop" "$pid" > /dev/null

python3 - "$n" "$pid" "$R" "$PY" "$depth" "$b/tests/vdso-target" <<'PY'
import os, subprocess, sys, time
n, pid, reader, py, depth = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
target = os.path.abspath(sys.argv[6])
base = ["gdb", "-nx", "-batch", "-ex", "set pagination off"]
tail = ["-ex", "bt", "-p", pid]
env = dict(os.environ, VDSOSCOPE_GDB_READER=reader)
runs = [("gdb alone", base),
        ("jit-reader-load vdsoscope-gdb.so", base + ["-iex", "jit-reader-load " + reader]),
        ("vdso.py (reader and commands)", base + ["-ix", py])]
# bt's own wall and cpu time, measured inside gdb
bt = ["-ex", "python import time; _t0 = time.perf_counter(); _c0 = time.process_time()",
      "-ex", "bt",
      "-ex", 'python gdb.write("@@bt %f %f\\n" % (time.perf_counter() - _t0, time.process_time() - _c0))']


def run(cmd):
    out = subprocess.run(cmd, capture_output=True, text=True, env=env,
                         stdin=subprocess.DEVNULL).stdout
    t = [l.split()[1:] for l in out.splitlines() if l.startswith("@@bt ")]
    frames = sum(1 for l in out.splitlines() if l.startswith("#"))
    if not t or frames < depth + 2 or " main (" not in out:
        sys.exit("bench-gdb: %s: bt has %d frames or misses main" % (" ".join(cmd), frames))
    return float(t[0][0]), float(t[0][1])


med = lambda v: sorted(v)[(n - 1) // 2]
whole = {name: [] for name, _ in runs}
wall = {name: [] for name, _ in runs}
cpu = {name: [] for name, _ in runs}
for _ in range(n):
    for name, cmd in runs:
        t0 = time.perf_counter()
        w, c = run(cmd + bt + ["-p", pid])
        whole[name].append(time.perf_counter() - t0)
        wall[name].append(w)
        cpu[name].append(c)
print("gdb -p, bt of %d frames, stopped in the vDSO; medians of %d runs" % (depth + 3, n))
print("%-36s %9s %9s %9s %9s %9s %9s" % ("figure", "command s", "ratio", "bt s", "ratio",
                                          "bt cpu s", "ratio"))
for name, _ in runs:
    print("%-36s %9.3f %8.3fx %9.3f %8.3fx %9.3f %8.3fx" % (
        name, med(whole[name]), med(whole[name]) / med(whole["gdb alone"]),
        med(wall[name]), med(wall[name]) / med(wall["gdb alone"]),
        med(cpu[name]), med(cpu[name]) / med(cpu["gdb alone"])))

# stopped outside the vDSO
inner = {name: [] for name, _ in runs}
cinner = {name: [] for name, _ in runs}
for _ in range(n):
    for name, cmd in runs:
        w, c = run(cmd + ["-ex", "break deep if n == 0", "-ex", "run"] + bt +
                   ["--args", target, "deep-loop", str(depth)])
        inner[name].append(w)
        cinner[name].append(c)
print("the same stack at a breakpoint in the innermost deep(), no frame in the vDSO")
for name, _ in runs:
    print("%-36s %9s %9s %9.3f %8.3fx %9.3f %8.3fx" % (
        name, "", "", med(inner[name]), med(inner[name]) / med(inner["gdb alone"]),
        med(cinner[name]), med(cinner[name]) / med(cinner["gdb alone"])))
PY
