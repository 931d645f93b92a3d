#!/usr/bin/env python3
"""Random .cfi_* programs against readelf.

  cfi-random.py VDSOSCOPE WORKDIR FIRST LAST [STEPPER [TABLEDUMP ELFMUT]]

For each seed FIRST..LAST: write an assembler file of functions whose CFI is
a random sequence of the directives GNU as knows, link it as a shared object
(x86_64 or i386; .eh_frame with or without .eh_frame_hdr, or .debug_frame
only), and compare `vdsoscope cfi --file X --json` with
`readelf --debug-dump=frames-interp` at every address of every FDE: the CFA
rule and every register rule.  With STEPPER (tests/cfi-step), also step
one frame at every row's first address and check each register the step
tracks against what readelf's rules give for the stepper's registers and
memory.  With TABLEDUMP (tests/eh-table-dump) and ELFMUT (tests/elfmut.py),
also build (for every fifth seed) the libunwind hook's .eh_frame from the
rows and check that
readelf reads the same CFA and rules of the tracked registers from it.
Exit status 0 when all agrees, 77 when no object could be built,
else 1.
"""
import json
import random
import re
import shlex
import subprocess
import sys

sys.path.insert(0, __import__("os").path.dirname(__file__))
from readelf_frames import parse_frames  # noqa: E402

ARCH = {
    "x86_64": dict(flags=[], regs=["rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp", "r8",
                                   "r9", "r10", "r11", "r12", "r13", "r14", "r15"],
                   sp="rsp", ip="rip", ipnum=16, size=8, extra=[17, 18, 33, 41, 49, 64, 70],
                   cfa_regs=["rsp", "rbp", "rbx", "r12"], breg_sp=0x77),
    "i386": dict(flags=["-m32"], regs=["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"],
                 sp="esp", ip="eip", ipnum=8, size=4, extra=[9, 11, 21, 29, 40],
                 cfa_regs=["esp", "ebp", "ebx"], breg_sp=0x74),
}
MODES = ["hdr", "nohdr", "debug_frame"]


def uleb(v):
    out = []
    while True:
        b = v & 0x7f
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return out


def sleb(v):
    out = []
    while True:
        b = v & 0x7f
        v >>= 7
        if (v == 0 and not b & 0x40) or (v == -1 and b & 0x40):
            out.append(b)
            return out
        out.append(b | 0x80)


