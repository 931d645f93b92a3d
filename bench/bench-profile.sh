#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Offline unwinding of sampled stacks that hit the vDSO: vdsoscope's
# (bench-profile over a `vdsoscope profile --record` file of the workload)
# against `perf script` over `perf record --call-graph dwarf` of the same
# workload (perf's own DWARF unwinding), samples per second, in one run;
# then that perf.data file itself: vdsoscope's unwinding of every sample of
# it (bench-profile --perf-data) and `vdsoscope profile --perf-data` as a
# whole, each beside `perf script` on the same file.
# Usage: bench-profile.sh BUILDDIR
set -u
b=${1:-.}
V=$b/tools/vdsoscope
BP=$b/bench/bench-profile
[ "$(head -c 2 "$V")" = "#!" ] && [ -x "$b/tools/.libs/vdsoscope" ] && V=$b/tools/.libs/vdsoscope
LD_LIBRARY_PATH=$b/lib/.libs:$b/unwind/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export LD_LIBRARY_PATH
[ -x "$b/bench/.libs/bench-profile" ] && BP=$b/bench/.libs/bench-profile
T=$b/tests/vdso-target
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! "$V" profile --frequency 2000 --record "$tmp/rec" -- "$T" profile-workload 2 \
	> /dev/null 2> "$tmp/err"; then
	echo "bench-profile: vdsoscope profile failed: $(cat "$tmp/err")"
	exit 0
fi
"$BP" "$tmp/rec" > "$tmp/ours" || exit 1
ours=$(sed -n 's/^offline unwinding: \([0-9]*\) samples.*/\1/p' "$tmp/ours")
cat "$tmp/ours"
"$BP" --engine libunwind "$tmp/rec" > "$tmp/unw" || exit 1
unw=$(sed -n 's/^offline unwinding: \([0-9]*\) samples.*/\1/p' "$tmp/unw")
sed 's/^/libunwind engine: /' "$tmp/unw"
if ! command -v perf > /dev/null; then
	echo "bench-profile: perf is not installed; no peer figure"
	exit 0
fi
# perf's build-id cache in a private HOME, as the tests have it
mkdir -p "$tmp/home"
HOME=$tmp/home
export HOME
if ! perf record -q --call-graph dwarf,16384 -F 2000 -o "$tmp/perf.data" \
	-- "$T" profile-workload 2 > /dev/null 2> "$tmp/perr"; then
	echo "bench-profile: perf record failed: $(tail -n1 "$tmp/perr")"
	exit 0
fi
t0=$(date +%s%N)
perf script -i "$tmp/perf.data" -F ip,sym > "$tmp/script" 2> /dev/null
t1=$(date +%s%N)
# perf script prints a sample as its frames, one a line, then a blank line
nperf=$(awk 'BEGIN { n = 0; s = 0 } NF { s = 1 } !NF { if (s) n++; s = 0 } END { if (s) n++; print n }' "$tmp/script")
nvdso=$(awk 'BEGIN { n = 0; first = 1 } !NF { first = 1; next } { if (first && /clock_gettime|vdso/) n++; first = 0 } END { print n }' "$tmp/script")
peer=$(awk -v n="$nperf" -v t=$((t1 - t0)) 'BEGIN { printf "%.0f", (t > 0 ? n / (t / 1e9) : 0) }')
printf "%-44s %14s %14s %9s\n" figure ours peer ratio
awk -v o="$ours" -v p="$peer" 'BEGIN {
	printf "%-44s %12s/s %12s/s %8.1fx\n", "unwinding vDSO samples vs perf script", o, p, (p > 0 ? o / p : 0) }'
awk -v o="$ours" -v p="$unw" 'BEGIN {
	printf "%-44s %12s/s %12s/s %8.1fx\n", "the same vs libunwind (snapshot accessors)", o, p, (p > 0 ? o / p : 0) }'
echo "(perf script: $nperf samples, $nvdso with a vDSO leaf, in $(((t1 - t0) / 1000000)) ms, whole command)"
# the perf.data file itself
"$BP" --perf-data "$tmp/perf.data" > "$tmp/pd" 2> "$tmp/pderr" || { cat "$tmp/pderr"; exit 1; }
pd=$(sed -n 's/^offline unwinding: \([0-9]*\) samples.*/\1/p' "$tmp/pd")
sed 's/^/perf.data: /' "$tmp/pd"
t2=$(date +%s%N)
"$V" profile --perf-data "$tmp/perf.data" > /dev/null 2> "$tmp/pderr" || { cat "$tmp/pderr"; exit 1; }
t3=$(date +%s%N)
nours=$(sed -n 's/^samples: \([0-9]*\).*/\1/p' "$tmp/pderr")
whole=$(awk -v n="$nours" -v t=$((t3 - t2)) 'BEGIN { printf "%.0f", (t > 0 ? n / (t / 1e9) : 0) }')
awk -v o="$pd" -v p="$peer" 'BEGIN {
	printf "%-44s %12s/s %12s/s %8.1fx\n", "perf.data: unwinding its samples vs perf script", o, p, (p > 0 ? o / p : 0) }'
awk -v o="$whole" -v p="$peer" 'BEGIN {
	printf "%-44s %12s/s %12s/s %8.1fx\n", "perf.data: profile --perf-data vs perf script", o, p, (p > 0 ? o / p : 0) }'
echo "(profile --perf-data: $nours samples in $(((t3 - t2) / 1000000)) ms, whole command, cold caches of files;" \
	"target: 1 M samples/s unwinding)"
