#!/bin/bash
# The catalogue of bad inputs (tests/elfmut.py), made from this machine's
# x86_64 and i386 images and cores: each gets its named error (or, where
# marked OPENS, reads cleanly), never a crash, a hang or memory beyond a
# small multiple of the input (the command runs under ulimit -v 256 MiB,
# except in an ASan build, whose shadow memory needs more address space).
. "${top_srcdir:-.}/tests/lib.sh"
MUT="python3 $top_srcdir/tests/elfmut.py"
PROBE=$top_builddir/tests/badinput-probe
limit=$((256 * 1024))
(ulimit -v $limit && "$VDSOSCOPE" --version) > /dev/null 2>&1 || limit=unlimited

# bounded CMD...: runs CMD with the memory limit and a 60 s timeout
bounded() { (ulimit -v $limit; exec timeout 60 "$@"); }

# judge WHAT EXPECT: the last command's status in $rc, stderr in $tmp/err
judge() {
	local what=$1 expect=$2
	if [ "$rc" -gt 1 ]; then
		fail "$what: exit $rc (crash, hang or out of memory)"; sed 's/^/  | /' "$tmp/err" | head -n 20
	elif [ "$rc" = 0 ] && [[ "$expect" == OPENS* ]]; then
		pass "$what: reads cleanly"
	elif [ "$rc" = 1 ] && grep -Eq -- "$expect" "$tmp/err"; then
		pass "$what: $(head -n1 "$tmp/err")"
	else
		fail "$what: exit $rc, want /$expect/:"; sed 's/^/  | /' "$tmp/err" | head -n 5
	fi
}

"$VDSOSCOPE" extract -o "$tmp/x86_64"
images=x86_64
if [ -x "$T32" ]; then
	start_target t32 "$T32"
	"$VDSOSCOPE" extract --pid "$t32_pid" -o "$tmp/i386"
	images="x86_64 i386"
fi
for v in $images; do
	$MUT bad-images "$tmp/$v" "$tmp/bad-$v"
	while IFS=$'\t' read -r name expect; do
		for cmd in info symbols cfi; do
			rc=0
			bounded "$VDSOSCOPE" $cmd --no-debug --file "$tmp/bad-$v/$name" > /dev/null 2> "$tmp/err" || rc=$?
			# bad CFI leaves symbols usable: only "cfi" fails
			if [[ "$expect" == CFI* ]] && [ $cmd != cfi ]; then
				judge "$v $name ($cmd)" "OPENS"
			else
				judge "$v $name ($cmd)" "${expect#CFI:}"
			fi
		done
		rc=0
		bounded "$PROBE" step "$tmp/bad-$v/$name" > /dev/null 2> "$tmp/err" || rc=$?
		[ "$rc" -le 1 ] && pass "$v $name: steps end cleanly" || judge "$v $name (step)" "-"
		rc=0
		bounded "$PROBE" lookup "$tmp/bad-$v/$name" __vdso_time > /dev/null 2> "$tmp/err" || rc=$?
		[ "$rc" -le 1 ] && pass "$v $name: lookup ends cleanly" || judge "$v $name (lookup)" "-"
	done < "$tmp/bad-$v/LIST"
done

# a DT_HASH chain that loops: the lookup stops and says so
PYTHONPATH="$top_srcdir/tests" python3 - "$tmp/x86_64" "$tmp/hash-loop" <<'PY'
import sys
from elfmut import Elf, DT
i = Elf(open(sys.argv[1], "rb").read())
_, h = i.dyn_val("HASH")
ho = i.addr_to_off(h)
nb, nc = i.get("I", ho), i.get("I", ho + 4)
for k in range(nb):
    i.put("I", ho + 8 + 4 * k, 1)            # every bucket starts at symbol 1
for k in range(nc):
    i.put("I", ho + 8 + 4 * nb + 4 * k, 1)   # and every chain goes back to it
for at, tag, val in i.dyn():
    if tag == DT["GNU_HASH"]:
        i.put(i.w, at - i.ws, 0x6FFFFEF4)    # lookups go through DT_HASH
open(sys.argv[2], "wb").write(i.b)
PY
rc=0
bounded "$PROBE" lookup "$tmp/hash-loop" no_such_symbol > /dev/null 2> "$tmp/err" || rc=$?
judge "DT_HASH chain that loops" "VDSOSCOPE_E_BAD_HASH"

# cores: truncated at every segment boundary (and a byte either side)
start_target t64 "$T64"
for t in t64 ${t32_pid:+t32}; do
	eval "pid=\$${t}_pid"
	gcore -o "$tmp/core-$t" "$pid" > /dev/null 2>&1 || { fail "gcore $pid"; continue; }
	core=$tmp/core-$t.$pid
	$MUT small-core "$core" "$tmp/small-$t"
	n=0 bad=0
	for cut in $($MUT core-cuts "$tmp/small-$t"); do
		head -c "$cut" "$tmp/small-$t" > "$tmp/cut"
		rc=0
		bounded "$VDSOSCOPE" info --no-debug --core "$tmp/cut" > /dev/null 2> "$tmp/err" || rc=$?
		n=$((n + 1))
		if [ "$rc" != 1 ] || ! grep -Eq "core $tmp/cut: .*(truncated|past the end|ends inside|no NT_AUXV|note|program headers|ELF header|not an ELF)" "$tmp/err"; then
			bad=$((bad + 1)); echo "cut at $cut: exit $rc: $(head -n1 "$tmp/err")"
		fi
	done
	[ $bad = 0 ] && pass "$t core cut at $n offsets: each a named error" || fail "$t core cuts: $bad of $n"
	python3 "$top_srcdir/tests/vdso-check.py" drop-vdso-load "$tmp/small-$t" "$tmp/novdso" > /dev/null
	rc=0
	bounded "$VDSOSCOPE" --core "$tmp/novdso" > /dev/null 2> "$tmp/err" || rc=$?
	judge "$t core without the vDSO" "no PT_LOAD holds the vDSO at 0x"
done

# processes that exit while they are read: a result or "no such process"
n=0 bad=0
for i in $(seq 20); do
	"$T64" wait < /dev/null > /dev/null 2>&1 &
	p=$!
	rc=0
	"$VDSOSCOPE" --pid "$p" > /dev/null 2> "$tmp/err" || rc=$?
	wait "$p" 2>/dev/null
	n=$((n + 1))
	if ! { [ $rc = 0 ] || { [ $rc = 1 ] && grep -Eq "pid $p: (no such process|exited while|.*reading the vDSO)" "$tmp/err"; }; }; then
		bad=$((bad + 1)); echo "pid $p: exit $rc: $(cat "$tmp/err")"
	fi
done
[ $bad = 0 ] && pass "$n pids exiting while read: a result or a named error" || fail "exiting pids: $bad of $n"

# another user's process, read as nobody
if [ "$(id -u)" != 0 ] || ! command -v setpriv > /dev/null; then
	echo "another user's pid: not checked (needs root and setpriv)"
elif ! setpriv --reuid=65534 --regid=65534 --clear-groups "$VDSOSCOPE" --version > /dev/null 2>&1; then
	echo "another user's pid: not checked (user nobody cannot run $VDSOSCOPE from this build directory)"
else
	rc=0
	setpriv --reuid=65534 --regid=65534 --clear-groups "$VDSOSCOPE" --pid "$t64_pid" > /dev/null 2> "$tmp/err" || rc=$?
	judge "pid of another user, as nobody" "pid $t64_pid.*(Permission denied|Operation not permitted)"
fi
stop_target t64
[ -n "${t32_pid:-}" ] && stop_target t32
finish
