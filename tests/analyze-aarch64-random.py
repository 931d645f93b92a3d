#!/usr/bin/env python3
"""Random aarch64 functions with CFI against the rows derived without it.

  analyze-aarch64-random.py VDSOSCOPE WORKDIR FIRST LAST [ROWS]

For each seed FIRST..LAST: write aarch64 assembler functions the way
compilers and the arm64 vDSO build them (leaves, paciasp leaves, frame
records "stp x29, x30, [sp, #-n]!; mov x29, sp", "sub sp" frames, several
epilogues, conditional branches, loops, calls, tail calls, a fast path
before the prologue) with .cfi_* directives, assemble and link a shared
object with aarch64-linux-gnu-as and -ld, copy it without .eh_frame and
.eh_frame_hdr, and compare `vdsoscope cfi --file COPY --json` (rows from
instructions) with `readelf --debug-dump=frames-interp` of the original at
every address of every FDE: the CFA rule and the rules of x19-x30.  With
ROWS (tests/a64-rows), also compare where the return address is signed
with the DW_CFA_AARCH64_negate_ra_state operations readelf lists.  Some
functions do what the analyzer must refuse (named bad*, without CFI): the
copy must have no rows for them.  Exit status 0 when all agrees, 77 when
the tools are missing, else 1.
"""
import json
import os
import random
import re
import shlex
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from readelf_frames import parse_frames  # noqa: E402

AS, LD, OBJCOPY = "aarch64-linux-gnu-as", "aarch64-linux-gnu-ld", "aarch64-linux-gnu-objcopy"
TMP = ["x%d" % i for i in range(0, 16)]


