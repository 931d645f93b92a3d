#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# node running hot JavaScript (code V8 compiled into anonymous executable
# memory): caught there, every engine's backtrace labels the frame as
# anonymous memory, as /proc/PID/maps shows it, and ends there saying why,
# where a frame-pointer guess would go on.
. "${top_srcdir:-.}/tests/lib.sh"

"$VDSOSCOPE" backtrace --help > /dev/null 2>&1 || skip "built without libunwind (no backtrace)"
command -v node > /dev/null || skip "node (Debian package nodejs) is not installed"

cat > "$tmp/spin.js" <<'JS'
function hot(n) { let s = 0; for (let i = 0; i < n; i++) s += Math.sqrt(i) * (i & 7); return s; }
console.log(process.pid);
let t = 0; for (;;) { t += hot(100000); if (t < 0) break; }
JS
mkfifo "$tmp/pid"
node "$tmp/spin.js" > "$tmp/pid" &
pid=$!
target_pids="$target_pids $pid"
read -r _ < "$tmp/pid"

# anon PC: whether /proc/PID/maps shows PC in an executable mapping of no file
anon() {
	python3 - "$pid" "$1" <<'PY'
import sys
pc = int(sys.argv[2], 16)
for line in open(f"/proc/{sys.argv[1]}/maps"):
    f = line.split()
    lo, hi = (int(x, 16) for x in f[0].split("-"))
    if lo <= pc < hi:
        sys.exit(0 if "x" in f[1] and (len(f) < 6 or not f[5].startswith("/")) else 1)
sys.exit(1)
PY
}

for engine in core libunwind libdwfl; do
	seen=0
	for i in $(seq 60); do
		"$VDSOSCOPE" backtrace --pid "$pid" --tid "$pid" --engine $engine --json \
			> "$tmp/bt.json" 2> "$tmp/err" || continue
		pc=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["threads"][0]["frames"][0]["address"])' "$tmp/bt.json")
		anon "$pc" || continue
		seen=1
		break
	done
	if [ $seen = 0 ]; then
		fail "$engine: node's main thread never stopped in anonymous code"
		continue
	fi
	if python3 - "$tmp/bt.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["threads"][0]
f = t["frames"]
ok = len(f) == 1 and f[0]["module"] == "[anonymous]" and "anonymous executable memory" in t["end"]
print(f, t["end"])
sys.exit(0 if ok else 1)
PY
	then
		pass "$engine: a JIT frame is labelled anonymous and ends the stack: $pc"
	else
		fail "$engine: a frame at $pc in anonymous memory"
	fi
done
finish
