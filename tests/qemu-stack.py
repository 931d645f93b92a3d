# SPDX-License-Identifier: LGPL-2.1-or-later
"""qemu-stack.py OURS.json STACK: the frames of `vdsoscope backtrace --json`
(one thread) begin with the execution-recorded call stack STACK ("ADDR NAME
[signal]" lines, innermost first, ending in main): the same addresses and,
where STACK names a function, the same name.  Prints one line; exit 0 when
they agree.
qemu-stack.py --gdb GDB_OUTPUT STACK: gdb's `bt` (the last one in the
output) names STACK's functions in order, down to main (and may show
inlined functions between them); a signal trampoline may show as "<signal
handler called>"; with --unnamed-sigreturn (after the STACK argument) also
as "??"."""
import json
import re
import sys

if sys.argv[1] == "--gdb":
    # --unnamed-sigreturn: the image came from a file (vdso load-image) and gdb's
    # own sigtramp unwinder, which needs the bytes in memory, is not the
    # one unwinding the trampoline: gdb names that frame from PC - 1, the
    # NOP before __kernel_rt_sigreturn, so "??"
    nosym = sys.argv[1:2] == ["--gdb"] and len(sys.argv) > 4 and sys.argv[4] == "--unnamed-sigreturn"
    want = [l.split() for l in open(sys.argv[3]) if l.strip()]
    bts, cur = [], None
    for line in open(sys.argv[2], errors="replace"):
        m = re.match(r"#(\d+)\s+(?:0x([0-9a-f]+)\s+(?:\[PAC\]\s+)?in\s+)?(<signal handler called>|\S+)", line)
        if not m:
            continue
        if m.group(1) == "0":
            cur = []
            bts.append(cur)
        if cur is not None:
            name = m.group(3)
            if name.startswith("<signal") or (nosym and name == "??" and len(cur) > 0):
                name = "__kernel_rt_sigreturn"
            cur.append(name)
    got = bts[-1] if bts else []
    names = [w[1] for w in want]
    # gdb adds frames for inlined functions: STACK's frames in order, no
    # more than those between them
    it = iter(got)
    if not got or got[0] != names[0] or not all(any(g == w for g in it) for w in names):
        print(f"gdb: {' '.join(got[:len(names) + 1])}; want {' '.join(names)}")
        sys.exit(1)
    print(f"gdb: {len(names)} frames to main")
    sys.exit(0)

ours = json.load(open(sys.argv[1]))
want = [l.split() for l in open(sys.argv[2]) if l.strip()]
threads = ours["threads"]
if len(threads) != 1:
    print(f"{len(threads)} threads in the core, want 1")
    sys.exit(1)
frames = threads[0]["frames"]
got = [(int(f["address"], 16), f.get("function") or
        (f.get("module") if (f.get("module") or "").startswith("[") else "??")) for f in frames]
bad = []
for i, w in enumerate(want):
    addr, name = int(w[0], 16), w[1] if len(w) > 1 else None
    if i >= len(got):
        bad.append(f"#{i}: missing, want 0x{addr:x} {name} (stack ended: {threads[0].get('end')})")
        break
    if got[i][0] != addr or (name and name != got[i][1]):
        bad.append(f"#{i}: 0x{got[i][0]:x} {got[i][1]}, want 0x{addr:x} {name}")
        break
if bad:
    print("; ".join(bad))
    sys.exit(1)
print(f"{len(want)} frames to {want[-1][1] if len(want[-1]) > 1 else '?'}")
