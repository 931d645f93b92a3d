#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# vdsoscope backtrace and the libunwind/libdwfl hooks against eu-stack, gdb
# and ptrace's registers on one x86_64 process whose threads are all stopped
# inside the vDSO (each in another function), then on its kernel-written and
# gcore cores, and on a core whose vDSO segment was removed.
. "${top_srcdir:-.}/tests/lib.sh"
BTCMP="python3 $top_srcdir/tests/bt-compare.py"
EX=$top_builddir/unwind/examples

[ -x "$EX/upt-backtrace" ] || skip "built without libunwind (no hooks, no backtrace)"
command -v eu-stack > /dev/null || skip "eu-stack (elfutils) is not installed"
command -v gdb > /dev/null || skip "gdb is not installed"

# cmp_ok DESCRIPTION ARGS...: bt-compare.py check ARGS must agree
cmp_ok() {
	local what=$1; shift
	if $BTCMP check "$@" > "$tmp/cmp" 2>&1; then
		pass "$what: $(tail -n1 "$tmp/cmp")"
	else
		fail "$what"; sed 's/^/  | /' "$tmp/cmp"
	fi
}

gdb_bt() { # gdb_bt OUT ARGS...: every thread's bt
	local out=$1; shift
	timeout 120 gdb -batch -nx "$@" -ex 'thread apply all bt' > "$out" 2>&1 < /dev/null
}

mkdir "$tmp/cwd"
TARGET_DIR=$tmp/cwd start_target thr "$T64" threads
"$top_builddir/tests/vdso-stop" "$thr_pid" > "$tmp/regs" || { fail "vdso-stop"; finish; exit 1; }

# ---- live -------------------------------------------------------------------
for e in core libunwind libdwfl; do
	expect_ok "backtrace --pid --engine $e" \
		sh -c "$VDSOSCOPE backtrace --pid $thr_pid --engine $e --json > $tmp/live-$e.json"
done
eu-stack -p "$thr_pid" > "$tmp/live-eu" 2>&1
"$EX/upt-backtrace" "$thr_pid" > "$tmp/upt-hook"
"$EX/upt-backtrace" --plain "$thr_pid" > "$tmp/upt-plain"
"$EX/snapshot-backtrace" "$thr_pid" > "$tmp/snapshot"
gdb_bt "$tmp/live-gdb" -p "$thr_pid"
grep -q '^State:.*T' "/proc/$thr_pid/status" || fail "the target did not stay stopped"

for e in core libunwind libdwfl; do
	cmp_ok "live, $e vs eu-stack -p, gdb bt, ptrace, readelf's build-ids" "$tmp/live-$e.json" \
		--eu-stack "$tmp/live-eu" --gdb "$tmp/live-gdb" --regs "$tmp/regs" --main --vdso-top 4 \
		--build-ids
done
cmp_ok "live, upt-backtrace example (hooked _UPT) vs ours" "$tmp/live-libunwind.json" \
	--frames "$tmp/upt-hook"
if $BTCMP differs "$tmp/upt-plain" "$tmp/live-eu" > "$tmp/cmp"; then
	pass "plain _UPT (no hook) loses the frames the hook finds: $(tail -n1 "$tmp/cmp")"
else
	fail "plain _UPT gives the same frames as eu-stack: the hook made no difference"
fi
# the snapshot's two frames: the vDSO function and its caller, as eu-stack
main_eu=$(awk -v t="TID $thr_pid:" '$0 == t {f=1; next} /^TID/ {f=0} f && /^#[01] / {print $2}' "$tmp/live-eu" | tr '\n' ' ')
snap=$(awk '{print $2}' "$tmp/snapshot" | tr '\n' ' ')
if [ -n "$main_eu" ] && [ "$snap" = "$main_eu" ]; then
	pass "snapshot table: $snap"
else
	fail "snapshot table: '$snap', eu-stack '$main_eu'"
fi

