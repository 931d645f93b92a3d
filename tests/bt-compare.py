#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Compares backtraces of the same process or core from several tools.

  bt-compare.py check OURS.json [--eu-stack F] [--gdb F] [--frames F] [--regs F]
                [--main] [--vdso-top N]
      OURS.json is `vdsoscope backtrace --json`.  Against eu-stack's output:
      the same threads with the same frame addresses, vDSO and program
      function names agreeing.  Against gdb's `thread apply all bt`: gdb's
      frames are a prefix of ours (gdb stops at main), addresses and names
      agreeing.  --frames: output of an example program ("TID n:" and
      "#k 0xADDR ..."), same addresses.  --regs: "TID IP SP" lines from
      ptrace; frame 0 must be at IP.  --main: a thread reaches main.
      --vdso-top N: every thread's frame 0 is in the vDSO and at least N
      distinct vDSO functions are seen.  --eu-prefix F: like --eu-stack,
      but ours may stop early: a non-empty prefix of eu-stack's frames.
      --build-ids: every frame of a file carries the file's build-id,
      as readelf -n reads it.  --eu-least F: eu-stack's frames are a prefix of ours (where it
      stops early).  --all-names: names agree for every frame both name,
      not only the vDSO's and the test program's.
  bt-compare.py differs A B
      A and B ("TID n:" / "#k 0xADDR" listings) differ for some thread:
      exit 0 when they do, 1 when they are the same.
"""
import json
import re
import sys

PROGRAM = re.compile(r"vdso-target(32)?$")


def base(name):
    return name.split("@")[0] if name else name


def parse_frames(path):
    """eu-stack and the example programs: TID n: / #k 0xADDR [NAME...]"""
    threads, cur = {}, None
    for line in open(path, errors="replace"):
        m = re.match(r"TID (\d+):", line)
        if m:
            cur = threads.setdefault(int(m.group(1)), [])
            continue
        m = re.match(r"#(\d+)\s+(0x[0-9a-f]+)\s*(\S*)", line)
        if m and cur is not None:
            name = m.group(3).split("+")[0] if m.group(3) else None
            cur.append((int(m.group(2), 16), None if name in (None, "", "??") else name))
    return threads


def parse_gdb(path):
    threads, cur = {}, None
    for line in open(path, errors="replace"):
        m = re.match(r"Thread \d+ .*LWP (\d+)", line)
        if m:
            cur = threads.setdefault(int(m.group(1)), [])
            continue
        if cur is None:
            continue
        # gdb shows a signal frame without an address or name
        if re.match(r"#\d+\s+<signal handler called>", line):
            cur.append((None, None))
            continue
        m = re.match(r"#(\d+)\s+(?:(0x[0-9a-f]+) in )?(\S+) \(", line)
        if m:
            cur.append((int(m.group(2), 16) if m.group(2) else None,
                        None if m.group(3) == "??" else m.group(3)))
    return threads


def names_of(fr):
    n = {base(fr["function"])} if fr["function"] else set()
    n.update(base(a) for a in fr.get("aliases", []))
    return n


ALL_NAMES = False


def named(fr):
    return (ALL_NAMES and fr["function"]) or fr["vdso"] or PROGRAM.search(fr["module"] or "")


def cmp_list(what, tid, ours, theirs, prefix, errors):
    if not prefix and len(ours) != len(theirs):
        errors.append(f"{what}: thread {tid}: {len(theirs)} frames, ours {len(ours)}")
    if prefix and len(theirs) > len(ours):
        errors.append(f"{what}: thread {tid}: {len(theirs)} frames, ours only {len(ours)}")
    for k, (addr, name) in enumerate(theirs[:len(ours)]):
        fr = ours[k]
        a = int(fr["address"], 16)
        if addr is not None and addr != a:
            errors.append(f"{what}: thread {tid} #{k}: 0x{addr:x}, ours 0x{a:x}")
        if name and named(fr) and base(name) not in names_of(fr):
            errors.append(f"{what}: thread {tid} #{k}: {name}, ours {sorted(names_of(fr))}")


