#!/bin/sh
# Runs fuzz harnesses built by "make fuzz", each for SECONDS:
#   fuzz/run-fuzz.sh SECONDS [HARNESS...]     (default: all eight)
# from the build directory.  Each starts from its seed corpus plus what
# earlier runs found (fuzz/work/HARNESS), writes crashes to
# fuzz/work/HARNESS-crash-*, and prints one line per harness:
# "ok: fuzz-step: 123456 runs in 30 s" or "FAIL: ...".  Exit 1 when any
# harness found a crash, a leak, a timeout or ran out of memory.
cd "${top_builddir:-.}" || exit 1
secs=${1:?usage: run-fuzz.sh SECONDS [HARNESS...]}
shift
[ $# -gt 0 ] || set -- fuzz-buffer fuzz-core fuzz-lookup fuzz-step fuzz-vdso-elf fuzz-object fuzz-target \
	fuzz-perf-data
rc=0
for h in "$@"; do
	h=${h#fuzz/}
	mkdir -p "fuzz/work/$h"
	log=fuzz/work/$h.log
	"fuzz/$h" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 -malloc_limit_mb=256 \
		-max_len=1048576 -print_final_stats=1 -artifact_prefix="fuzz/work/$h-crash-" \
		"fuzz/work/$h" "fuzz/corpus/$h" > "$log" 2>&1
	st=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
	if [ $st -eq 0 ]; then
		echo "ok: $h: ${runs:-?} runs in $secs s"
	else
		echo "FAIL: $h (exit $st) after ${runs:-?} runs; log $log:"
		grep -E 'ERROR|SUMMARY|Test unit written|#0 |#1 |#2 |#3 ' "$log" | head -n 20 | sed 's/^/  | /'
		rc=1
	fi
done
exit $rc