def gen(rng, arch):
    a = ARCH[arch]
    sz = a["size"]
    regnames = a["regs"]
    num = {n: i for i, n in enumerate(regnames)}
    # directives may name registers by number: the ones past the GPRs too
    def any_reg():
        x = rng.random()
        if x < 0.15:
            return str(rng.choice(a["extra"]))
        if x < 0.22:
            return "%" + a["ip"]
        r = rng.choice(regnames)
        return "%" + r

    def regnum(r):
        if r.startswith("%"):
            return a["ipnum"] if r[1:] == a["ip"] else num[r[1:]]
        return int(r)

    def expr_escape():
        op = rng.choice([0x10, 0x16, 0x0f])   # expression, val_expression, def_cfa_expression
        off = rng.randrange(-4, 8) * sz
        body = [a["breg_sp"]] + sleb(off)
        if rng.random() < 0.5:
            body += [0x06]                     # deref
        if rng.random() < 0.3:
            body += [0x23] + uleb(rng.randrange(0, 40))   # plus_uconst
        if rng.random() < 0.2:
            body += [0x31, 0x1c]               # lit1; minus
        if rng.random() < 0.2:
            body += rng.choice([[0x12, 0x22],              # dup; plus
                                [0x08, rng.randrange(256), 0x1a],   # const1u N; and
                                [0x09, 0xf8, 0x1a],         # const1s -8; and
                                [0x96],                     # nop
                                [0x11] + sleb(-rng.randrange(1, 300)) + [0x22]])  # consts; plus
        if op == 0x0f:
            if body[-1:] != [0x06]:
                body += [0x06]   # a lone breg is the CFA rule reg+off, which readelf calls exp
            return [op] + uleb(len(body)) + body, True
        r = regnum(any_reg())
        if op == 0x16 and r == num[a["sp"]] and body == [a["breg_sp"], 0]:
            body += [0x23, 8]
        return [op] + uleb(r) + uleb(len(body)) + body, False

    lines = ["\t.text"]
    if arch == "i386":
        lines.insert(0, "\t.code32")
    funcs = rng.randrange(2, 6)
    for fn in range(funcs):
        name = f"f{fn}"
        lines += [f"\t.globl {name}", f"\t.type {name},@function", f"{name}:", "\t.cfi_startproc"]
        if rng.random() < 0.1:
            lines.append("\t.cfi_signal_frame")
        if rng.random() < 0.3:
            # at the start, before any instruction: GNU as puts it in the CIE
            lines.append(rng.choice(["\t.cfi_restore %s", "\t.cfi_undefined %s",
                                     "\t.cfi_same_value %s", "\t.cfi_offset %s, -%d" % ("%s", 2 * sz)])
                         % any_reg())
        cfa_off = sz
        cfa_expr = False
        depth = 0
        saved = []
        for _ in range(rng.randrange(1, 25)):
            x = rng.random()
            if x < 0.3:
                lines.append("\t.nops %d" % rng.choice([1, 1, 2, 3, 70, 300]))
                continue
            d = rng.choice(["def_cfa", "def_cfa_register", "def_cfa_offset", "adjust", "offset",
                            "rel_offset", "register", "restore", "undefined", "same_value",
                            "remember", "restore_state", "escape", "val_offset", "offset"])
            r = any_reg()
            if d == "def_cfa":
                cfa_off = rng.randrange(0, 16) * sz
                cfa_expr = False
                lines.append("\t.cfi_def_cfa %%%s, %d" % (rng.choice(a["cfa_regs"]), cfa_off))
            elif d == "def_cfa_register" and not cfa_expr:
                lines.append("\t.cfi_def_cfa_register %%%s" % rng.choice(a["cfa_regs"]))
            elif d == "def_cfa_offset" and not cfa_expr:
                cfa_off = rng.randrange(0, 40) * sz
                lines.append("\t.cfi_def_cfa_offset %d" % cfa_off)
            elif d == "adjust" and not cfa_expr:
                n = rng.randrange(-2, 5) * sz
                if cfa_off + n >= 0:
                    cfa_off += n
                    lines.append("\t.cfi_adjust_cfa_offset %d" % n)
            elif d == "offset":
                lines.append("\t.cfi_offset %s, %d" % (r, rng.randrange(-30, 4) * sz))
            elif d == "rel_offset" and not cfa_expr:
                lines.append("\t.cfi_rel_offset %s, %d" % (r, rng.randrange(0, 8) * sz))
            elif d == "val_offset":
                off = rng.randrange(-8, 8) * sz
                if off == 0 and r == "%" + a["sp"]:
                    off = sz
                lines.append("\t.cfi_val_offset %s, %d" % (r, off))
            elif d == "register":
                lines.append("\t.cfi_register %s, %%%s" % (r, rng.choice(regnames)))
            elif d == "restore":
                lines.append("\t.cfi_restore %s" % r)
            elif d == "undefined":
                lines.append("\t.cfi_undefined %s" % r)
            elif d == "same_value":
                lines.append("\t.cfi_same_value %s" % r)
            elif d == "remember":
                depth += 1
                saved.append((cfa_off, cfa_expr))
                lines.append("\t.cfi_remember_state")
            elif d == "restore_state" and depth:
                depth -= 1
                cfa_off, cfa_expr = saved.pop()
                lines.append("\t.cfi_restore_state")
            elif d == "escape":
                b, is_cfa = expr_escape()
                if is_cfa:
                    cfa_expr = True
                lines.append("\t.cfi_escape " + ", ".join("0x%02x" % v for v in b))
        lines += ["\tret", "\t.cfi_endproc"]
    return lines


