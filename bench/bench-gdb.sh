#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# What vdsoscope's JIT reader costs gdb on frames that are not the vDSO's:
# `bt` of a process stopped in the vDSO under DEPTH nested calls
# (vdso-target deep-loop), attached with gdb -batch, without the reader,
# with it (jit-reader-load) and with gdb-scripts/vdso.py (the reader and
# the `vdso` commands, as the installed gdb init file loads them).  Runs
# are interleaved; each figure is the median wall time of N runs.
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

python3 - "$n" "$pid" "$R" "$PY" "$depth" <<'PY'
import os, sys, time
n, pid, reader, py, depth = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
base = ["gdb", "-nx", "-batch", "-ex", "set pagination off"]
tail = ["-ex", "bt", "-p", pid]
env = dict(os.environ, VDSOSCOPE_GDB_READER=reader)
runs = [("gdb alone", base + tail),
        ("jit-reader-load vdsoscope-gdb.so", base + ["-iex", "jit-reader-load " + reader] + tail),
        ("vdso.py (reader and commands)", base + ["-ix", py] + tail)]
wall = {name: [] for name, _ in runs}
cpu = {name: [] for name, _ in runs}
for _ in range(n):
    for name, cmd in runs:
        r, w = os.pipe()
        null = os.open(os.devnull, os.O_RDWR)
        acts = [(os.POSIX_SPAWN_DUP2, null, 0), (os.POSIX_SPAWN_DUP2, w, 1),
                (os.POSIX_SPAWN_DUP2, null, 2)]
        t0 = time.perf_counter()
        child = os.posix_spawnp(cmd[0], cmd, env, file_actions=acts)
        os.close(w)
        with os.fdopen(r) as f:
            out = f.read()
        _, _, ru = os.wait4(child, 0)
        wall[name].append(time.perf_counter() - t0)
        cpu[name].append(ru.ru_utime + ru.ru_stime)
        os.close(null)
        frames = sum(1 for l in out.splitlines() if l.startswith("#"))
        if frames < depth + 3 or " main (" not in out:
            sys.exit("bench-gdb: %s: bt has %d frames or misses main" % (name, frames))
med = lambda v: sorted(v)[(n - 1) // 2]
print("gdb bt of %d frames, stopped in the vDSO; medians of %d runs (cpu: gdb's user + system time)"
      % (depth + 3, n))
print("%-36s %8s %8s %8s %8s" % ("figure", "wall s", "ratio", "cpu s", "ratio"))
w0, c0 = med(wall["gdb alone"]), med(cpu["gdb alone"])
for name, _ in runs:
    print("%-36s %8.3f %7.3fx %8.3f %7.3fx" % (name, med(wall[name]), med(wall[name]) / w0,
                                              med(cpu[name]), med(cpu[name]) / c0))
PY
