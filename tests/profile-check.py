#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Checks `vdsoscope profile --json` output against known truth.

  profile-check.py chains OURS.json MIN [MODULE]
      Of the samples whose innermost frame is in the vDSO (of soname MODULE
      when given; at least MIN of them), >= 95 % must unwind through the vDSO into one of the workload's
      known chains (inner, outer, profile_workload, main; inner2, middle2,
      outer2, profile_workload, main; inner3, middle3 inlined into outer3,
      outer3, profile_workload, main) and on to the root (_start first).
  profile-check.py gdb OURS.json GDB.txt
      GDB.txt is gdb's `bt` stopped in the vDSO function under one chain.
      The most frequent of our vDSO stacks under the same innermost caller
      must name the same functions from the vDSO frame down to main.
  profile-check.py perf-script OURS.jsonl PERF.txt MIN
      OURS.jsonl is `vdsoscope profile --perf-data F --per-sample --json`,
      PERF.txt `perf script --ns -F pid,tid,time,ip,sym,dso -i F`.  Of perf's
      samples whose callchain reaches main (at least MIN of them; kernel
      frames left out), >= 95 %
      must have our frames name the same functions from the sample's
      function to main (vDSO names without __vdso_).
  profile-check.py same A.json B.json
      The same stacks with the same counts.
  profile-check.py through OURS.json MODULE MIN
      Of the samples whose innermost frame is in the vDSO (at least MIN of
      them), >= 90 % must unwind through the vDSO into a named function of
      MODULE.