def filler(rng, n, body_regs=(), locals_=None):
    """N instructions that touch none of sp, x29, x30 nor an unsaved x19-x28;
    BODY_REGS: callee-saved registers the function saved; LOCALS_: (lo, hi)
    sp offsets free for locals."""
    out = []
    regs = TMP + list(body_regs)

    def r():
        return rng.choice(regs)

    def t():
        return rng.choice(TMP)

    for _ in range(n):
        k = rng.randrange(40)
        if k == 0:
            out.append("add %s, %s, %s" % (r(), t(), t()))
        elif k == 1:
            out.append("sub w%s, w%s, #%d, lsl #12" % (r()[1:], t()[1:], rng.randrange(4096)))
        elif k == 2:
            out.append("madd %s, %s, %s, %s" % (r(), t(), t(), t()))
        elif k == 3:
            out.append("udiv %s, %s, %s" % (r(), t(), t()))
        elif k == 4:
            out.append("lsl %s, %s, #%d" % (r(), t(), rng.randrange(64)))
        elif k == 5:
            out.append("ubfx %s, %s, #4, #8" % (r(), t()))
        elif k == 6:
            out.append("orr %s, %s, #0xff" % (r(), t()))
        elif k == 7:
            out.append("mov %s, #%d" % (r(), rng.randrange(65536)))
        elif k == 8:
            out.append("movk %s, #%d, lsl #16" % (r(), rng.randrange(65536)))
        elif k == 9:
            out.append("adrp %s, f0" % r())
        elif k == 10:
            out.append("adr %s, ." % r())
        elif k == 11:
            out.append("ldr %s, [%s, #%d]" % (r(), t(), 8 * rng.randrange(64)))
        elif k == 12:
            a = t()
            b = rng.choice([x for x in regs if x != a])
            out.append("ldr w%s, [%s], #4" % (b[1:], a))
        elif k == 13:
            a, b = rng.sample(regs, 2)
            out.append("ldp %s, %s, [%s, #16]" % (a, b, t()))
        elif k == 14:
            out.append("str %s, [%s, #%d]" % (rng.choice(regs + ["x29", "x30", "xzr"]), t(),
                                              8 * rng.randrange(32)))
        elif k == 15:
            out.append("ldrb w%s, [%s, %s]" % (r()[1:], t(), t()))
        elif k == 16:
            out.append("ldrsw %s, [%s]" % (r(), t()))
        elif k == 17:
            out.append("csel %s, %s, %s, eq" % (r(), t(), t()))
        elif k == 18:
            out.append("cmp %s, #%d" % (t(), rng.randrange(4096)))
        elif k == 19:
            out.append("ccmp %s, %s, #4, ne" % (t(), t()))
        elif k == 20:
            out.append("mrs %s, cntvct_el0" % r())
        elif k == 21:
            out.append(rng.choice(["isb", "dmb ish", "nop", "hint #34", "dsb sy", "svc #0",
                                   "mov x8, sp", "add x9, sp, #32", "cmp sp, #0", "yield"]))
        elif k == 22:
            out.append("fmov d%d, %s" % (rng.randrange(32), t()))
        elif k == 23:
            out.append("fmov %s, d%d" % (r(), rng.randrange(32)))
        elif k == 24:
            out.append("scvtf d%d, %s" % (rng.randrange(32), t()))
        elif k == 25:
            out.append("fcvtzs %s, d%d" % (r(), rng.randrange(32)))
        elif k == 26:
            out.append("umov w%s, v%d.s[1]" % (r()[1:], rng.randrange(32)))
        elif k == 27:
            out.append("dup v%d.4s, w%s" % (rng.randrange(32), t()[1:]))
        elif k == 28:
            out.append("add v%d.4s, v%d.4s, v30.4s" % (rng.randrange(32), rng.randrange(32)))
        elif k == 29:
            out.append("ldr q%d, [%s]" % (rng.randrange(32), t()))
        elif k == 30:
            out.append("ld1 {v29.16b}, [%s], #16" % t())
        elif k == 31:
            out.append("ldxr %s, [%s]" % (r(), t()))
        elif k == 32:
            a, b, c = rng.sample(TMP, 3)
            out.append("stxr w%s, %s, [%s]" % (a[1:], b, c))
        elif k == 33:
            out.append("ldar %s, [%s]" % (r(), t()))
        elif k == 34:
            out.append("ldadd %s, %s, [%s]" % (t(), r(), t()))
        elif k == 35:
            out.append("rev %s, %s" % (r(), t()))
        elif k == 36:
            out.append("crc32cx w%s, w%s, %s" % (r()[1:], t()[1:], t()))
        elif k == 37 and locals_:
            lo, hi = locals_
            off = 8 * rng.randrange(lo // 8, hi // 8)
            out.append(rng.choice(["str %s, [sp, #%d]" % (t(), off),
                                   "ldr %s, [sp, #%d]" % (r(), off),
                                   "str d%d, [sp, #%d]" % (rng.randrange(32), off)]))
        elif k == 38:
            out.append("prfm pldl1keep, [%s]" % t())
        else:
            out.append("eor %s, %s, %s, ror #3" % (r(), t(), t()))
    return ["\t" + x for x in out]


class Fn:
    def __init__(self, name, rng, callees):
        self.name, self.rng, self.callees = name, rng, callees
        self.out = []
        self.n = 0
        self.cfa = ("sp", 0)
        self.sp = 0          # CFA - sp
        self.fp = None       # CFA - x29

    def emit(self, *lines):
        self.out += ["\t" + x for x in lines]

    def cfi(self, *lines):
        self.out += ["\t.cfi_" + x for x in lines]

    def label(self):
        self.n += 1
        return ".L%s_%d" % (self.name, self.n)

    def set_sp(self, new):
        self.sp = new
        if self.cfa[0] == "sp":
            self.cfa = ("sp", new)
            self.cfi("def_cfa_offset %d" % new)

    def body(self, saved, locals_, can_call):
        """Straight code, branches and loops within one state; returns the
        labels of alternative epilogues it branches to."""
        rng = self.rng
        alts = []
        for _ in range(rng.randrange(1, 5)):
            x = rng.random()
            self.out += filler(rng, rng.randrange(0, 5), saved, locals_)
            if x < 0.2:
                lab = self.label()
                self.emit(rng.choice(["cbz x0, ", "cbnz x1, ", "tbz x2, #3, ", "tbnz w3, #0, ",
                                      "b.eq ", "b.hi "]) + lab)
                self.out += filler(rng, rng.randrange(1, 4), saved, locals_)
                self.out.append(lab + ":")
            elif x < 0.3:
                lab = self.label()
                self.out.append(lab + ":")
                self.out += filler(rng, rng.randrange(1, 3), saved, locals_)
                self.emit("subs x5, x5, #1", "b.ne " + lab)
            elif x < 0.4:
                lab, end = self.label(), self.label()
                self.emit("b.lt " + lab)
                self.out += filler(rng, 2, saved, locals_)
                self.emit("b " + end)
                self.out.append(lab + ":")
                self.out += filler(rng, 1, saved, locals_)
                self.out.append(end + ":")
            elif x < 0.6 and can_call:
                if rng.random() < 0.7:
                    self.emit("bl " + rng.choice(self.callees))
                else:
                    self.emit("adrp x9, %s" % self.callees[0],
                              "add x9, x9, :lo12:%s" % self.callees[0], "blr x9")
            elif x < 0.7 and can_call:
                lab = self.label()
                alts.append(lab)
                self.emit("cbz x4, " + lab)
            elif x < 0.8 and saved:
                self.emit("mov %s, x0" % rng.choice(saved))
        return alts

    def ret(self, signed, tail):
        if signed == "a" and self.rng.random() < 0.5 and not tail:
            self.emit("retaa")
            return
        if signed:
            self.emit("auti%ssp" % signed)
            self.cfi("negate_ra_state")
        if tail:
            self.emit("b " + self.rng.choice(self.callees))
        else:
            self.emit("ret")


def gen_fn(rng, name, callees):
    f = Fn(name, rng, callees)
    kind = rng.choice(["leaf", "leaf", "record", "record", "record", "subsp", "subsp_leaf",
                       "record_sub"])
    signed = rng.choice([None, None, "a", "b"])
    f.out += ["\t.globl %s" % name, "\t.hidden %s" % name, "\t.type %s,@function" % name,
              "\t.p2align 2", name + ":", "\t.cfi_startproc"]
    if rng.random() < 0.3:
        f.emit("hint #34")
    if signed:
        f.emit("paci%ssp" % signed)
        f.cfi("negate_ra_state")
    fast = None
    if kind != "leaf" and rng.random() < 0.3:
        fast = f.label()
        f.emit("cbz x0, " + fast)
        f.cfi("remember_state")
    if kind in ("leaf",):
        if rng.random() < 0.3:
            tail = rng.random() < 0.5
            f.body([], None, False)
            f.ret(signed, tail)
        else:
            f.body([], None, False)
            f.ret(signed, False)
    else:
        saved = []
        nsave = rng.randrange(0, 5)
        regs = ["x19", "x20", "x21", "x22", "x23", "x24", "x25", "x26", "x27", "x28"][:nsave]
        restore = []
        if kind in ("record", "record_sub"):
            size = 16 * ((2 + nsave + 1) // 2 + rng.randrange(0, 3))
            if kind == "record":
                f.emit("stp x29, x30, [sp, #-%d]!" % size)
                f.set_sp(size)
                rec = 0
            else:
                f.emit("sub sp, sp, #%d" % size)
                f.set_sp(size)
                rec = 16 * rng.randrange(0, (size - 16 * ((nsave + 1) // 2)) // 16)
                f.emit("stp x29, x30, [sp, #%d]" % rec)
            f.cfi("offset 29, %d" % (rec - size), "offset 30, %d" % (rec - size + 8))
            f.emit("mov x29, sp" if rec == 0 and rng.random() < 0.7 else "add x29, sp, #%d" % rec)
            f.fp = size - rec
            f.cfa = ("x29", f.fp)
            f.cfi("def_cfa 29, %d" % f.fp)
            slots = [o for o in range(0, size, 8) if o not in (rec, rec + 8)]
            i = 0
            while i < len(regs):
                o = slots.pop(0)
                if i + 1 < len(regs) and slots and slots[0] == o + 8 and rng.random() < 0.7:
                    slots.pop(0)
                    f.emit("stp %s, %s, [sp, #%d]" % (regs[i], regs[i + 1], o))
                    f.cfi("offset %s, %d" % (regs[i][1:], o - size),
                          "offset %s, %d" % (regs[i + 1][1:], o - size + 8))
                    restore.append((regs[i], regs[i + 1], o))
                    i += 2
                else:
                    f.emit("str %s, [sp, #%d]" % (regs[i], o))
                    f.cfi("offset %s, %d" % (regs[i][1:], o - size))
                    restore.append((regs[i], None, o))
                    i += 1
            saved = regs
            locals_ = (slots[0], slots[-1] + 8) if slots and slots[-1] - slots[0] == 8 * (len(slots) - 1) else None
            extra = 0
            if rng.random() < 0.3:
                extra = 16 * rng.randrange(1, 4)
                f.emit("sub sp, sp, #%d" % extra)
                f.sp += extra
                locals_ = (0, extra)
            alts = f.body(saved, locals_, True)

            def epilogue():
                use_fp = rng.random() < 0.3
                if extra:
                    if rng.random() < 0.5 and rec == 0:
                        f.emit("mov sp, x29")
                        f.cfi("def_cfa sp, %d" % f.fp)
                    else:
                        f.emit("add sp, sp, #%d" % extra)
                for a, b, o in restore:
                    if use_fp:
                        base, off = "x29", o - rec
                    else:
                        base, off = "sp", o
                    if b:
                        f.emit("ldp %s, %s, [%s, #%d]" % (a, b, base, off))
                        f.cfi("restore %s" % a[1:], "restore %s" % b[1:])
                    else:
                        f.emit("ldr %s, [%s, #%d]" % (a, base, off))
                        f.cfi("restore %s" % a[1:])
                if kind == "record":
                    f.emit("ldp x29, x30, [sp], #%d" % size)
                    f.cfi("def_cfa sp, 0", "restore 29", "restore 30")
                else:
                    f.emit("ldp x29, x30, [sp, #%d]" % rec)
                    f.cfi("def_cfa sp, %d" % size, "restore 29", "restore 30")
                    f.emit("add sp, sp, #%d" % size)
                    f.cfi("def_cfa_offset 0")
                f.ret(signed, rng.random() < 0.2)

            f.cfi("remember_state")
            epilogue()
            f.cfi("restore_state")
            for lab in alts:
                f.out.append(lab + ":")
                f.cfi("remember_state")
                epilogue()
                f.cfi("restore_state")
        else:
            size = 16 * ((nsave + 2) // 2 + rng.randrange(0, 3))
            f.emit("sub sp, sp, #%d" % size)
            f.set_sp(size)
            lr = kind == "subsp"
            regs2 = regs + (["x30"] if lr else [])
            for j, r in enumerate(regs2):
                f.emit("str %s, [sp, #%d]" % (r, 8 * j))
                f.cfi("offset %s, %d" % (r[1:], 8 * j - size))
            locals_ = (8 * len(regs2), size) if 8 * len(regs2) < size else None
            alts = f.body(regs, locals_, lr)

            def epilogue():
                for j, r in enumerate(regs2):
                    f.emit("ldr %s, [sp, #%d]" % (r, 8 * j))
                    f.cfi("restore %s" % r[1:])
                f.emit("add sp, sp, #%d" % size)
                f.cfi("def_cfa_offset 0")
                f.ret(signed, rng.random() < 0.2)

            f.cfi("remember_state")
            epilogue()
            f.cfi("restore_state")
            for lab in alts:
                f.out.append(lab + ":")
                f.cfi("remember_state")
                epilogue()
                f.cfi("restore_state")
    if fast:
        f.out.append(fast + ":")
        f.cfi("restore_state")
        f.out += filler(rng, rng.randrange(0, 3))
        f.ret(signed, False)
    f.out += ["\t.cfi_endproc", "\t.size %s, .-%s" % (name, name)]
    return f.out


# What the analyzer must refuse: each leaves the caller's state unknowable.
BAD = [
    ["mov sp, x0", "ret"],
    ["mov x29, x0", "ret"],
    ["bl bad_helper", "ret"],
    ["br x0"],
    ["cbz x0, 1f", "sub sp, sp, #16", "1:", "add sp, sp, #16", "ret"],
    ["sub sp, sp, #16", "ret"],
    ["mov x19, x0", "ret"],
    ["ret x1"],
    ["paciasp", "ret"],
    ["autiasp", "ret"],
    ["stp x29, x30, [sp, #-16]!", "ldp x29, x30, [sp], #32", "ret"],
    ["stp x29, x30, [sp, #-16]!", "str x0, [sp, #8]", "ldp x29, x30, [sp], #16", "ret"],
    ["add sp, sp, x0", "ret"],
    ["and sp, x0, #-16", "ret"],
    [".inst 0x04a0e3e0", "ret"],       # SVE
    ["ldr x30, [x0]", "ret"],
    ["stp x29, x30, [sp, #-16]!", "ldp x29, x30, [sp, #-16]!", "ret"],
    ["hvc #0", "ret"],
    ["blr x1", "ret"],
    ["stp x29, x30, [sp, #-16]!", "mov x29, sp", "sub sp, sp, x0", "ldr x29, [x1]", "ret"],
]


def gen(rng):
    lines = ["\t.arch armv8.5-a+crc+lse", "\t.text"]
    nf = rng.randrange(2, 7)
    names = ["f%d" % i for i in range(nf)]
    lines += ["\t.globl g", "\t.hidden g", "\t.type g,@function", "\t.p2align 2", "g:",
              "\t.cfi_startproc", "\tadd x0, x0, #1", "\tret", "\t.cfi_endproc", "\t.size g, .-g"]
    bad = []
    for i, name in enumerate(names):
        lines += gen_fn(rng, name, ["g"] + names[:i])
        if rng.random() < 0.3:
            b = rng.randrange(len(BAD))
            bn = "bad%d_%d" % (b, i)
            bad.append(bn)
            lines += ["\t.globl %s" % bn, "\t.type %s,@function" % bn, "\t.p2align 2",
                      bn + ":"] + ["\t" + x if not x.endswith(":") else x for x in BAD[b]] + \
                     ["\t.size %s, .-%s" % (bn, bn)]
    lines += ["\t.type bad_helper,@function", "bad_helper:", "\tret",
              "\t.size bad_helper, .-bad_helper"]
    return lines, bad


def build(rng, seed, work):
    base = f"{work}/a64-{seed}"
    lines, bad = gen(rng)
    open(base + ".s", "w").write("\n".join(lines) + "\n")
    r = subprocess.run([AS, "-o", base + ".o", base + ".s"], capture_output=True, text=True)
    if r.returncode:
        return None, None, r.stderr
    ld = [LD, "-shared", "-Bsymbolic", "-o", base + ".so", base + ".o"]
    if seed % 2:
        ld.insert(2, "--eh-frame-hdr")
    r = subprocess.run(ld, capture_output=True, text=True)
    if r.returncode:
        return None, None, r.stderr
    r = subprocess.run([OBJCOPY, "-R", ".eh_frame", "-R", ".eh_frame_hdr", base + ".so",
                        base + "-nocfi.so"], capture_output=True, text=True)
    if r.returncode:
        return None, None, r.stderr
    return base, bad, None


def signed_ranges(image):
    """{fde_start: [(loc, signed)]} from the negate_ra_state operations."""
    out = subprocess.run(["readelf", "-W", "--debug-dump=frames", image],
                         capture_output=True, text=True, check=True).stdout
    res, cur, loc, st, stack = {}, None, 0, 0, []
    for line in out.splitlines():
        m = re.match(r"[0-9a-f]+ [0-9a-f]+ [0-9a-f]+ FDE cie=[0-9a-f]+ pc=([0-9a-f]+)", line)
        if m:
            cur = int(m.group(1), 16)
            loc, st, stack = cur, 0, []
            res[cur] = [(cur, 0)]
            continue
        if cur is None:
            continue
        m = re.match(r"\s*DW_CFA_advance_loc\d?: \d+ to ([0-9a-f]+)", line)
        if m:
            loc = int(m.group(1), 16)
        elif "DW_CFA_AARCH64_negate_ra_state" in line:
            st ^= 1
            res[cur].append((loc, st))
        elif "DW_CFA_remember_state" in line:
            stack.append(st)
        elif "DW_CFA_restore_state" in line:
            st = stack.pop()
            res[cur].append((loc, st))
        elif not line.strip():
            cur = None
    return res


def compare(image, nocfi, js, bad, rows_tool):
    fdes = parse_frames(image)
    by_addr = {}
    names = {}
    for r in js:
        if not r.get("synthesized"):
            return 0, ["a row not from instructions in the copy without CFI"]
        lo, hi = int(r["start"], 16), int(r["end"], 16)
        for x in range(lo, hi, 4):
            if x in by_addr:
                return 0, [f"0x{x:x}: two rows"]
            by_addr[x] = r
    sym = subprocess.run(["readelf", "-W", "-s", image], capture_output=True, text=True,
                         check=True).stdout
    for line in sym.splitlines():
        f = line.split()
        if len(f) >= 8 and f[3] == "FUNC" and f[6] != "UND":
            names[f[7]] = (int(f[1], 16), int(f[2]))
    bad_msgs = []
    for b in bad:
        lo, size = names[b]
        for x in range(lo, lo + size, 4):
            if x in by_addr:
                bad_msgs.append(f"{b}: 0x{x:x} has a row, the analyzer should refuse it")
                break
    signed = {}
    if rows_tool:
        out = subprocess.run([rows_tool, nocfi], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            f = line.split()
            for x in range(int(f[0], 16), int(f[1], 16), 4):
                signed[x] = int(f[2])
        truth = signed_ranges(image)
    n = 0
    for lo, (end, table) in sorted(fdes.items()):
        for i, (loc, cfa, regs) in enumerate(table):
            nxt = table[i + 1][0] if i + 1 < len(table) else end
            for x in range(loc, nxt, 4):
                n += 1
                ours = by_addr.get(x)
                if ours is None:
                    return n, bad_msgs + [f"0x{x:x}: no row (readelf: CFA {cfa} {regs})"]
                c = ours["cfa"]
                got = "%s%+d" % (c.get("reg_name", "r%d" % c.get("reg", -1)), c.get("offset", 0)) \
                    if c["kind"] == "reg_offset" else "?" + c["kind"]
                if got != cfa:
                    return n, bad_msgs + [f"0x{x:x}: CFA {got}, readelf {cfa}"]
                for k in range(19, 31):
                    name = "x%d" % k
                    w = regs.get("ra" if k == 30 else name, "u")
                    if w == "s":
                        w = "u"
                    rr = ours["regs"].get(name)
                    if rr is None or (rr["kind"] in ("register", "same_value") and
                                      rr.get("reg", k) == k):
                        g = "u"
                    elif rr["kind"] == "offset":
                        g = "c%+d" % rr["offset"]
                    else:
                        g = "?" + rr["kind"]
                    if g != w:
                        return n, bad_msgs + [f"0x{x:x}: {name} {g}, readelf {w}"]
                if rows_tool:
                    want = 0
                    for at, st in truth.get(lo, []):
                        if at <= x:
                            want = st
                    if signed.get(x) != want:
                        return n, bad_msgs + [f"0x{x:x}: return address signed "
                                              f"{signed.get(x)}, readelf {want}"]
    return n, bad_msgs


def main():
    vdsoscope, work, first, last = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    rows_tool = sys.argv[5] if len(sys.argv) > 5 else None
    built = compared = funcs = nbad = 0
    failed = []
    for seed in range(first, last + 1):
        rng = random.Random(seed)
        base, bad, err = build(rng, seed, work)
        if base is None:
            print(f"seed {seed}: cannot build:\n{err}")
            return 1
        built += 1
        r = subprocess.run(shlex.split(vdsoscope) + ["cfi", "--file", base + "-nocfi.so", "--json"],
                           capture_output=True, text=True)
        if r.returncode:
            failed.append((seed, [r.stderr.strip()]))
            continue
        js = json.loads(r.stdout)
        funcs += len({x["fde"] for x in js})
        nbad += len(bad)
        n, msgs = compare(base + ".so", base + "-nocfi.so", js, bad, rows_tool)
        compared += n
        if msgs:
            failed.append((seed, msgs))
    for seed, msgs in failed[:10]:
        print(f"seed {seed}: " + "; ".join(msgs[:3]))
    print(f"{built} objects, {funcs} functions with rows from instructions, "
          f"{compared} addresses compared, {nbad} functions refused as they must be, "
          f"{len(failed)} objects differ")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
