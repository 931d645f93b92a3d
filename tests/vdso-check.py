#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Compares vdsoscope's JSON output with readelf's view of the same image.

  vdso-check.py symbols IMAGE SYMBOLS.json BIAS
  vdso-check.py cfi IMAGE CFI.json BIAS
  vdso-check.py locals IMAGE VDSOSCOPE   every .symtab function, one byte in:
                                name as readelf and file:line as eu-addr2line
  vdso-check.py mem PID OUT     write the [vdso] mapping of PID, read from
                                /proc/PID/mem, to OUT
  vdso-check.py strip-shdrs IN OUT        drop the section headers
  vdso-check.py garble-shdrs IN OUT       point section headers at nonsense
  vdso-check.py drop-vdso-load CORE OUT   turn the core's vDSO PT_LOAD into PT_NULL
  vdso-check.py cut-in-vdso CORE OUT      the core's vDSO segment moved to end 100 bytes in
  vdso-check.py frames-same IMAGE OTHER   every address IMAGE's FDEs cover has the
                                same rules in OTHER's CFI (.eh_frame or .debug_frame,
                                readelf frames-interp), and OTHER's DWARF expressions
                                are IMAGE's (readelf --debug-dump=frames)

BIAS is added to readelf's link-time addresses (the load address when the
JSON came from a live image).  Exit status 0 when all agrees; otherwise the
differences are printed and the status is 1.
"""
import json
import re
import struct
import subprocess
import sys

sys.path.insert(0, __import__("os").path.dirname(__file__))
from readelf_frames import parse_frames  # noqa: E402


def readelf(*args):
    return subprocess.run(["readelf", "-W", *args], check=True, capture_output=True,
                          text=True).stdout


def text_range(image):
    for line in readelf("-S", image).splitlines():
        m = re.match(r"\s*\[\s*\d+\]\s+\.text\s+\S+\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)", line)
        if m:
            lo = int(m.group(1), 16)
            return lo, lo + int(m.group(2), 16)
    return None


def is_arm(image):
    """32-bit ARM, whose Thumb functions have odd symbol values."""
    return re.search(r"Machine:\s+ARM$", readelf("-h", image), re.M) is not None


def check_symbols(image, js, bias):
    thumb = is_arm(image)
    want = set()
    sizes = {}
    for line in readelf("--dyn-syms", image).splitlines():
        m = re.match(r"\s*\d+:\s+([0-9a-f]+)\s+(\d+)\s+(\w+)\s+(\w+)\s+\w+\s+(\S+)\s+(\S+)", line)
        if not m:
            continue
        value, size, typ, bind, ndx, name = m.groups()
        if ndx in ("UND", "ABS") or typ not in ("FUNC", "NOTYPE", "IFUNC"):
            continue
        ver = ""
        if "@" in name:
            name, ver = re.split(r"@@?", name, maxsplit=1)
        addr = (int(value, 16) & ~1 if thumb else int(value, 16)) + bias
        want.add((name, ver, addr, typ, bind))
        sizes[addr] = max(sizes.get(addr, 0), int(size))
    got = set()
    bad = 0
    for f in json.load(open(js)):
        start = int(f["start"], 16)
        end = int(f["end"], 16)
        if f["from_cfi"]:
            continue
        for n in f["names"]:
            if n["bind"] == "LOCAL":
                continue
            got.add((n["name"], n["version"], start, n["type"], n["bind"]))
        if sizes.get(start) and end - start != sizes[start]:
            print(f"size of {f['name']}: vdsoscope {end - start}, readelf {sizes[start]}")
            bad += 1
    for x in sorted(want - got):
        print("readelf only:", x)
    for x in sorted(got - want):
        print("vdsoscope only:", x)
    if not want:
        print("readelf listed no code symbols")
        return 1
    print(f"symbols: {len(want)} from readelf, {len(got)} from vdsoscope")
    return 1 if (want != got or bad) else 0


def rule_text(kind, r, ip_name):
    if kind == "offset":
        return "c%+d" % r["offset"]
    if kind == "val_offset":
        return "v%+d" % r["offset"]
    if kind == "expression":
        return "exp"
    if kind == "val_expression":
        return "vexp"
    if kind == "same_value":
        return "s"
    if kind == "undefined":
        return "u"
    if kind == "register":
        return r.get("reg_name", "r%d" % r["reg"])
    return "?" + kind


def check_cfi(image, js, bias):
    fdes = parse_frames(image)
    rows = json.load(open(js))
    # readelf calls the return address column "ra"
    text = json.dumps(rows)
    ip_name = ("rip" if '"rip"' in text else "eip" if '"eip"' in text else
               "x30" if '"x30"' in text else "r14")
    by_addr = {}
    our_fdes = {}
    synthesized = [r for r in rows if r.get("synthesized")]
    rows = [r for r in rows if not r.get("synthesized")]
    for r in synthesized:
        lo, hi = int(r["start"], 16) - bias, int(r["end"], 16) - bias
        for lo2, (end2, _) in fdes.items():
            if lo < end2 and lo2 < hi:
                print(f"row from instructions 0x{lo:x}-0x{hi:x} overlaps the FDE at 0x{lo2:x}")
                return 1
    for r in rows:
        lo, hi = int(r["start"], 16) - bias, int(r["end"], 16) - bias
        f = int(r["fde"], 16) - bias
        our_fdes[f] = max(our_fdes.get(f, 0), hi)
        for a in range(lo, hi):
            by_addr[a] = r
    bad = 0
    want_fdes = {lo: end for lo, (end, _) in fdes.items() if end > lo}
    if want_fdes != our_fdes:
        print("FDE ranges differ:\n readelf  ", sorted((hex(a), hex(b)) for a, b in want_fdes.items()),
              "\n vdsoscope", sorted((hex(a), hex(b)) for a, b in our_fdes.items()))
        bad += 1
    checked = 0
    for lo, (end, table) in sorted(fdes.items()):
        for i, (loc, cfa, regs) in enumerate(table):
            nxt = table[i + 1][0] if i + 1 < len(table) else end
            for a in range(loc, nxt):
                ours = by_addr.get(a)
                checked += 1
                if ours is None:
                    print(f"0x{a:x}: no row in vdsoscope")
                    bad += 1
                    break
                c = ours["cfa"]
                ocfa = f"{c['reg_name']}{c['offset']:+d}" if c["kind"] == "reg_offset" else "exp"
                if ocfa != cfa:
                    print(f"0x{a:x}: CFA vdsoscope {ocfa}, readelf {cfa}")
                    bad += 1
                    break
                for reg, want in regs.items():
                    name = ip_name if reg == "ra" else reg
                    r = ours["regs"].get(name)
                    got = "u" if r is None else rule_text(r["kind"], r, ip_name)
                    if got != want:
                        print(f"0x{a:x}: {name} vdsoscope {got}, readelf {want}")
                        bad += 1
                        break
                # registers readelf does not list must be silent in ours
                for name in ours["regs"]:
                    key = "ra" if name == ip_name else name
                    if key not in regs:
                        print(f"0x{a:x}: vdsoscope has a rule for {name}, readelf none")
                        bad += 1
                        break
    if not fdes:
        print("readelf listed no FDE")
        return 1
    print(f"cfi: {len(fdes)} FDEs, {checked} addresses compared, {bad} differences")
    return 1 if bad else 0


def expressions(image):
    out = set()
    for line in readelf("--debug-dump=frames", image).splitlines():
        m = re.search(r"(DW_CFA_\w*expression)\W.*", line.strip())
        if m:
            out.add(m.group(0))
    return out


def frames_same(image, other):
    """readelf's rules of IMAGE at every address its FDEs cover against
    OTHER's; a value rule is "v" either way (CFA+N, or its expression)."""
    def at(fdes):
        rules = {}
        for lo, (end, table) in fdes.items():
            for i, (loc, cfa, regs) in enumerate(table):
                nxt = table[i + 1][0] if i + 1 < len(table) else end
                norm = {k: ("v" if v.startswith("v") else v) for k, v in regs.items() if v != "u"}
                for a in range(loc, nxt):
                    rules[a] = (cfa, norm)
        return rules
    want, got = at(parse_frames(image)), at(parse_frames(other))
    bad = 0
    for a in sorted(want):
        if got.get(a) != want[a]:
            if bad < 5:
                print(f"0x{a:x}: {image} {want[a]}, {other} {got.get(a)}")
            bad += 1
    ew, eg = expressions(image), expressions(other)
    for x in sorted(ew ^ eg):
        print(("only in " + image if x in ew else "only in " + other) + ": " + x)
    if not want:
        print(f"readelf found no FDE in {image}")
        return 1
    print(f"frames: {len(want)} addresses compared, {bad} differ; {len(ew)} expressions, "
          f"{len(ew ^ eg)} differ")
    return 1 if bad or ew != eg else 0


