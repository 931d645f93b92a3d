# SPDX-License-Identifier: LGPL-2.1-or-later
"""Checks for tests/run-pprof.sh: what `go tool pprof` reads in a --pprof
file against the folded output of the same samples, readelf, the JIT's perf
map, c++filt and the kernel's own CPU accounting.

  traces FOLDED TRACES      pprof -traces (-sample_index=samples) has the
                            folded stacks with the same counts
  vdso RAW BUILDID DYNSYMS SONAME
                            pprof -raw: the [vdso] mapping has readelf's
                            build-id; every location in it is named with
                            the function readelf --dyn-syms says holds its
                            address, or [SONAME] where none does
  jit RAW MAPFILE MIN       every location in [anonymous] memory is named as
                            the perf map's last entry holding its address
                            (at least MIN of them named), else [anonymous]
  demangle RAW DEMANGLED    folded stacks of the same record without and with
                            demangling: the mangled names through c++filt
                            give the demangled stacks
  sysnames RAW MIN          every function whose pprof system name differs
                            from its name has the mangled name as system
                            name, which c++filt turns into the name (MIN such)
  kernel ERR RUSAGE MIN     the summary's kernel share against the
                            workload's getrusage(), within 3 points; MIN: the
                            share getrusage must show (the test can fail)
"""
import re
import subprocess
import sys


def folded(path):
    out = {}
    for line in open(path):
        line = line.rstrip("\n")
        if not line:
            continue
        key, _, n = line.rpartition(" ")
        out[key] = out.get(key, 0) + int(n)
    return out


def traces(path):
    """pprof -traces: {root-first key: count}."""
    out, cur, count = {}, None, 0

    def flush():
        if cur:
            key = ";".join(reversed(cur)) or "[no frames]"
            out[key] = out.get(key, 0) + count

    for line in open(path):
        line = line.rstrip("\n")
        if line.startswith("-----------+"):
            flush()
            cur, count = [], 0
            continue
        if cur is None or not line.strip():
            continue
        m = re.match(r"^\s*(\d+)\s{3}(.*)$", line)
        if m and not cur:
            count = int(m.group(1))
            name = m.group(2)
        else:
            name = line.strip()
        if name.endswith(" (inline)"):
            name = name[: -len(" (inline)")]
        cur.append(name.replace(" ", "_"))
    flush()
    return out


def raw(path):
    """pprof -raw: locations {id: (addr, mapping, [names innermost first])}
    and mappings {id: (file, build-id)}."""
    locs, maps, sec, last = {}, {}, None, None
    starts = raw.starts = {}
    for line in open(path):
        line = line.rstrip("\n")
        if line in ("Locations", "Mappings", "Samples:") or line.startswith("PeriodType"):
            sec = line
            continue
        if sec == "Locations":
            m = re.match(r"^\s+(\d+): 0x([0-9a-f]+) M=(\d+) (.*) \S*:\d+ s=\d+(?:\(.*\))?$", line)
            if m:
                last = int(m.group(1))
                locs[last] = (int(m.group(2), 16), int(m.group(3)), [m.group(4)])
                continue
            m = re.match(r"^\s+(.*) \S*:\d+ s=\d+(?:\(.*\))?$", line)
            if m and last is not None:
                locs[last][2].append(m.group(1))
        elif sec == "Mappings":
            m = re.match(r"^(\d+): 0x([0-9a-f]+)/0x[0-9a-f]+/0x[0-9a-f]+ (\S+) ?([0-9a-f]*)", line)
            if m:
                maps[int(m.group(1))] = (m.group(3), m.group(4))
                starts[int(m.group(1))] = int(m.group(2), 16)
    return locs, maps


def cmd_traces(a):
    want, got = folded(a[0]), traces(a[1])
    bad = [k for k in set(want) | set(got) if want.get(k) != got.get(k)]
    for k in sorted(bad)[:10]:
        print(f"  folded {want.get(k)} pprof {got.get(k)}: {k}")
    if bad or not want:
        print(f"{len(bad)} of {len(want)} stacks differ")
        return 1
    print(f"{len(want)} stacks, {sum(want.values())} samples: the same in pprof -traces")
    return 0


def cmd_vdso(a):
    locs, maps = raw(a[0])
    want_id = a[1]
    syms = []
    for line in open(a[2]):
        f = line.split()
        if len(f) >= 8 and f[3] == "FUNC":
            syms.append((int(f[1], 16), int(f[2], 0), f[7].split("@")[0]))
    unnamed = f"[{a[3]}]"
    vdso = [i for i, (f, _) in maps.items() if f == "[vdso]"]
    if len(vdso) != 1:
        print(f"mappings named [vdso]: {len(vdso)} of {maps}")
        return 1
    if maps[vdso[0]][1] != want_id:
        print(f"[vdso] build-id {maps[vdso[0]][1]!r}, readelf {want_id}")
        return 1
    names, bad = set(), 0
    for addr, mid, ns in locs.values():
        if mid != vdso[0]:
            continue
        off = addr - raw.starts[mid]
        for n in ns:
            names.add(n)
            fde = re.match(r"^fde@0x([0-9a-f]+)$", n)
            # at the address (the leaf), or before it (a return address)
            ok = False
            for at in (off, off - 1):
                hold = {n2 for v, size, n2 in syms if v <= at < v + size}
                ok = ok or n in hold or bool(not hold and (n == unnamed or
                                                  (fde and int(fde.group(1), 16) <= at)))
            if not ok:
                print(f"  +0x{off:x}: {n!r}; readelf's functions there: "
                      f"{sorted({n2 for v, size, n2 in syms if v <= off < v + size})}")
                bad += 1
    if bad or not names:
        print(f"{bad} unnamed or unknown vDSO locations; names {sorted(names)}")
        return 1
    print(f"[vdso] build-id {want_id}; its locations named {sorted(names)}")
    return 0


