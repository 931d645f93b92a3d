# SPDX-License-Identifier: LGPL-2.1-or-later
"""qemu-stack.py OURS.json STACK: the frames of `vdsoscope backtrace --json`
(one thread) begin with the execution-recorded call stack STACK ("ADDR NAME
[signal]" lines, innermost first, ending in main): the same addresses and,
where STACK names a function, the same name.  Prints one line; exit 0 when
they agree."""
import json
import sys

ours = json.load(open(sys.argv[1]))
want = [l.split() for l in open(sys.argv[2]) if l.strip()]
threads = ours["threads"]
if len(threads) != 1:
    print(f"{len(threads)} threads in the core, want 1")
    sys.exit(1)
frames = threads[0]["frames"]
got = [(int(f["address"], 16), f.get("function") or "??") for f in frames]
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
