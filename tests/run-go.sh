#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# A Go program (Debian's golang-go: frame pointers, a zlib-compressed
# .debug_frame, the vDSO called on the thread's system stack) stopped with
# goroutines inside time.Now: `backtrace --pid` reaches the goroutine's
# start through the frame pointer, with the frames Go's own traceback
# (SIGQUIT, GOTRACEBACK=system) gives for the same goroutines.
. "${top_srcdir:-.}/tests/lib.sh"

"$VDSOSCOPE" backtrace --help > /dev/null 2>&1 || skip "built without libunwind (no backtrace)"
command -v go > /dev/null || skip "go (Debian package golang-go) is not installed"

if ! build_go "$tmp/spin"; then
	fail "go build: $(cat "$tmp/go-build.log")"
	finish; exit 1
fi
readelf -SW "$tmp/spin" | grep -q '\.debug_frame.* C ' &&
	echo "note: the program's .debug_frame is compressed (SHF_COMPRESSED)"

mkfifo "$tmp/pid"
GOTRACEBACK=system "$tmp/spin" 0 3 ready > "$tmp/pid" 2> "$tmp/traceback" &
pid=$!
target_pids="$target_pids $pid"
read -r _ < "$tmp/pid"

# frames: "tid name name ..." from backtrace --json; FP: frames found by
# frame pointer; VDSO: threads stopped in the vDSO
summarize() {
	python3 - "$1" <<'EOF'
import json, sys
bt = json.load(open(sys.argv[1]))
for t in bt["threads"]:
    names = [(f["function"] or "??").removesuffix(".abi0") for f in t["frames"]]
    fp = sum(f.get("frame_pointer", False) for f in t["frames"])
    top = "vdso" if t["frames"] and t["frames"][0]["vdso"] else "go"
    print(t["tid"], top, fp, " ".join(names), "|", t["end"])
EOF
}

# stop it until a goroutine is caught inside the vDSO (each try is a new
# moment; the goroutines spend most of their time there)
found=0
for i in $(seq 40); do
	"$VDSOSCOPE" backtrace --pid "$pid" --json > "$tmp/bt.json" 2> "$tmp/err" || break
	summarize "$tmp/bt.json" > "$tmp/sum"
	if grep -q '^[0-9]* vdso [1-9].* main\.spin ' "$tmp/sum"; then
		found=1
		break
	fi
done
kill -QUIT "$pid"
wait "$pid" 2> /dev/null
cat "$tmp/sum"

# Go's traceback: "goroutine N [...]:", then "func(args)" lines
python3 - "$tmp/traceback" > "$tmp/go-stacks" <<'EOF'
import re, sys
stacks, cur = [], None
for line in open(sys.argv[1], errors="replace"):
    if line.startswith("goroutine "):
        cur = []
        stacks.append(cur)
    elif cur is not None and re.match(r"^[\w.*()/\[\]-]+\(.*\)$", line.rstrip()) and not line.startswith("\t"):
        cur.append(re.sub(r"\(.*\)$", "", line.rstrip()))
    elif not line.strip():
        cur = None
for s in stacks:
    if s:
        print(" ".join(s))
EOF
if [ ! -s "$tmp/go-stacks" ]; then
	fail "Go printed no traceback"; sed 's/^/  | /' "$tmp/traceback" | head -20
	finish; exit 1
fi

if [ $found = 1 ]; then
	pass "a goroutine stopped in the vDSO unwinds through the frame pointer"
else
	fail "no goroutine was seen inside the vDSO with its stack through the frame pointer"
	sed 's/^/  | /' "$tmp/err"
fi

# each of our stacks through main.spin: from main.spin to its end the same
# as a goroutine of Go's traceback, and ended where Go's ends
bad=0
n=0
while read -r tid top fp rest; do
	names=${rest%%|*}
	case " $names " in *" main.spin "*) ;; *) continue ;; esac
	n=$((n + 1))
	tail=" main.spin ${names#* main.spin }"
	tail=$(echo $tail)
	if ! sed 's/^/ /; s/$/ /' "$tmp/go-stacks" | grep -q -F " $tail "; then
		bad=1
		echo "  thread $tid: '$tail' is no goroutine's stack in Go's traceback"
	fi
	case "$rest" in *"Go's own traceback ends at runtime.goexit"*) ;;
	*) bad=1; echo "  thread $tid does not end at runtime.goexit: $rest" ;; esac
done < "$tmp/sum"
if [ $bad = 0 ] && [ $n -ge 1 ]; then
	pass "$n stacks through main.spin = Go's own traceback of those goroutines"
else
	fail "stacks through main.spin against Go's traceback ($n seen)"
	sed 's/^/  | /' "$tmp/go-stacks"
fi
finish
