#!/bin/bash
# x86_64's legacy vsyscall page (no ELF, no CFI): a process stopped at a
# vsyscall entry unwinds to main with `vdsoscope backtrace`; the caller is
# the return address ptrace's SP points at (read from /proc/PID/mem) and is
# the function addr2line names there.
. "${top_srcdir:-.}/tests/lib.sh"

grep -q 'vsyscall' /proc/self/maps 2>/dev/null ||
	skip "no [vsyscall] mapping (booted with vsyscall=none)"
grep '\[vsyscall\]' /proc/self/maps | grep -q 'x' ||
	skip "the vsyscall page is not executable here"
"$VDSOSCOPE" backtrace --help > /dev/null 2>&1 || skip "built without libunwind (no backtrace)"
command -v addr2line > /dev/null || skip "addr2line (binutils) is not installed"

start_target vs "$T64" vsyscall-loop
"$top_builddir/tests/vdso-stop" --vsyscall "$vs_pid" > "$tmp/regs" || { fail "vdso-stop --vsyscall"; finish; exit 1; }
read -r tid ip sp < "$tmp/regs"
case $ip in
0xffffffffff6*) pass "stopped in the vsyscall page at $ip" ;;
*) fail "stopped at $ip, not in the vsyscall page" ;;
esac
"$VDSOSCOPE" backtrace --pid "$vs_pid" --json > "$tmp/bt.json"
"$VDSOSCOPE" backtrace --pid "$vs_pid" > "$tmp/bt.txt"
sed 's/^/  | /' "$tmp/bt.txt"
if python3 - "$tmp/bt.json" "$vs_pid" "$sp" "$T64" <<'PY'
import json, os, subprocess, sys
bt = json.load(open(sys.argv[1]))
pid, sp, exe = int(sys.argv[2]), int(sys.argv[3], 16), os.path.realpath(sys.argv[4])
with open(f"/proc/{pid}/mem", "rb") as m:
    m.seek(sp)
    ret = int.from_bytes(m.read(8), "little")
base = None
for line in open(f"/proc/{pid}/maps"):
    f = line.split()
    if len(f) >= 6 and os.path.realpath(f[5]) == exe and int(f[2], 16) == 0:
        base = int(f[0].split("-")[0], 16)
        break
caller = subprocess.run(["addr2line", "-f", "-e", exe, hex(ret - base - 1)], capture_output=True,
                        text=True).stdout.split("\n")[0]
frames = bt["threads"][0]["frames"]
names = [f.get("function") or "" for f in frames]
print(f"  return address at SP: 0x{ret:x} ({caller}); frames: {names}")
ok = (names[0] == "vsyscall_time" and int(frames[1]["address"], 16) == ret and
      names[1] == caller and "main" in names)
sys.exit(0 if ok else 1)
PY
then pass "backtrace from the vsyscall page reaches main through the right caller"
else fail "backtrace from the vsyscall page"; fi
finish
