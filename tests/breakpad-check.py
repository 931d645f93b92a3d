#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Checks of `vdsoscope breakpad` output against other tools' words.

  breakpad-check.py id BUILDID
      the Breakpad module id of hex BUILDID: its first 16 bytes (zero-padded)
      as a GUID whose first three fields are little-endian, then age 0
  breakpad-check.py syms SYM READELF_S LINK_BASE
      every PUBLIC and FUNC address is a function symbol's value in
      `readelf -Ws` output minus LINK_BASE (hex) with that name, and every
      function symbol has a PUBLIC; FUNCs named fde@0xLINK stand for an FDE
  breakpad-check.py cover SYM CFI_JSON LOAD
      every row `vdsoscope cfi --json` printed lies inside one STACK CFI
      INIT range (module-relative, LOAD the runtime base), and every INIT
      has .cfa and .ra
  breakpad-check.py cfi-same SYM REF
      at every address REF's STACK CFI covers, SYM's rules in force are the
      same (REF: dump_syms' file for the same image); "$r: $r" counts as no
      rule
  breakpad-check.py lines SYM REF FUNC
      FUNC's record has the address and size REF's has, and every address of
      REF's line records for it has the same file and line in SYM
  breakpad-check.py walk OUT MAIN_LO MAIN_HI EXE
      minidump_stackwalk's OUT: thread 0's frame 0 is in linux-gate.so, every
      frame after it up to the first outside the vDSO was found by call frame
      info, and that frame is EXE's main (EXE!main, or an offset in
      [MAIN_LO, MAIN_HI)); "nowalk": the same must NOT hold
