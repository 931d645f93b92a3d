#!/bin/sh
# Runs the whole test suite (make check) and ends with one line:
# "N passed, N failed" (and ", N skipped" when some skipped).
cd "$(dirname "$0")"
[ -f Makefile ] || { echo "run ./setup.sh first" >&2; exit 1; }
rm -f test-suite.log
make -j"$(nproc)" --no-print-directory check > check.log 2>&1
rc=$?
cat check.log
log=test-suite.log
if [ ! -f "$log" ]; then
	echo "0 passed, 1 failed"
	exit 1
fi
count() { sed -n "s/^# $1: *//p" "$log" | head -n1; }
pass=$(count PASS); fail=$(count FAIL); err=$(count ERROR); skip=$(count SKIP); xpass=$(count XPASS)
fail=$((${fail:-0} + ${err:-0} + ${xpass:-0}))
# the reasons of skipped tests
grep -h '^SKIP: ' tests/*.log 2>/dev/null | sed 's/^/  /'
if [ "${skip:-0}" -gt 0 ]; then
	echo "${pass:-0} passed, $fail failed, $skip skipped"
else
	echo "${pass:-0} passed, $fail failed"
fi
[ $rc -eq 0 ] && [ $fail -eq 0 ]