# ---- cores --------------------------------------------------------------------
gcore -o "$tmp/g" "$thr_pid" > /dev/null 2>&1
gcorefile=$tmp/g.$thr_pid
kcore=""
if [ "$(cat /proc/sys/kernel/core_pattern)" = core ]; then
	kill -ABRT "$thr_pid"
	kill -CONT "$thr_pid"
	wait "$thr_pid" 2>/dev/null
	for f in "$tmp"/cwd/core "$tmp"/cwd/core.*; do [ -f "$f" ] && kcore=$f; done
fi
[ -n "$kcore" ] || echo "note: no kernel core (core_pattern is '$(cat /proc/sys/kernel/core_pattern)'); gcore only"

for core in $kcore $gcorefile; do
	[ -f "$core" ] || { fail "no core $core"; continue; }
	kind=kernel; [ "$core" = "$gcorefile" ] && kind=gcore
	eu-stack --core="$core" -e "$T64" > "$tmp/core-eu" 2>&1
	gdb_bt "$tmp/core-gdb" "$T64" -c "$core"
	# the kernel writes its core once the threads have run on to take the
	# signal, so only gcore's core is at the registers ptrace recorded
	regs="--regs $tmp/regs --vdso-top 4"
	[ $kind = kernel ] && regs=""
	for e in core libunwind libdwfl; do
		if $VDSOSCOPE backtrace --core "$core" --engine $e --json > "$tmp/core-$e.json" 2> "$tmp/err"; then
			cmp_ok "$kind core, $e vs eu-stack --core, gdb${regs:+, ptrace}" "$tmp/core-$e.json" \
				--eu-stack "$tmp/core-eu" --gdb "$tmp/core-gdb" $regs --main
		else
			fail "$kind core, $e: $(cat "$tmp/err")"
		fi
	done
done

# ---- a core without the vDSO segment, and the image given -----------------------
core=$gcorefile
$CHECK drop-vdso-load "$core" "$tmp/novdso.core" > /dev/null
$VDSOSCOPE extract --core "$core" -o "$tmp/vdso.so"
eu-stack --core="$core" -e "$T64" > "$tmp/full-eu" 2>&1
eu-stack --core="$tmp/novdso.core" -e "$T64" > "$tmp/novdso-eu" 2>&1
gdb_bt "$tmp/novdso-gdb" "$T64" -c "$tmp/novdso.core"
expect_error "no vDSO segment, no --image" 1 "does not contain the vDSO.*--image" \
	$VDSOSCOPE backtrace --core "$tmp/novdso.core"
for e in core libunwind libdwfl; do
	if $VDSOSCOPE backtrace --core "$tmp/novdso.core" --image "$tmp/vdso.so" --engine $e --json \
		> "$tmp/novdso-$e.json" 2> "$tmp/err"; then
		cmp_ok "core without the vDSO + --image, $e vs eu-stack on the intact core" \
			"$tmp/novdso-$e.json" --eu-stack "$tmp/full-eu" --regs "$tmp/regs" --main --vdso-top 4
	else
		fail "core without the vDSO + --image, $e: $(cat "$tmp/err")"
	fi
done
"$EX/dwfl-core" "$tmp/novdso.core" "$tmp/vdso.so" > "$tmp/dwfl-ex"
cmp_ok "dwfl-core example with the find_elf wrapper" "$tmp/novdso-libdwfl.json" --frames "$tmp/dwfl-ex"
if $BTCMP differs "$tmp/novdso-eu" "$tmp/full-eu" > "$tmp/cmp"; then
	pass "eu-stack loses the frames without the vDSO segment: $(tail -n1 "$tmp/cmp")"
else
	fail "eu-stack unwinds the core without the vDSO segment just as well"
fi
if grep -q '^#0 .*in clock_getres ' "$tmp/novdso-gdb" || ! grep -q '?? ()' "$tmp/novdso-gdb"; then
	fail "gdb still names the vDSO frames without the segment"; sed 's/^/  | /' "$tmp/novdso-gdb" | head -20
else
	pass "gdb loses the vDSO frames without the segment"
fi

finish