"""
import json
import re
import sys


def module_id(hexid):
    b = bytes.fromhex(hexid)[:16].ljust(16, b"\0")
    return (b[3::-1] + b[5:3:-1] + b[7:5:-1] + b[8:]).hex().upper() + "0"


def records(path):
    with open(path) as f:
        return [line.rstrip("\n") for line in f]


def stack_cfi(path):
    """[(start, end, [(addr, {reg: expr})])] per INIT"""
    out = []
    for line in records(path):
        if not line.startswith("STACK CFI "):
            continue
        f = line.split()
        if f[2] == "INIT":
            start, size, rest = int(f[3], 16), int(f[4], 16), f[5:]
            out.append((start, start + size, []))
        else:
            start, rest = int(f[2], 16), f[3:]
        rules, name = {}, None
        for tok in rest:
            if tok.endswith(":"):
                name = tok[:-1]
                rules[name] = []
            else:
                rules[name].append(tok)
        out[-1][2].append((start, {k: " ".join(v) for k, v in rules.items()}))
    return out


def rules_at(cfi, addr):
    for start, end, rows in cfi:
        if start <= addr < end:
            cur = {}
            for a, r in rows:
                if a > addr:
                    break
                cur.update(r)
            return {k: v for k, v in cur.items() if k != v}
    return None


def frames(path):
    out, cur, on = [], None, False
    for line in records(path):
        if re.match(r"^Thread 0\b", line):
            on = True
            continue
        if on and not line.strip():
            break
        if not on:
            continue
        m = re.match(r"^\s*(\d+)\s+(.*?)(\s+\[.*)?$", line)
        if m:
            cur = {"where": m.group(2), "trust": ""}
            out.append(cur)
        m = re.match(r"^\s*Found by: (.*)$", line)
        if m and cur is not None:
            cur["trust"] = m.group(1)
    return out


def main():
    a = sys.argv[1:]
    if a[:1] == ["id"] and len(a) == 2:
        print(module_id(a[1]))
        return 0
    if a[:1] == ["syms"] and len(a) == 4:
        base = int(a[3], 16)
        want = {}
        for line in records(a[2]):
            f = line.split()
            if len(f) >= 8 and f[0].endswith(":") and f[3] in ("FUNC", "NOTYPE") and f[6] != "UND":
                if f[3] == "NOTYPE" and f[4] == "LOCAL":
                    continue
                want.setdefault(int(f[1], 16) - base, set()).add(f[7].split("@")[0])
        bad, seen, n = [], set(), 0
        for line in records(a[1]):
            f = line.split()
            if f[:1] not in (["PUBLIC"], ["FUNC"]):
                continue
            if f[1] == "m":
                f = f[:1] + f[2:]
            addr = int(f[1], 16)
            name = f[3] if f[0] == "PUBLIC" else f[4]
            n += 1
            if f[0] == "FUNC" and name == "fde@0x%x" % (addr + base):
                continue
            if name not in want.get(addr, ()):
                bad.append("%s at %x: readelf has %s there" % (name, addr, sorted(want.get(addr, ()))))
            if f[0] == "PUBLIC":
                seen.add(addr)
        for addr in sorted(set(want) - seen):
            bad.append("no PUBLIC for %s at %x" % (sorted(want[addr]), addr))
        for b in bad:
            print(b)
        print("%d PUBLIC/FUNC records, %d symbol addresses, %d problems" % (n, len(want), len(bad)))
        return 1 if bad or not n else 0
    if a[:1] == ["cover"] and len(a) == 4:
        cfi = stack_cfi(a[1])
        load = int(a[3], 16)
        with open(a[2]) as f:
            rows = json.load(f)
        bad = []
        for start, end, rr in cfi:
            if ".cfa" not in rr[0][1] or ".ra" not in rr[0][1]:
                bad.append("INIT %x lacks .cfa or .ra" % start)
        for r in rows:
            lo, hi = int(r["start"], 16) - load, int(r["end"], 16) - load
            if not any(s <= lo and hi <= e for s, e, _ in cfi):
                bad.append("row %x-%x is in no STACK CFI INIT range" % (lo, hi))
        for b in bad:
            print(b)
        print("%d rows, %d INIT records, %d problems" % (len(rows), len(cfi), len(bad)))
        return 1 if bad or not rows else 0
    if a[:1] == ["cfi-same"] and len(a) == 3:
        ours, ref = stack_cfi(a[1]), stack_cfi(a[2])
        bad, n = [], 0
        for start, end, _ in ref:
            for addr in range(start, end):
                n += 1
                mine, theirs = rules_at(ours, addr), rules_at(ref, addr)
                if mine != theirs:
                    bad.append("at %x: %s, dump_syms %s" % (addr, mine, theirs))
        for b in bad[:10]:
            print(b)
        print("%d addresses compared, %d differ" % (n, len(bad)))
        return 1 if bad or not n else 0
    if a[:1] == ["lines"] and len(a) == 4:
        def func(path):
            files, fn, lines = {}, None, {}
            for line in records(path):
                f = line.split(" ", 4)
                if f[0] == "FILE":
                    files[f[1]] = " ".join(f[2:])
                elif f[0] == "FUNC":
                    g = line.split()
                    if g[1] == "m":
                        g.pop(1)
                    fn = (int(g[1], 16), int(g[2], 16)) if g[4] == a[3] else None
                elif fn and re.match(r"^[0-9a-f]+ [0-9a-f]+ \d+ \d+$", line):
                    s, z, ln, fi = line.split()
                    for x in range(int(s, 16), int(s, 16) + int(z, 16)):
                        lines[x] = (files[fi], int(ln))
                elif f[0] in ("PUBLIC", "STACK"):
                    fn = None
                if fn:
                    found[path] = fn
            return lines
        found = {}
        mine, theirs = func(a[1]), func(a[2])
        bad = []
        if found.get(a[1]) != found.get(a[2]) or a[2] not in found:
            bad.append("FUNC %s: %s, dump_syms %s" % (a[3], found.get(a[1]), found.get(a[2])))
        for x in sorted(theirs):
            if mine.get(x) != theirs[x]:
                bad.append("at %x: %s, dump_syms %s" % (x, mine.get(x), theirs[x]))
        for b in bad[:10]:
            print(b)
        print("FUNC %s %s: %d addresses with lines, %d differ" % (a[3], found.get(a[2]), len(theirs), len(bad)))
        return 1 if bad or not theirs else 0
    if a[:1] in (["walk"], ["nowalk"]) and len(a) == 5:
        lo, hi, exe = int(a[2], 16), int(a[3], 16), a[4]
        fr = frames(a[1])
        text = " | ".join("%s (%s)" % (f["where"], f["trust"]) for f in fr[:6])
        ok = bool(fr) and fr[0]["where"].startswith("linux-gate.so")
        main_at = None
        for i, f in enumerate(fr[1:], 1):
            if f["trust"] != "call frame info":
                ok = False
                break
            if not f["where"].startswith("linux-gate.so"):
                w = f["where"]
                m = re.match(r"^%s \+ 0x([0-9a-f]+)$" % re.escape(exe), w)
                ok = ok and (w == exe + "!main" or w.startswith(exe + "!main ") or
                             bool(m and lo <= int(m.group(1), 16) < hi))
                main_at = i
                break
        ok = ok and main_at is not None
        print(text)
        return 0 if ok == (a[0] == "walk") else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