"""
import json
import re
import sys

CHAINS = [["inner", "outer", "profile_workload", "main"],
          ["inner2", "middle2", "outer2", "profile_workload", "main"],
          ["inner3", "middle3", "outer3", "profile_workload", "main"]]
INLINED_IN_CHAINS = {"middle3"}


def load(path):
    return json.load(open(path))


def vdso_name(n):
    return re.sub(r"^__vdso_", "", n or "")


def split(stack):
    """innermost-first frames: (vdso frames, the rest)"""
    fr = list(reversed(stack["frames"]))
    k = 0
    while k < len(fr) and fr[k]["vdso"]:
        k += 1
    return fr[:k], fr[k:]


def chains(path, minimum, module=None):
    doc = load(path)
    total = good = 0
    bad = {}
    for st in doc["stacks"]:
        vd, rest = split(st)
        if not vd or (module is not None and vd[0]["module"] != module):
            continue
        total += st["count"]
        names = [f["function"] for f in rest]
        chain = next((c for c in CHAINS if names[:len(c)] == c), None)
        # in the chain, exactly the inlined functions are flagged inlined
        ok = (chain is not None and rest[-1]["function"] == "_start" and
              all(bool(f.get("inlined")) == (f["function"] in INLINED_IN_CHAINS)
                  for f in rest[:len(chain)]))
        if ok:
            good += st["count"]
        else:
            key = ";".join(str(f["function"]) for f in reversed(st["frames"]))
            bad[key] = bad.get(key, 0) + st["count"]
    share = 100.0 * good / total if total else 0.0
    print(f"{good} of {total} vDSO samples{' in ' + module if module else ''} unwound through the vDSO into a known chain "
          f"and to _start ({share:.1f}%)")
    for k, v in sorted(bad.items(), key=lambda kv: -kv[1])[:5]:
        print(f"  not: {k} ({v})")
    return 0 if total >= minimum and share >= 95.0 else 1


def gdb(path, gdb_path):
    names = []
    for line in open(gdb_path, errors="replace"):
        m = re.match(r"#(\d+)\s+(?:0x[0-9a-f]+ in )?(\S+) \(", line)
        if m:
            names.append(m.group(2))
    if len(names) < 3 or "main" not in names:
        print(f"gdb gave no usable backtrace: {names}")
        return 1
    names = names[:names.index("main") + 1]
    best = None
    for st in load(path)["stacks"]:
        vd, rest = split(st)
        if not vd or not rest or rest[0]["function"] != names[1]:
            continue
        if best is None or st["count"] > best["count"]:
            best = st
    if best is None:
        print(f"no vDSO stack under {names[1]}")
        return 1
    vd, rest = split(best)
    ours = [vdso_name(vd[-1]["function"])] + [f["function"] for f in rest]
    ours = ours[:len(names)]
    theirs = [vdso_name(names[0])] + names[1:]
    print(f"gdb: {' <- '.join(theirs)}")
    print(f"ours ({best['count']} samples): {' <- '.join(map(str, ours))}")
    return 0 if ours == theirs else 1


def through(path, module, minimum):
    total = good = 0
    for st in load(path)["stacks"]:
        vd, rest = split(st)
        if not vd:
            continue
        total += st["count"]
        if rest and rest[0]["module"] == module and rest[0]["function"]:
            good += st["count"]
    share = 100.0 * good / total if total else 0.0
    print(f"{good} of {total} vDSO samples unwound through the vDSO into {module} ({share:.1f}%)")
    return 0 if total >= minimum and share >= 90.0 else 1


def perf_script(ours_path, perf_path, minimum):
    ours = {}
    for line in open(ours_path):
        s = json.loads(line)
        ours[(s["tid"], s["time"])] = [vdso_name(f["function"]) if f["vdso"] else f["function"]
                                       for f in reversed(s["frames"])]
    theirs = {}
    key = None
    for line in open(perf_path, errors="replace"):
        m = re.match(r"\s*(\d+)/(\d+)\s+(\d+)\.(\d{9}):", line)
        if m:
            key = (int(m.group(2)), int(m.group(3)) * 1000000000 + int(m.group(4)))
            theirs[key] = []
            continue
        m = re.match(r"\s+[0-9a-f]+ (\S+).*\((.*)\)$", line.rstrip())
        if m and key is not None and not m.group(2).startswith("[kernel"):
            theirs[key].append(vdso_name(m.group(1)))
    total = good = 0
    bad = {}
    for k, names in theirs.items():
        if "main" not in names:
            continue
        names = names[:names.index("main") + 1]
        total += 1
        mine = ours.get(k)
        mine = mine[:mine.index("main") + 1] if mine and "main" in mine else mine
        if mine == names:
            good += 1
        else:
            d = f"perf {';'.join(names)} / ours {';'.join(map(str, mine or ['(no sample)']))}"
            bad[d] = bad.get(d, 0) + 1
    share = 100.0 * good / total if total else 0.0
    print(f"{good} of {total} samples where perf's callchain reaches main: the same frames "
          f"to main ({share:.1f}%; {len(theirs)} samples in perf script, {len(ours)} ours)")
    for k, v in sorted(bad.items(), key=lambda kv: -kv[1])[:5]:
        print(f"  {k} ({v})")
    return 0 if total >= minimum and share >= 95.0 else 1


def same(a, b, vdso_only=False):
    def keep(s):
        return not vdso_only or split(s)[0]
    sa = sorted((";".join(str(f["function"]) for f in s["frames"]), s["count"])
                for s in load(a)["stacks"] if keep(s))
    sb = sorted((";".join(str(f["function"]) for f in s["frames"]), s["count"])
                for s in load(b)["stacks"] if keep(s))
    n = sum(c for _, c in sa)
    if sa == sb:
        print(f"{len(sa)} stacks, {n} samples, the same")
        return 0
    print(f"differ: {len(sa)} vs {len(sb)} stacks")
    for x in sorted(set(sa) ^ set(sb))[:10]:
        print(f"  {x}")
    return 1


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "chains" and len(sys.argv) in (4, 5):
        sys.exit(chains(sys.argv[2], int(sys.argv[3]), *sys.argv[4:]))
    if cmd == "gdb" and len(sys.argv) == 4:
        sys.exit(gdb(sys.argv[2], sys.argv[3]))
    if cmd == "through" and len(sys.argv) == 5:
        sys.exit(through(sys.argv[2], sys.argv[3], int(sys.argv[4])))
    if cmd == "perf-script" and len(sys.argv) == 5:
        sys.exit(perf_script(sys.argv[2], sys.argv[3], int(sys.argv[4])))
    if cmd == "same" and len(sys.argv) == 4:
        sys.exit(same(sys.argv[2], sys.argv[3]))
    if cmd == "same-vdso" and len(sys.argv) == 4:
        sys.exit(same(sys.argv[2], sys.argv[3], vdso_only=True))
    print(__doc__, file=sys.stderr)
    sys.exit(2)
