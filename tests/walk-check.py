#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Checks the backtraces taken at the stops of tests/vdso-walk.

  walk-check.py check DIR
      DIR/stops has "N IP RA CALL ENTRY" per stop (vdso-walk's variables),
      DIR/N.json is `vdsoscope backtrace --json` of the live process at stop
      N, DIR/N.core.json (when there) the same of a core dumped there.  At
      every stop: frame 0 is at IP, the first frame outside the vDSO is at
      RA, a frame is main, the frames outside the vDSO are those of every
      other stop in the same call, and the core's frames are the live ones
      up to main (libdwfl stops at main in live i386 processes).
  walk-check.py lost DIR EXT
      Counts the stops whose DIR/N.EXT ("#k 0xADDR" lines, eu-stack) start
      at IP but do not reach RA and main; prints "LOST of N stops".
"""
import json
import re
import sys


def frames(path):
    t = json.load(open(path))["threads"]
    return t[0]["frames"], t[0]["end"]


def outside(fr):
    return [int(f["address"], 16) for f in fr if not f["vdso"]]


def check(d):
    errors, calls, ncore, funcs = [], {}, 0, set()
    stops = [line.split() for line in open(f"{d}/stops")]
    for n, ip, ra, call, entry in stops:
        fr, end = frames(f"{d}/{n}.json")
        where = f"stop {n} at 0x{ip}"
        if int(fr[0]["address"], 16) != int(ip, 16):
            errors.append(f"{where}: frame 0 at {fr[0]['address']}")
            continue
        funcs.add(fr[0]["function"])
        out = outside(fr[1:])
        if not out or out[0] != int(ra, 16):
            errors.append(f"{where}: first frame outside the vDSO "
                          f"{hex(out[0]) if out else 'none'}, the call returns to 0x{ra} "
                          f"({end})")
        if not any(f["function"] == "main" for f in fr):
            errors.append(f"{where}: main not reached ({end})")
        if calls.setdefault(call, (n, out))[1] != out:
            errors.append(f"{where}: callers differ from stop {calls[call][0]} in the same call")
        try:
            cfr, cend = frames(f"{d}/{n}.core.json")
        except FileNotFoundError:
            continue
        ncore += 1
        if [f["address"] for f in cfr[:len(fr)]] != [f["address"] for f in fr]:
            errors.append(f"{where}: the core's frames "
                          f"{[f['address'] for f in cfr]} ({cend}), live "
                          f"{[f['address'] for f in fr]}")
    for e in errors[:20]:
        print(e)
    print(f"{len(stops)} stops ({ncore} with a core) in {len(calls)} calls, vDSO functions "
          f"{sorted(str(f) for f in funcs)}: {len(errors)} wrong")
    return 1 if errors or not stops else 0


def lost(d, ext):
    n = read = 0
    for s, ip, ra, call, entry in (line.split() for line in open(f"{d}/stops")):
        text = open(f"{d}/{s}.{ext}", errors="replace").read()
        addrs = [int(a, 16) for a in re.findall(r"^#\d+\s+(0x[0-9a-f]+)", text, re.M)]
        if not addrs or addrs[0] != int(ip, 16):
            continue
        read += 1
        if int(ra, 16) not in addrs or not re.search(r"\bmain\b", text):
            n += 1
    print(f"{n} of {read} stops")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "check":
        sys.exit(check(sys.argv[2]))
    if len(sys.argv) == 4 and sys.argv[1] == "lost":
        sys.exit(lost(sys.argv[2], sys.argv[3]))
    print(__doc__, file=sys.stderr)
    sys.exit(2)
