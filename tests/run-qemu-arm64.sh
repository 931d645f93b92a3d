#!/bin/bash
# arm64 under emulation: Debian's real arm64 kernel boots in qemu with
# tests/qemu/guest/tracer.c as its init, which single-steps vDSO calls of a
# static arm64 program (and an armhf one, in the compat vDSO), with pointer
# authentication off (cortex-a57) and on (-cpu max), and has the kernel dump
# cores of them stopped inside the vDSO, with the call stack recorded from
# execution (tests/qemu/arm64.sh).  Here, on the x86_64 host:
#  - verify --trace: at every recorded instruction in the vDSO, the caller's
#    PC, SP and callee-saved registers the library computes are the ones the
#    thread had once the call returned (or at its entry, for calls whose
#    recording was cut short);
#  - backtrace --core on each core gives the recorded stack down to main;
#    again with the vDSO segment removed from the core and the image given;
#  - gdb-multiarch with gdb-scripts/vdso.py reaches main on such cores, also
#    without the vDSO segment after `vdso load-image` (and gdb alone is
#    counted: with pointer authentication it loses the caller).
# The guest's results are kept in the cache by the hash of the harness, so
# the sanitizer build's run reads the same recording.
. "${top_srcdir:-.}/tests/lib.sh"
QDIR=$top_srcdir/tests/qemu
READER=$top_builddir/plugin/.libs/vdsoscope-gdb.so
VDSO_PY=$top_builddir/gdb-scripts/vdso.py
export VDSOSCOPE_GDB_READER=$(cd "$(dirname "$READER")" 2> /dev/null && pwd)/vdsoscope-gdb.so VDSOSCOPE

