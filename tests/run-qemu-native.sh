#!/bin/bash
# vdsoscope natively on arm64: cross-built static for arm64 and run inside
# Debian's arm64 kernel under qemu, with and without pointer authentication
# (tests/qemu/native.sh).  Here, on the host, its outputs are judged
# (tests/qemu/native-check.py): info and symbols of its own vDSO say
# aarch64; backtrace --pid of a program stopped inside each of three vDSO
# functions gives the function, then invoke, level2, level1, main;
# verify --pid is exact at every point, in each function it stepped;
# profile --pid's stacks reach main; a recording made there replays on this
# x86_64 host to the same stacks.
# The guest's results are kept in the cache by the hash of the harness and
# of the sources it builds.
. "${top_srcdir:-.}/tests/lib.sh"
QDIR=$top_srcdir/tests/qemu

key=$(cd "$top_srcdir" && cat tests/qemu/native.sh tests/qemu/common.sh tests/qemu/console.py tests/qemu/initramfs.py \
	tests/qemu/native/*.c configure.ac Makefile.am lib/*.[ch] lib/*.map unwind/*.[ch] \
	unwind/*.map tools/*.[ch] tests/test-api.c tests/runner.h | sha256sum | cut -c1-16)
guest_results native-results "$key" env VDSOSCOPE_BUILDDIR="${top_builddir:-$top_srcdir}" \
	bash "$QDIR/native.sh"

for v in nopac pac; do
	if python3 "$QDIR/native-check.py" "$res/$v" > "$tmp/$v.check"; then
		pass "$v ($(cat "$res/$v/kernel")): info, symbols, backtrace --pid, verify --pid, profile --pid on arm64"
	else
		fail "$v: the arm64 guest's outputs"
	fi
	sed 's/^/  /' "$tmp/$v.check"
	grep -E '^(verify|profile|# guest)' "$res/$v/summary.txt" | sed 's/^/  guest: /'
	# the guest's recording, replayed here on x86_64: the stacks it printed
	# live, each as often
	rec=$res/$v/profile.rec
	if [ -s "$rec" ] && [ -s "$res/$v/profile-record.out" ] &&
	   "$VDSOSCOPE" profile --replay "$rec" --sysroot "$res/$v" > "$tmp/replay" 2> "$tmp/err" &&
	   sort "$tmp/replay" > "$tmp/a" && sort "$res/$v/profile-record.out" > "$tmp/b" &&
	   cmp -s "$tmp/a" "$tmp/b" && grep -q 'main;' "$tmp/a"; then
		pass "$v: profile --replay on x86_64 of the guest's arm64 recording = its live stacks ($(wc -l < "$tmp/a") stacks)"
	else
		fail "$v: profile --replay of the arm64 recording"
		sed 's/^/  | /' "$tmp/err"; diff "$tmp/a" "$tmp/b" 2> /dev/null | head -n 10 | sed 's/^/  | /'
	fi
done
finish