def check_locals(image, tool, running=None):
    """Every function of the unstripped IMAGE: our name and file:line at
    its start + 1 are readelf's and eu-addr2line's; with RUNNING, asked of
    the running (stripped) image with IMAGE as its debug file."""
    thumb = is_arm(image)
    names = {}
    for line in readelf("-s", image).splitlines():
        f = line.split()
        # ARM's mapping symbols ($t, $a, $d) name no function
        if len(f) >= 8 and f[0].endswith(":") and f[3] in ("FUNC", "NOTYPE") and f[6] not in ("UND", "ABS") \
           and not f[7].startswith("$"):
            names.setdefault(int(f[1], 16) & ~1 if thumb else int(f[1], 16), set()).add(re.split("@", f[7])[0])
    funcs = set()
    for line in readelf("--syms", image).splitlines():
        f = line.split()
        if len(f) >= 8 and f[3] == "FUNC" and f[6] not in ("UND", "ABS") and int(f[2]) > 0:
            funcs.add(int(f[1], 16))
    # Thumb functions have odd values: their code starts one byte lower
    addrs = sorted({(a & ~1 if thumb else a) + 1 for a in funcs})
    if not addrs:
        print("no functions in", image)
        return 1
    hexes = ["0x%x" % a for a in addrs]
    args = ["--file", image] if running is None else ["--file", running, "--debug-file", image]
    ours = subprocess.run([tool, "symbolize", *args, *hexes], capture_output=True,
                          text=True).stdout.splitlines()
    lines = subprocess.run(["eu-addr2line", "-e", image, *hexes], check=True, capture_output=True,
                           text=True).stdout.splitlines()
    bad = 0
    for a, o, want in zip(addrs, ours, lines):
        f = o.split()
        fn = re.sub(r"(@[^+]*)?\+0x1$", "", f[1])
        want = re.sub(r":\d+$", "", want) if re.search(r":\d+:\d+$", want) else want
        got = f[2] if len(f) > 2 else "??:0"
        if fn not in names.get(a - 1, ()) or got != want:
            print(f"0x{a:x}: vdsoscope {f[1:]}; readelf {sorted(names.get(a - 1, ()))}, eu-addr2line {want}")
            bad += 1
    print(f"locals: {len(addrs)} functions, {bad} differences")
    return 1 if bad or len(ours) != len(addrs) else 0