def build(rng, seed, arch, mode, work):
    base = f"{work}/s{seed}-{arch}-{mode}"
    lines = gen(rng, arch)
    if mode == "debug_frame":
        lines.insert(0, "\t.cfi_sections .debug_frame")
    open(base + ".s", "w").write("\n".join(lines) + "\n")
    cmd = ["gcc", *ARCH[arch]["flags"], "-shared", "-nostdlib", "-o", base + ".so", base + ".s"]
    if mode == "nohdr":
        cmd.insert(1, "-Wl,--no-eh-frame-hdr")
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        print(f"seed {seed}: {arch} {mode}: gcc failed:\n{r.stderr}")
        return None
    return base + ".so"




def ours_text(r):
    k = r["kind"]
    if k in ("offset", "val_offset"):
        return ("c" if k == "offset" else "v") + "%+d" % r["offset"]
    if k == "expression":
        return "exp"
    if k == "val_expression":
        return "vexp"
    if k == "same_value":
        return "s"
    if k == "undefined":
        return "u"
    if k == "register":
        return r.get("reg_name", "r%d" % r["reg"])
    if k == "reg_offset":
        return "%s%+d" % (r.get("reg_name", "r%d" % r["reg"]), r["offset"])
    if k == "cfa_expression":
        return "exp"
    return "?" + k


def readelf_exprs(image):
    """{fde_start: {(column, text)}}: the expressions of each FDE and its
    CIE from readelf --debug-dump=frames, in vdsoscope's notation."""
    out = subprocess.run(["readelf", "-W", "--debug-dump=frames", image],
                         capture_output=True, text=True, check=True).stdout

    def ops(text):
        r = []
        for op in text.split("; "):
            m = re.match(r"DW_OP_b?reg\d+ \((\S+)\): (-?\d+)$", op)
            if m:
                r.append("%s%+d" % (m.group(1), int(m.group(2))))
                continue
            m = re.match(r"DW_OP_(lit\d+|plus_uconst|const\w+)(?:: (-?\d+))?$", op)
            if m:
                v = m.group(2) if m.group(2) is not None else m.group(1)[3:]
                r.append(("+" if m.group(1) == "plus_uconst" else "") + v)
                continue
            r.append(re.sub(r"^DW_OP_", "", op).replace(": ", " "))
        return "; ".join(r)

    cies, fdes, cur = {}, {}, None
    for line in out.splitlines():
        m = re.match(r"([0-9a-f]+) [0-9a-f]+ [0-9a-f]+ (CIE|FDE cie=([0-9a-f]+) pc=([0-9a-f]+))", line)
        if m:
            cur = set()
            if m.group(2) == "CIE":
                cies[int(m.group(1), 16)] = cur
            else:
                cur |= cies.get(int(m.group(3), 16), set())
                fdes[int(m.group(4), 16)] = cur
            continue
        if cur is None:
            continue
        m = re.match(r"\s*DW_CFA_def_cfa_expression \((.*)\)$", line)
        if m:
            cur.add(("CFA", "exp(%s)" % ops(m.group(1))))
        m = re.match(r"\s*DW_CFA_(val_)?expression: r\d+ \((\S+)\) \((.*)\)$", line)
        if m:
            cur.add((m.group(2), "%s(cfa; %s)" % ("vexp" if m.group(1) else "exp", ops(m.group(3)))))
    return fdes


