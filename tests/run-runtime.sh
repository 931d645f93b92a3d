#!/bin/bash
# A program without libc (examples/vdso-nolibc, x86_64 and i386) finds
# clock_gettime through vdso-elf.c: its times lie between libc's
# clock_gettime just before and just after it, and the address it called is
# the one the library gives that symbol in its process.
. "${top_srcdir:-.}/tests/lib.sh"

now() { python3 -c 'import time; print(time.clock_gettime_ns(time.CLOCK_REALTIME), time.clock_gettime_ns(time.CLOCK_MONOTONIC))'; }

for bits in 64 32; do
	bin=$top_builddir/examples/vdso-nolibc; [ $bits = 32 ] && bin=${bin}32
	if [ ! -x "$bin" ]; then echo "$bits-bit part skipped: $bin was not built (no gcc -m32)"; continue; fi
	rm -f "$tmp/in" "$tmp/out"; mkfifo "$tmp/in" "$tmp/out"
	before=$(now)
	"$bin" < "$tmp/in" > "$tmp/out" &
	pid=$!
	target_pids="$target_pids $pid"
	exec {fd}> "$tmp/in"
	{ read -r _ ehdr; read -r _ name addr; read -r _ rs rn; read -r _ ms mn; } < "$tmp/out"
	after=$(now)
	if python3 - "$before" "$rs" "$rn" "$ms" "$mn" "$after" <<'PY'
import sys
b = [int(x) for x in sys.argv[1].split()]
a = [int(x) for x in sys.argv[6].split()]
r = int(sys.argv[2]) * 10**9 + int(sys.argv[3])
m = int(sys.argv[4]) * 10**9 + int(sys.argv[5])
ok = b[0] <= r <= a[0] and b[1] <= m <= a[1]
print(f"  REALTIME {b[0]} <= {r} <= {a[0]}; MONOTONIC {b[1]} <= {m} <= {a[1]}")
sys.exit(0 if ok else 1)
PY
	then pass "$bits-bit: $name's times lie between libc's"; else fail "$bits-bit: times out of order"; fi

	"$VDSOSCOPE" symbols --json --pid "$pid" > "$tmp/s.json"
	"$VDSOSCOPE" info --json --pid "$pid" > "$tmp/i.json"
	if python3 - "$tmp/s.json" "$tmp/i.json" "$name" "$addr" "$ehdr" <<'PY'
import json, sys
funcs = json.load(open(sys.argv[1]))
info = json.load(open(sys.argv[2]))
name, addr, ehdr = sys.argv[3], int(sys.argv[4], 16), int(sys.argv[5], 16)
starts = [int(f["start"], 16) for f in funcs
          for n in f["names"] if n["name"] == name and n["version"] == "LINUX_2.6"]
print(f"  {name}: called 0x{addr:x}, library 0x{starts[0] if starts else 0:x}; vDSO 0x{ehdr:x}, library {info['load_address']}")
sys.exit(0 if starts == [addr] and int(info["load_address"], 16) == ehdr else 1)
PY
	then pass "$bits-bit: the address called is the library's"; else fail "$bits-bit: addresses differ"; fi
	exec {fd}>&-
	wait "$pid" || fail "$bits-bit: exit status $?"
done
finish