def vdso_range(pid):
    for line in open(f"/proc/{pid}/maps"):
        if line.rstrip().endswith("[vdso]"):
            lo, hi = line.split()[0].split("-")
            return int(lo, 16), int(hi, 16)
    raise SystemExit(f"pid {pid} has no [vdso] mapping")


def cmd_mem(pid, out):
    lo, hi = vdso_range(pid)
    with open(f"/proc/{pid}/mem", "rb") as f:
        f.seek(lo)
        data = f.read(hi - lo)
    open(out, "wb").write(data)
    print(f"0x{lo:x} {hi - lo}")
    return 0


def ehdr_fields(b):
    is64 = b[4] == 2
    end = "<" if b[5] == 1 else ">"
    return is64, end


def cmd_strip(src, dst, garble):
    b = bytearray(open(src, "rb").read())
    is64, e = ehdr_fields(b)
    if is64:
        shoff_at, sh_at = 40, 58
        struct.pack_into(e + "Q", b, shoff_at, 0x200 if garble else 0)
        struct.pack_into(e + "HHH", b, sh_at, 64 if garble else 0, 5 if garble else 0, 1 if garble else 0)
    else:
        struct.pack_into(e + "I", b, 32, 0x200 if garble else 0)
        struct.pack_into(e + "HHH", b, 46, 40 if garble else 0, 5 if garble else 0, 1 if garble else 0)
    open(dst, "wb").write(b)
    return 0