def compare(image, js, ip):
    fdes = parse_frames(image)
    by_addr, our_fdes = {}, {}
    for r in js:
        if r.get("synthesized"):
            continue
        lo, hi, f = int(r["start"], 16), int(r["end"], 16), int(r["fde"], 16)
        our_fdes[f] = max(our_fdes.get(f, 0), hi)
        for x in range(lo, hi):
            by_addr[x] = r
    bad = []
    want = {lo: end for lo, (end, _) in fdes.items() if end > lo}
    if want != our_fdes:
        bad.append(f"FDE ranges: readelf {sorted((hex(a), hex(b)) for a, b in want.items())}, "
                   f"vdsoscope {sorted((hex(a), hex(b)) for a, b in our_fdes.items())}")
    n = 0
    for lo, (end, table) in sorted(fdes.items()):
        for i, (loc, cfa, regs) in enumerate(table):
            nxt = table[i + 1][0] if i + 1 < len(table) else end
            for x in range(loc, nxt):
                n += 1
                ours = by_addr.get(x)
                if ours is None:
                    bad.append(f"0x{x:x}: no row")
                    break
                got = ours_text(ours["cfa"])
                if got != cfa:
                    bad.append(f"0x{x:x}: CFA {got}, readelf {cfa}")
                    break
                names = set(ours["regs"]) | {ip if c == "ra" else c for c in regs}
                for name in sorted(names):
                    w = regs.get("ra" if name == ip else name, "u")
                    r = ours["regs"].get(name)
                    g = "u" if r is None else ours_text(r)
                    if g != w:
                        bad.append(f"0x{x:x}: {name} {g}, readelf {w}")
                        break
                if bad:
                    break
            if bad:
                break
    # every expression a row has is one of its FDE's, operation by operation
    exprs = readelf_exprs(image)
    for r in js:
        if bad or r.get("synthesized"):
            break
        have = exprs.get(int(r["fde"], 16), set())
        rules = [("CFA", r["cfa"])] + sorted(r["regs"].items())
        for name, rule in rules:
            if rule["kind"] not in ("expression", "val_expression", "cfa_expression"):
                continue
            col = "ra" if name == ip else name
            if (name, rule["text"]) not in have and (col, rule["text"]) not in have:
                bad.append(f"{r['start']}: {name}={rule['text']} is no expression of the FDE "
                           f"(readelf: {sorted(x[1] for x in have if x[0] in (name, col))})")
                break
    return n, bad


def step_check(image, arch, stepper):
    """The stepper's caller registers against readelf's rules at each row's start."""
    a = ARCH[arch]
    names = a["regs"] + [a["ip"]]
    num = {n: i for i, n in enumerate(names)}
    mask = (1 << (8 * a["size"])) - 1
    inreg = [0x10000 * (i + 1) + 0x100 for i in range(len(names))]

    def mem(x):
        return int.from_bytes(bytes(((x + i) * 131 + 7) & 0xff for i in range(a["size"])), "little")

    rows = [(loc, cfa, regs) for _, (_, table) in sorted(parse_frames(image).items())
            for loc, cfa, regs in table]
    out = subprocess.run([stepper, image] + ["%x" % r[0] for r in rows], capture_output=True,
                         text=True, check=True).stdout.splitlines()
    bad, n = [], 0
    for (loc, cfa, regs), line in zip(rows, out):
        f = line.split()
        m = re.match(r"(\w+)([+-]\d+)$", cfa)
        ra = regs.get("ra", "u")
        if not m or m.group(1) not in num:
            continue
        if f[1] != "ok":
            if ra == "u" or any(v in ("exp", "vexp") for v in regs.values()):
                continue
            bad.append(f"0x{loc:x}: step failed: {line}")
            continue
        got = dict(x.split("=") for x in f[2:])
        ins = list(inreg)
        ins[num[a["ip"]]] = loc
        c = (ins[num[m.group(1)]] + int(m.group(2))) & mask
        for name in names:
            rule = regs.get("ra" if name == a["ip"] else name)
            if rule is None and name == a["sp"]:
                want = c
            elif rule is None or rule in ("u", "exp", "vexp"):
                continue
            elif rule == "s":
                want = ins[num[name]]
            elif rule[0] in "cv" and re.match(r"[cv][+-]\d+$", rule):
                x = (c + int(rule[1:])) & mask
                want = mem(x) if rule[0] == "c" else x
            elif rule in num:
                want = ins[num[rule]]
            else:
                continue
            n += 1
            if name not in got or int(got[name], 16) != want:
                bad.append(f"0x{loc:x}: stepped {name}={got.get(name, 'unknown')}, "
                           f"readelf's rule {rule} gives {want:x}")
                break
    return n, bad


