#!/bin/sh
# Runs the whole test suite (make check) and ends with one line:
# "N passed, N failed" (and ", N skipped" when some skipped).
#
# The whole suite is make check plus these runs, each counted in that line
# (set one to 0 to leave it out):
#   VDSOSCOPE_TEST_SANITIZERS=1  the suite again in build-sanitizers/, a copy
#                                of the sources configured --enable-sanitizers
#                                (ASan + UBSan, LeakSanitizer included)
#   VDSOSCOPE_TEST_VALGRIND=1    make check-valgrind: the CLI tests with the
#                                command under valgrind memcheck
#   VDSOSCOPE_TEST_FUZZ=30       make fuzz (clang), then each harness for that
#                                many seconds; one test per harness
: "${VDSOSCOPE_TEST_SANITIZERS:=1}" "${VDSOSCOPE_TEST_VALGRIND:=1}" "${VDSOSCOPE_TEST_FUZZ:=30}"
cd "$(dirname "$0")"
[ -f Makefile ] || { echo "run ./setup.sh first" >&2; exit 1; }
pass=0 fail=0 skip=0 rc=0

# count LOG: adds the automake totals of test-suite log LOG
count() {
	if [ ! -f "$1" ]; then
		fail=$((fail + 1))
		return
	fi
	for k in PASS FAIL ERROR SKIP XPASS; do
		n=$(sed -n "s/^# $k: *//p" "$1" | head -n1)
		case $k in
		PASS) pass=$((pass + ${n:-0})) ;;
		SKIP) skip=$((skip + ${n:-0})) ;;
		*) fail=$((fail + ${n:-0})) ;;
		esac
	done
}

rm -f test-suite.log
make -j"$(nproc)" --no-print-directory check > check.log 2>&1 || rc=1
cat check.log
count test-suite.log
# the reasons of skipped tests
grep -h '^SKIP: ' tests/*.log 2>/dev/null | sed 's/^/  /'

if [ "${VDSOSCOPE_TEST_SANITIZERS:-0}" = 1 ]; then
	echo "== the suite built with --enable-sanitizers (build-sanitizers/)"
	rm -rf build-sanitizers
	if make --no-print-directory distdir distdir=build-sanitizers > build-sanitizers.log 2>&1 &&
	   (cd build-sanitizers && ./configure --quiet --enable-sanitizers &&
	    make -j"$(nproc)" --no-print-directory) >> build-sanitizers.log 2>&1; then
		(cd build-sanitizers && make -j"$(nproc)" --no-print-directory check) > check-sanitizers.log 2>&1 || rc=1
		grep -E '^(PASS|FAIL|ERROR|SKIP|XPASS|XFAIL):' check-sanitizers.log
		grep -h '^SKIP: ' build-sanitizers/tests/*.log 2>/dev/null | sed 's/^/  /'
		count build-sanitizers/test-suite.log
		[ -f build-sanitizers/test-suite.log ] && grep -q '^# FAIL: *0' build-sanitizers/test-suite.log ||
			sed -n '/^FAIL\|^ERROR/,$p' build-sanitizers/test-suite.log | head -n 80
	else
		echo "FAIL: sanitizer build; see build-sanitizers.log"
		tail -n 30 build-sanitizers.log
		fail=$((fail + 1)) rc=1
	fi
fi

if [ "${VDSOSCOPE_TEST_VALGRIND:-0}" = 1 ]; then
	echo "== make check-valgrind"
	rm -f test-suite.log
	if command -v valgrind > /dev/null; then
		make --no-print-directory check-valgrind > check-valgrind.log 2>&1 || rc=1
		grep -E '^(PASS|FAIL|ERROR|SKIP|XPASS|XFAIL):|^valgrind' check-valgrind.log
		count test-suite.log
	else
		echo "SKIP: valgrind is not installed"
		skip=$((skip + 1))
	fi
fi

if [ "${VDSOSCOPE_TEST_FUZZ:-0}" != 0 ]; then
	echo "== fuzz harnesses, ${VDSOSCOPE_TEST_FUZZ} s each"
	if ! command -v clang > /dev/null; then
		echo "SKIP: fuzzing needs clang"
		skip=$((skip + 1))
	elif make --no-print-directory fuzz > build-fuzz.log 2>&1; then
		fuzz/run-fuzz.sh "$VDSOSCOPE_TEST_FUZZ" > fuzz.log 2>&1 || rc=1
		cat fuzz.log
		pass=$((pass + $(grep -c '^ok: ' fuzz.log)))
		fail=$((fail + $(grep -c '^FAIL: ' fuzz.log)))
	else
		echo "FAIL: make fuzz; see build-fuzz.log"
		tail -n 30 build-fuzz.log
		fail=$((fail + 1)) rc=1
	fi
fi

if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ $rc -eq 0 ] && [ $fail -eq 0 ]
