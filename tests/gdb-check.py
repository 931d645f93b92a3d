#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Checks gdb output of the vs_compare blocks (tests/gdb.sh).

  gdb-check.py compare OUT ERR MIN
      In OUT, each "@@native ... @@reader ... @@end" block: the reader's
      part equals gdb's own (backtrace, caller registers).  In ERR, each
      "@@debug" part (set debug frame 1): when the PC is in the vDSO, frame 0
      was unwound by the reader ("jit"), the reader's frames are a prefix and
      some frame after them is gdb's own.  At least MIN blocks.
  gdb-check.py truth OUT MIN
      Each "@@claim ... @@endclaim ... @@truth ... @@endtruth" block: the
      caller registers the reader gave equal those after the return.
  gdb-check.py frames ERR
      Prints level and unwinder of each frame in ERR's debug output.
"""
import difflib
import re
import sys

FRAME = re.compile(r'\{level=(\d+),type=(\w+),unwinder="([^"]*)",pc=(0x[0-9a-f]+)')


def frames(text):
    """level -> unwinder, from `set debug frame 1` output"""
    seen = {}
    for m in FRAME.finditer(text):
        if m.group(3) != "<unknown>":
            seen[int(m.group(1))] = m.group(3)
    return seen


def compare(out, err, least):
    text = open(out).read()
    blocks = re.findall(r"@@native\n(.*?)@@reader\n(.*?)@@end\n", text, re.S)
    debug = open(err).read().split("@@debug\n")[1:]
    ok = True
    if len(blocks) < least:
        print(f"{len(blocks)} comparisons, wanted at least {least}")
        ok = False
    if len(debug) != len(blocks):
        print(f"{len(blocks)} comparisons but {len(debug)} debug logs")
        ok = False
    jit_frames = 0
    for i, ((native, reader), dbg) in enumerate(zip(blocks, debug)):
        head = native.splitlines()[0] if native else ""
        if native != reader:
            ok = False
            print(f"block {i}: {head}")
            for line in difflib.unified_diff(native.splitlines(), reader.splitlines(),
                                             "gdb", "gdb+reader", lineterm=""):
                print("  " + line)
        in_vdso = "system-supplied DSO" in head or "No symbol matches" in head
        fr = frames(dbg)
        levels = sorted(fr)
        jit = [l for l in levels if fr[l] == "jit"]
        if in_vdso:
            if not jit or jit[0] != 0:
                ok = False
                print(f"block {i}: frame 0 ({head}) not unwound by the reader: {fr}")
            elif jit != list(range(len(jit))) or len(levels) <= len(jit):
                ok = False
                print(f"block {i}: reader frames are not a prefix followed by gdb's: {fr}")
        elif jit:
            ok = False
            print(f"block {i}: the reader claimed frames outside the vDSO: {fr}")
        jit_frames += len(jit)
        if "#" not in native:
            ok = False
            print(f"block {i}: no backtrace")
    print(f"{len(blocks)} stops agree, {jit_frames} frames unwound by the reader")
    return ok


def truth(out, least):
    text = open(out).read()
    blocks = re.findall(r"@@claim\n(.*?)@@endclaim\n.*?@@truth\n(.*?)@@endtruth\n", text, re.S)
    ok = len(blocks) >= least
    if not ok:
        print(f"{len(blocks)} returns, wanted at least {least}")
    for i, (claim, real) in enumerate(blocks):
        # register name and hex value; the symbolic column may differ
        c = [l.split()[:2] for l in claim.splitlines() if l.strip()]
        r = [l.split()[:2] for l in real.splitlines() if l.strip()]
        if c != r or not c:
            ok = False
            print(f"block {i}: reader {c}\n         after return {r}")
    print(f"{len(blocks)} returns: the reader's caller registers are the ones after the return")
    return ok


def main():
    if sys.argv[1] == "truth":
        return 0 if truth(sys.argv[2], int(sys.argv[3])) else 1
    if sys.argv[1] == "compare":
        return 0 if compare(sys.argv[2], sys.argv[3], int(sys.argv[4])) else 1
    if sys.argv[1] == "frames":
        fr = frames(open(sys.argv[2]).read())
        for l in sorted(fr):
            print(l, fr[l])
        return 0
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