def table_check(image, arch, dumper, elfmut):
    """The hook's .eh_frame built from the rows against the image's, by readelf."""
    a = ARCH[arch]
    tracked = set(a["regs"]) | {"ra"}
    blob, table = image + ".blob", image + ".table"
    r = subprocess.run([dumper, image, blob], capture_output=True, text=True)
    if r.returncode:
        return 0, [f"eh-table-dump: {r.stderr.strip()}"]
    addr, ehoff = r.stdout.split()[:2]
    subprocess.run(["python3", elfmut, "wrap-eh-frame", image, blob, addr, ehoff, table],
                   check=True, capture_output=True)

    def at(fdes):
        rules = {}
        for lo, (end, rows) in fdes.items():
            for i, (loc, cfa, regs) in enumerate(rows):
                nxt = rows[i + 1][0] if i + 1 < len(rows) else end
                norm = {k: v for k, v in regs.items() if k in tracked and v != "u"}
                for x in range(loc, nxt):
                    rules[x] = (cfa, norm)
        return rules
    want, got = at(parse_frames(image)), at(parse_frames(table))
    bad = []
    for x in sorted(want):
        w, g = want[x], got.get(x)
        if g is None:
            bad.append(f"0x{x:x}: not in the built table")
            break
        if w[0] != g[0]:
            bad.append(f"0x{x:x}: built table's CFA {g[0]}, image's {w[0]}")
            break
        for k in sorted(set(w[1]) | set(g[1])):
            wv, gv = w[1].get(k, "u"), g[1].get(k, "u")
            # the table writes a val_offset as a val_expression
            if wv != gv and not (wv[0] == "v" and gv == "vexp"):
                bad.append(f"0x{x:x}: {k}: built table's {gv}, image's {wv}")
                break
        if bad:
            break
    return len(want), bad


def main():
    vdsoscope, work, first, last = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    stepper = sys.argv[5] if len(sys.argv) > 5 else None
    dumper, elfmut = (sys.argv[6], sys.argv[7]) if len(sys.argv) > 7 else (None, None)
    stepped = tabled = 0
    built = compared = 0
    failed = []
    archs = ["x86_64", "i386"]
    for seed in range(first, last + 1):
        rng = random.Random(seed)
        arch = archs[seed % 2]
        mode = MODES[(seed // 2) % 3]
        image = build(rng, seed, arch, mode, work)
        if image is None:
            if arch == "i386":
                continue
            return 1
        built += 1
        r = subprocess.run(shlex.split(vdsoscope) + ["cfi", "--file", image, "--json"],
                           capture_output=True, text=True)
        if r.returncode:
            failed.append((seed, arch, mode, [r.stderr.strip()]))
            continue
        n, bad = compare(image, json.loads(r.stdout), ARCH[arch]["ip"])
        compared += n
        if stepper and not bad:
            k, bad = step_check(image, arch, stepper)
            stepped += k
        if dumper and not bad and seed % 5 == 0:
            k, bad = table_check(image, arch, dumper, elfmut)
            tabled += k
        if bad:
            failed.append((seed, arch, mode, bad))
    for seed, arch, mode, bad in failed[:10]:
        print(f"seed {seed} ({arch}, {mode}): " + "; ".join(bad[:3]))
    print(f"{built} objects, {compared} addresses compared, {stepped} stepped registers checked, "
          f"{tabled} addresses of built tables compared, {len(failed)} objects differ")
    if not built:
        return 77
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
