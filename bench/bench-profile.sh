#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Offline unwinding of sampled stacks that hit the vDSO: vdsoscope's
# (bench-profile over a `vdsoscope profile --record` file of the workload)
# against `perf script` over `perf record --call-graph dwarf` of the same
# workload (perf's own DWARF unwinding), samples per second, in one run.
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