def check(argv):
    ours = json.load(open(argv[0]))
    threads = {t["tid"]: t["frames"] for t in ours["threads"]}
    errors = []
    i = 1
    opts = {}
    while i < len(argv):
        if argv[i] in ("--main", "--all-names", "--build-ids"):
            opts[argv[i]] = True
            i += 1
        else:
            opts[argv[i]] = argv[i + 1]
            i += 2
    global ALL_NAMES
    ALL_NAMES = "--all-names" in opts
    for key, parser, prefix in (("--eu-stack", parse_frames, False), ("--gdb", parse_gdb, True),
                                ("--frames", parse_frames, False),
                                ("--eu-prefix", parse_frames, None),
                                ("--eu-least", parse_frames, "least")):
        if key not in opts:
            continue
        theirs = parser(opts[key])
        if not theirs:
            errors.append(f"{key}: no threads in {opts[key]}")
        if set(theirs) != set(threads):
            errors.append(f"{key}: threads {sorted(theirs)}, ours {sorted(threads)}")
        for tid in sorted(set(theirs) & set(threads)):
            if prefix is None:
                # ours stops where it must: never past theirs, never empty
                if not threads[tid]:
                    errors.append(f"{key}: thread {tid}: no frame")
                if len(threads[tid]) > len(theirs[tid]):
                    errors.append(f"{key}: thread {tid}: {len(threads[tid])} frames, more "
                                  f"than their {len(theirs[tid])}")
                cmp_list(key[2:], tid, threads[tid], theirs[tid][:len(threads[tid])], False,
                         errors)
                continue
            if prefix == "least":
                cmp_list(key[2:], tid, threads[tid], theirs[tid], True, errors)
                continue
            if len(theirs[tid]) < 2:
                errors.append(f"{key}: thread {tid}: only {len(theirs[tid])} frames")
            cmp_list(key[2:], tid, threads[tid], theirs[tid], prefix, errors)
    if "--regs" in opts:
        for line in open(opts["--regs"]):
            tid, ip, sp = line.split()
            fr = threads.get(int(tid))
            if not fr or int(fr[0]["address"], 16) != int(ip, 16):
                errors.append(f"ptrace: thread {tid} is at {ip}, ours "
                              f"{fr[0]['address'] if fr else 'nothing'}")
    if "--main" in opts and not any(
            any(f["function"] == "main" for f in fr) for fr in threads.values()):
        errors.append("no thread reaches main")
    if "--vdso-top" in opts:
        funcs = set()
        for tid, fr in threads.items():
            if not fr or not fr[0]["vdso"]:
                errors.append(f"thread {tid}: frame 0 is not in the vDSO")
            else:
                funcs.add(fr[0]["function"])
        if len(funcs) < int(opts["--vdso-top"]):
            errors.append(f"only {len(funcs)} vDSO functions: {sorted(funcs)}")
    if "--build-ids" in opts:
        import subprocess
        ids = {}
        for fr in (f for t in threads.values() for f in t):
            mod = fr["module"] or ""
            if fr["vdso"] or not mod.startswith("/"):
                continue
            if mod not in ids:
                out = subprocess.run(["readelf", "-nW", mod], capture_output=True,
                                     text=True).stdout
                m = re.search(r"Build ID: ([0-9a-f]+)", out)
                ids[mod] = m.group(1) if m else ""
            if fr["build_id"] != ids[mod]:
                errors.append(f"{fr['address']} in {mod}: build-id '{fr['build_id']}', "
                              f"readelf '{ids[mod]}'")
    nframes = sum(len(f) for f in threads.values())
    for e in errors:
        print(e)
    print(f"{len(threads)} threads, {nframes} frames, engine {ours['engine']}: "
          f"{'agree' if not errors else f'{len(errors)} differences'}")
    return 1 if errors else 0


def differs(a, b):
    ta, tb = parse_frames(a), parse_frames(b)
    diff = [t for t in sorted(set(ta) | set(tb))
            if [x[0] for x in ta.get(t, [])] != [x[0] for x in tb.get(t, [])]]
    for t in diff:
        print(f"thread {t}: {[hex(x[0]) for x in ta.get(t, [])]} vs "
              f"{[hex(x[0]) for x in tb.get(t, [])]}")
    print(f"{len(diff)} of {len(set(ta) | set(tb))} threads differ")
    return 0 if diff else 1


def main(argv):
    if len(argv) >= 3 and argv[1] == "check":
        return check(argv[2:])
    if len(argv) == 4 and argv[1] == "differs":
        return differs(argv[2], argv[3])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