def cmd_jit(a):
    locs, maps = raw(a[0])
    entries = []
    for i, line in enumerate(open(a[1])):
        m = re.match(r"^([0-9a-fA-F]+) ([0-9a-fA-F]+) (.*)$", line.rstrip("\n"))
        if m:
            entries.append((int(m.group(1), 16), int(m.group(2), 16), i, m.group(3)))
    anon = [i for i, (f, _) in maps.items() if f == "[anonymous]"]
    named = bad = 0
    for addr, mid, ns in locs.values():
        if mid not in anon:
            continue
        hold = [e for e in entries if e[0] <= addr < e[0] + e[1]]
        want = max(hold, key=lambda e: e[2])[3] if hold else "[anonymous]"
        if ns != [want]:
            print(f"  0x{addr:x}: {ns}, the perf map: {want!r}")
            bad += 1
        elif hold:
            named += 1
    if bad or named < int(a[2]):
        print(f"{bad} JIT locations misnamed, {named} named from the map")
        return 1
    print(f"{named} JIT locations named as the perf map's entries that hold them")
    return 0


def cmd_demangle(a):
    raw_st, dem = folded(a[0]), folded(a[1])
    names = sorted({n for k in raw_st for n in k.split(";")})
    mangled = [n for n in names if n.startswith("_Z")]
    if len(mangled) < 3:
        print(f"--no-demangle shows {len(mangled)} mangled names: {names}")
        return 1
    out = subprocess.run(["c++filt"], input="\n".join(names) + "\n", capture_output=True,
                         text=True, check=True).stdout.split("\n")
    filt = {n: out[i].replace(" ", "_") for i, n in enumerate(names)}
    want = {}
    for k, c in raw_st.items():
        k2 = ";".join(filt[n] for n in k.split(";"))
        want[k2] = want.get(k2, 0) + c
    bad = [k for k in set(want) | set(dem) if want.get(k) != dem.get(k)]
    for k in sorted(bad)[:10]:
        print(f"  c++filt {want.get(k)} ours {dem.get(k)}: {k}")
    if bad:
        return 1
    print(f"{len(mangled)} mangled names, as c++filt demangles them, e.g. "
          f"{filt[mangled[0]]}")
    return 0


def cmd_sysnames(a):
    pairs = set()
    for line in open(a[0]):
        m = re.match(r"^\s+(?:\d+: 0x[0-9a-f]+ M=\d+ )?(.*) \S*:\d+ s=\d+\((.*)\)$", line.rstrip("\n"))
        if m:
            pairs.add((m.group(1), m.group(2)))
    pairs = sorted(pairs)
    out = subprocess.run(["c++filt"], input="".join(p[1] + "\n" for p in pairs),
                         capture_output=True, text=True, check=True).stdout.split("\n")
    bad = [(n, sysn, out[i]) for i, (n, sysn) in enumerate(pairs) if out[i] != n]
    for b in bad:
        print(f"  {b[0]!r}: system name {b[1]!r}, c++filt {b[2]!r}")
    if bad or len(pairs) < int(a[1]):
        print(f"{len(bad)} wrong of {len(pairs)} functions with a system name")
        return 1
    print(f"{len(pairs)} functions: the system name is the mangled name, c++filt gives the name")
    return 0


def cmd_kernel(a):
    err = open(a[0]).read()
    m = re.search(r"kernel time: ([\d.]+) s of ([\d.]+) s CPU time", err)
    r = re.search(r"rusage ([\d.]+) ([\d.]+)", open(a[1]).read())
    if not m or not r:
        print("no kernel time line or no rusage line")
        print(err)
        return 1
    ours = 100 * float(m.group(1)) / float(m.group(2))
    u, s = float(r.group(1)), float(r.group(2))
    truth = 100 * s / (u + s)
    print(f"kernel share {ours:.1f}% (ours), {truth:.1f}% (getrusage: user {u} s, sys {s} s)")
    if truth < float(a[2]):
        print(f"the workload spent less than {a[2]}% in the kernel: nothing to compare")
        return 1
    return 0 if abs(ours - truth) <= 3 else 1


if __name__ == "__main__":
    cmds = {"traces": cmd_traces, "vdso": cmd_vdso, "jit": cmd_jit,
            "demangle": cmd_demangle, "kernel": cmd_kernel,
            "sysnames": cmd_sysnames}
    sys.exit(cmds[sys.argv[1]](sys.argv[2:]))