def cmd_drop(core, out, truncate=False):
    b = bytearray(open(core, "rb").read())
    is64, e = ehdr_fields(b)
    if is64:
        phoff, = struct.unpack_from(e + "Q", b, 32)
        phentsize, phnum = struct.unpack_from(e + "HH", b, 54)
    else:
        phoff, = struct.unpack_from(e + "I", b, 28)
        phentsize, phnum = struct.unpack_from(e + "HH", b, 42)
    # AT_SYSINFO_EHDR from NT_AUXV
    word = 8 if is64 else 4
    base = None
    for i in range(phnum):
        p = phoff + i * phentsize
        typ, = struct.unpack_from(e + "I", b, p)
        if typ != 4:
            continue
        off, size = (struct.unpack_from(e + "Q", b, p + 8)[0], struct.unpack_from(e + "Q", b, p + 32)[0]) if is64 \
            else (struct.unpack_from(e + "I", b, p + 4)[0], struct.unpack_from(e + "I", b, p + 16)[0])
        q = off
        while q + 12 <= off + size:
            namesz, descsz, ntype = struct.unpack_from(e + "III", b, q)
            desc = q + 12 + ((namesz + 3) & ~3)
            if ntype == 6:
                fmt = e + ("QQ" if is64 else "II")
                for k in range(0, descsz, 2 * word):
                    t, v = struct.unpack_from(fmt, b, desc + k)
                    if t == 33:
                        base = v
            q = desc + ((descsz + 3) & ~3)
    if base is None:
        raise SystemExit("no AT_SYSINFO_EHDR in the core")
    for i in range(phnum):
        p = phoff + i * phentsize
        typ, = struct.unpack_from(e + "I", b, p)
        vaddr = struct.unpack_from(e + "Q", b, p + 16)[0] if is64 else struct.unpack_from(e + "I", b, p + 8)[0]
        if typ == 1 and vaddr == base:
            if truncate:
                # the segment now starts 100 bytes before the end of the file
                off = len(b) - 100
                struct.pack_into(e + ("Q" if is64 else "I"), b, p + (8 if is64 else 4), off)
                open(out, "wb").write(b)
                print(f"moved the vDSO segment to 100 bytes before the end, 0x{off:x}")
                return 0
            struct.pack_into(e + "I", b, p, 0)
            open(out, "wb").write(b)
            print(f"dropped the PT_LOAD at 0x{base:x}")
            return 0
    raise SystemExit(f"no PT_LOAD at 0x{base:x}")


def main(argv):
    cmd = argv[1]
    if cmd == "symbols":
        return check_symbols(argv[2], argv[3], int(argv[4], 0))
    if cmd == "cfi":
        return check_cfi(argv[2], argv[3], int(argv[4], 0))
    if cmd == "frames-same":
        return frames_same(argv[2], argv[3])
    if cmd == "locals" and len(argv) > 4:
        return check_locals(argv[2], argv[3], argv[4])
    if cmd == "locals":
        return check_locals(argv[2], argv[3])
    if cmd == "mem":
        return cmd_mem(int(argv[2]), argv[3])
    if cmd in ("strip-shdrs", "garble-shdrs"):
        return cmd_strip(argv[2], argv[3], cmd == "garble-shdrs")
    if cmd == "drop-vdso-load":
        return cmd_drop(argv[2], argv[3])
    if cmd == "cut-in-vdso":
        return cmd_drop(argv[2], argv[3], truncate=True)
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
