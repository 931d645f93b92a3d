#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Backtraces through the vDSO against a peer in the same run:
#  - a stopped process (one thread inside __vdso_clock_gettime): the whole
#    `vdsoscope backtrace --pid` command (each engine) against `eu-stack -p`,
#    wall time, median of N runs;
#  - libunwind memory reads through ptrace with the hook against plain _UPT
#    (counted by the same wrapper, with and without the image);
#  - a gcore core of it: `vdsoscope backtrace --core` against `eu-stack --core`.
# Usage: bench-unwind.sh BUILDDIR [N]
set -u
b=${1:-.}; n=${2:-15}
# the built programs themselves, not libtool's wrapper scripts (which cost a
# shell): the example's and, when it has one, the command's
V=$b/tools/vdsoscope
[ "$(head -c 2 "$V")" = "#!" ] && [ -x "$b/tools/.libs/vdsoscope" ] && V=$b/tools/.libs/vdsoscope
LD_LIBRARY_PATH=$b/lib/.libs:$b/unwind/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export LD_LIBRARY_PATH
command -v eu-stack > /dev/null || { echo "bench-unwind: eu-stack is not installed"; exit 0; }
[ -x "$b/unwind/examples/upt-backtrace" ] || { echo "bench-unwind: built without libunwind"; exit 0; }
tmp=$(mktemp -d)
mkfifo "$tmp/in" "$tmp/out"
"$b/tests/vdso-target" loop < "$tmp/in" > "$tmp/out" &
pid=$!
exec 3> "$tmp/in"
read -r line < "$tmp/out"
trap 'kill -9 $pid 2>/dev/null; rm -rf "$tmp"' EXIT
"$b/tests/vdso-stop" "$pid" > /dev/null

# median wall time in microseconds of N runs of a command, from its spawn to
# its exit (timing with date(1) around it would add date's own start-up, a
# millisecond here, to every figure)
median_us() {
	python3 - "$n" "$@" <<'PY'
import os, sys, time
n, cmd = int(sys.argv[1]), sys.argv[2:]
null = os.open(os.devnull, os.O_WRONLY)
acts = [(os.POSIX_SPAWN_DUP2, null, 1), (os.POSIX_SPAWN_DUP2, null, 2)]
ts = []
for _ in range(n):
    t0 = time.perf_counter_ns()
    os.waitpid(os.posix_spawnp(cmd[0], cmd, os.environ, file_actions=acts), 0)
    ts.append((time.perf_counter_ns() - t0) // 1000)
print(sorted(ts)[(n - 1) // 2])
PY
}
row() { # row FIGURE OURS PEER UNIT
	awk -v f="$1" -v o="$2" -v p="$3" -v u="$4" 'BEGIN {
		printf "%-44s %10s %s %10s %s %8.2fx\n", f, o, u, p, u, (o > 0 ? p / o : 0) }'
}
printf "%-44s %13s %13s %9s\n" figure ours peer ratio
eu=$(median_us eu-stack -p "$pid")
for e in core libunwind libdwfl; do
	row "backtrace --pid, $e vs eu-stack -p" "$(median_us "$V" backtrace --pid "$pid" --engine $e)" "$eu" us
done
# what no work costs: start-up and exit of a program linked as vdsoscope is
if [ -x "$b/bench/startup" ]; then
	row "start-up only (bench/startup) vs eu-stack -p" "$(median_us "$b/bench/startup")" "$eu" us
	row "vdsoscope --version vs eu-stack -p" "$(median_us "$V" --version)" "$eu" us
fi
EX=$b/unwind/examples/upt-backtrace
[ -x "$b/unwind/examples/.libs/upt-backtrace" ] && EX=$b/unwind/examples/.libs/upt-backtrace
"$EX" "$pid" > "$tmp/hook"
"$EX" --count "$pid" > "$tmp/count"
hook=$(sed -n 's/^memory reads: .*, \([0-9]*\) through ptrace/\1/p' "$tmp/hook")
cachedn=$(sed -n 's/^memory reads: .*, \([0-9]*\) from cached pages.*/\1/p' "$tmp/hook")
image=$(sed -n 's/^memory reads: \([0-9]*\) from the image.*/\1/p' "$tmp/hook")
plain=$(sed -n 's/^memory reads: .*, \([0-9]*\) through ptrace/\1/p' "$tmp/count")
fh=$(grep -c '^#' "$tmp/hook"); fp=$(grep -c '^#' "$tmp/count")
row "ptrace memory reads, hook vs plain _UPT" "$hook" "$plain" "  "
row "ptrace memory reads per frame" "$(awk -v a="$hook" -v f="$fh" 'BEGIN {printf "%.1f", a / f}')" \
	"$(awk -v a="$plain" -v f="$fp" 'BEGIN {printf "%.1f", a / f}')" "  "
echo "  (hook: $fh frames, $image reads answered from the image, $cachedn from cached read-only pages; plain _UPT: $fp frames," \
	"it loses the stack after the vDSO frame)"

if command -v gcore > /dev/null && gcore -o "$tmp/g" "$pid" > /dev/null 2>&1; then
	core=$tmp/g.$pid
	eu=$(median_us eu-stack --core="$core" -e "$b/tests/vdso-target")
	for e in core libunwind libdwfl; do
		row "backtrace --core, $e vs eu-stack --core" "$(median_us "$V" backtrace --core "$core" --engine $e)" "$eu" us
	done
else
	echo "(no gcore: core figures skipped)"
fi

# a process with 1,000 threads and 10,000 executable mappings: the cost must
# grow with the frames unwound, not with threads x mappings
if [ -x "$b/bench/many" ]; then
	mkfifo "$tmp/many.in" "$tmp/many.out"
	"$b/bench/many" 1000 10000 < "$tmp/many.in" > "$tmp/many.out" &
	mpid=$!
	exec 4> "$tmp/many.in"
	read -r line < "$tmp/many.out"
	trap 'kill -9 $pid $mpid 2>/dev/null; rm -rf "$tmp"' EXIT
	n=3
	echo "  ($(ls "/proc/$mpid/task" | wc -l) threads, $(wc -l < "/proc/$mpid/maps") mappings)"
	eu=$(median_us eu-stack -p "$mpid")
	for e in core libdwfl; do
		row "1000 threads: backtrace --pid, $e vs eu-stack -p" \
			"$(median_us "$V" backtrace --pid "$mpid" --engine $e)" "$eu" us
	done
	exec 4>&-
fi