key=$(cat "$QDIR/arm64.sh" "$QDIR/common.sh" "$QDIR/console.py" "$QDIR/initramfs.py" "$QDIR/check.py" \
	"$QDIR"/guest/*.c | sha256sum | cut -c1-16)
guest_results arm64-results "$key" bash "$QDIR/arm64.sh"
pass "arm64 guest: $(cat "$res/nopac/kernel"), traces and cores of both boots checked by tests/qemu/check.py"

for v in nopac pac; do
	d=$res/$v
	for arch in aarch64 arm; do
	if [ $arch = arm ]; then image=$d/vdso32.so exe=$d/child32; else image=$d/vdso64.so exe=$d/child64; fi
	# ---- every executed instruction ----
	set -- "$d"/$arch.*.trace
	args=()
	for t in "$@"; do args+=(--trace "$t"); done
	# its exit status counts traces without a point in the vDSO as bad: the
	# script below judges
	"$VDSOSCOPE" verify --image "$image" "${args[@]}" --json > "$tmp/$v.json" 2> "$tmp/err"
	if python3 - "$tmp/$v.json" "$v $arch" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
pts = sum(r["points"] for r in d["runs"])
exact = sum(r["exact"] for r in d["runs"])
funcs = {}
for r in d["runs"]:
    for f in r["functions"]:
        funcs[f["name"]] = funcs.get(f["name"], 0) + f["points"]
print(f"  {sys.argv[2]}: {len(d['runs'])} traces, {pts} points, {exact} exact;",
      ", ".join(f"{k} {v}" for k, v in sorted(funcs.items())))
# a trace with no point in the vDSO (a call the C library answers itself)
# is no failure
bad = [r for r in d["runs"] if r["wrong"] or (r.get("error") and r["points"])]
for r in bad[:5]:
    print("  wrong:", r["target"], r.get("error", ""), [f for f in r["functions"] if f["wrong"]][:2])
sys.exit(bool(bad) or pts == 0 or exact != pts or len(funcs) < 4)
PY
	then
		pass "$v $arch: verify --trace: every point exact, in all four vDSO functions"
	else
		fail "$v $arch: verify --trace"; sed 's/^/  | /' "$tmp/err"
	fi

	# ---- cores written by the guest kernel ----
	n=0 ok=0 nv=0 okv=0 first=""
	for core in "$d"/$arch.*.core; do
		stack=${core%.core}.stack
		n=$((n + 1))
		if "$VDSOSCOPE" backtrace --core "$core" -e "$exe" --json > "$tmp/bt.json" 2> "$tmp/err" &&
		   python3 "$top_srcdir/tests/qemu-stack.py" "$tmp/bt.json" "$stack" > "$tmp/cmp"; then
			ok=$((ok + 1))
		elif [ -z "$first" ]; then
			first="$(basename "$core"): $(cat "$tmp/cmp" "$tmp/err" | head -c 400)"
		fi
		# every third core again without its vDSO segment, the image given
		if [ $((n % 3)) = 1 ]; then
			nv=$((nv + 1))
			$CHECK drop-vdso-load "$core" "$tmp/novdso.core" > /dev/null &&
			"$VDSOSCOPE" backtrace --core "$tmp/novdso.core" -e "$exe" --image "$image" \
				--json > "$tmp/bt.json" 2> "$tmp/err" &&
			python3 "$top_srcdir/tests/qemu-stack.py" "$tmp/bt.json" "$stack" > "$tmp/cmp" &&
				okv=$((okv + 1))
			[ -z "$first" ] && [ $okv != $nv ] &&
				first="$(basename "$core") without its vDSO: $(cat "$tmp/cmp" "$tmp/err" | head -c 400)"
		fi
	done
	if [ $n -gt 0 ] && [ $ok = $n ] && [ $okv = $nv ]; then
		pass "$v $arch: backtrace --core = the recorded stack to main on $n cores; $nv of them without the vDSO segment"
	else
		fail "$v $arch: backtrace --core: $ok of $n cores, $okv of $nv without the vDSO segment; first: $first"
	fi
	done

	# ---- gdb-multiarch, with gdb-scripts/vdso.py and without ----
	command -v gdb-multiarch > /dev/null || { echo "note: no gdb-multiarch: the reader on arm64 cores not checked"; continue; }
	[ -f "$READER" ] || { echo "note: no gdb reader built"; continue; }
	n=0 ok=0 plain=0 nv=0 okv=0 first=""
	for core in "$d"/aarch64.*.core; do
		n=$((n + 1))
		[ $((n % 2)) = 1 ] || continue
		stack=${core%.core}.stack
		gdb-multiarch -batch -nx -ex "set pagination off" -ex "file $d/child64" -ex "core-file $core" \
			-ex "source $VDSO_PY" -ex "bt" > "$tmp/gdb.out" 2>&1
		if python3 "$top_srcdir/tests/qemu-stack.py" --gdb "$tmp/gdb.out" "$stack" > "$tmp/cmp"; then
			ok=$((ok + 1))
		elif [ -z "$first" ]; then
			first="$(basename "$core"): $(cat "$tmp/cmp")"
		fi
		gdb-multiarch -batch -nx -ex "set pagination off" -ex "file $d/child64" -ex "core-file $core" \
			-ex "bt" > "$tmp/gdb.out" 2>&1
		python3 "$top_srcdir/tests/qemu-stack.py" --gdb "$tmp/gdb.out" "$stack" > /dev/null && plain=$((plain + 1))
		if [ $((n % 6)) = 1 ]; then
			nv=$((nv + 1))
			$CHECK drop-vdso-load "$core" "$tmp/novdso.core" > /dev/null
			gdb-multiarch -batch -nx -ex "set pagination off" -ex "file $d/child64" \
				-ex "core-file $tmp/novdso.core" -ex "source $VDSO_PY" \
				-ex "vdso load-image $d/vdso64.so" -ex "bt" > "$tmp/gdb.out" 2>&1
			if python3 "$top_srcdir/tests/qemu-stack.py" --gdb "$tmp/gdb.out" "$stack" \
				--unnamed-sigreturn > "$tmp/cmp"; then
				okv=$((okv + 1))
			elif [ -z "$first" ]; then
				first="$(basename "$core") without its vDSO: $(cat "$tmp/cmp")"
			fi
		fi
	done
	m=$(( (n + 1) / 2 ))
	if [ $ok = $m ] && [ $okv = $nv ]; then
		pass "$v: gdb-multiarch with vdso.py reaches main as recorded on $m cores (gdb alone: $plain), and on $nv without the vDSO segment after vdso load-image"
	else
		fail "$v: gdb-multiarch with vdso.py: $ok of $m cores, $okv of $nv without the vDSO segment; first: $first"
	fi
done
finish
