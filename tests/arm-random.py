#!/usr/bin/env python3
"""Random Thumb-2 functions with their CFI against readelf.

  arm-random.py VDSOSCOPE WORKDIR FIRST LAST STEPPER

For each seed FIRST..LAST: write an assembler file of Thumb-2 functions in
the shapes compilers give them (leaves, push {..., lr} frames, r7 frame
pointers, vpush of d8-d15, locals below sp, stores of callee-saved
registers, several return paths, conditional returns in IT blocks,
branches, calls, tail calls) with the .cfi_* directives that describe
them, in .eh_frame or .debug_frame; assemble and link it with
arm-linux-gnueabihf-as and -ld, and copy it without its CFI sections.
Then, at every address of every FDE, readelf --debug-dump=frames-interp of
the original must agree with:
  - the rows vdsoscope compiles from the original's CFI, and
  - the rows vdsoscope derives from the instructions of the copy:
the CFA rule and the rules of r4-r11, lr and d8-d15.  With STEPPER
(tests/cfi-step), one step at each row of the copy, at the Thumb address
(bit 0 set), must give the caller's registers that readelf's rules do.
Exit status 0 when all agrees, else 1.
"""
import json
import random
import re
import shlex
import subprocess
import sys

sys.path.insert(0, __import__("os").path.dirname(__file__))
from readelf_frames import parse_frames  # noqa: E402

AS = "arm-linux-gnueabihf-as"
LD = "arm-linux-gnueabihf-ld"
OBJCOPY = "arm-linux-gnueabihf-objcopy"
TRACKED = ["r%d" % r for r in range(4, 12)] + ["r14"] + ["r%d" % r for r in range(264, 272)]


def dlist(n):
    return "d8" if n == 1 else "d8-d%d" % (8 + n - 1)


class Fn:
    """One function's text and CFI, tracking what its CFI says."""

    def __init__(self, rng, name, nfuncs):
        self.rng, self.name, self.nfuncs = rng, name, nfuncs
        self.out = []
        self.label = 0

    def emit(self, *lines):
        self.out += ["\t" + x for x in lines]

    def newlabel(self):
        self.label += 1
        return f".L{self.name}_{self.label}"

    def scratch(self):
        return self.rng.choice(["r0", "r1", "r2", "r3", "r12"] + self.writable)

    def filler(self, n):
        rng = self.rng
        for _ in range(n):
            x = rng.random()
            a, b, c = self.scratch(), self.scratch(), self.scratch()
            lo = ["r0", "r1", "r2", "r3"]
            if x < 0.1:
                self.emit("movs %s, #%d" % (rng.choice(lo), rng.randrange(256)))
            elif x < 0.2:
                self.emit("add %s, %s, %s" % (a, b, c))
            elif x < 0.27:
                self.emit("movw %s, #%d" % (a, rng.randrange(65536)))
            elif x < 0.33:
                self.emit("cmp %s, #%d" % (rng.choice(lo), rng.randrange(256)))
            elif x < 0.42 and self.locals >= 4:
                off = rng.randrange(self.locals // 4) * 4
                self.emit("ldr %s, [sp, #%d]" % (rng.choice(lo + ["r12"]), off))
            elif x < 0.5 and self.locals >= 4:
                off = rng.randrange(self.locals // 4) * 4
                self.emit("str%s %s, [sp, #%d]" % (rng.choice(["", ".w"]), rng.choice(lo), off))
            elif x < 0.56:
                self.emit("ldr %s, [%s, #%d]" % (a, rng.choice(lo), 4 * rng.randrange(8)))
            elif x < 0.6:
                self.emit("str %s, [%s, #%d]" % (rng.choice(lo), rng.choice(lo), 4 * rng.randrange(8)))
            elif x < 0.64:
                self.emit("dmb ish")
            elif x < 0.68:
                self.emit("mul %s, %s, %s" % (a, b, c))
            elif x < 0.72:
                self.emit("lsls %s, %s, #%d" % (rng.choice(lo), rng.choice(lo), rng.randrange(1, 31)))
            elif x < 0.76:
                self.emit("it eq", "moveq %s, #1" % rng.choice(lo))
            elif x < 0.79:
                self.emit("svc #0")
            elif x < 0.82:
                self.emit("nop")
            elif x < 0.86:
                lab = self.newlabel()
                self.emit("%s %s, %s" % (rng.choice(["cbz", "cbnz"]), rng.choice(lo), lab))
                self.filler_simple(rng.randrange(1, 4))
                self.out.append(lab + ":")
            elif x < 0.89:
                lab = self.newlabel()
                self.out.append(lab + ":")
                self.emit("subs r2, #1", "bne %s" % lab)
            elif x < 0.95 and self.lr_saved:
                self.emit("bl f%d" % rng.randrange(self.nfuncs))
            else:
                self.emit("uxtb %s, %s" % (rng.choice(lo), rng.choice(lo)))

    def filler_simple(self, n):
        for _ in range(n):
            self.emit("adds r%d, #%d" % (self.rng.randrange(4), self.rng.randrange(256)))

    def gen(self):
        rng = self.rng
        kind = rng.choice(["leaf", "leaf", "push", "push", "fp", "fp", "stores", "tail"])
        self.out += ["\t.globl " + self.name, "\t.type %s,%%function" % self.name,
                     "\t.thumb_func", self.name + ":", "\t.cfi_startproc"]
        self.locals = 0
        self.lr_saved = False
        self.writable = []
        fp, dregs = None, 0
        if kind in ("leaf", "tail"):
            self.filler(rng.randrange(0, 6))
            if kind == "tail":
                self.emit("b f%d" % rng.randrange(self.nfuncs))
            else:
                if rng.random() < 0.5:
                    self.emit("cmp r0, #0", "it eq", "bxeq lr")
                    self.filler(rng.randrange(0, 3))
                self.emit("bx lr")
            self.out += ["\t.cfi_endproc", "\t.size %s, .-%s" % (self.name, self.name)]
            return self.out
        if kind == "stores":
            # locals and saves below sp: sub sp; str rX, [sp, #n]
            regs = sorted(rng.sample(range(4, 12), rng.randrange(1, 4)))
            slots = len(regs) + 1 + rng.randrange(0, 3)
            frame = 4 * slots + (4 * slots) % 8
            self.emit("sub sp, #%d" % frame, ".cfi_def_cfa_offset %d" % frame)
            offs = rng.sample(range(slots), len(regs) + 1)
            saves = list(zip(regs + [14], offs))
            for r, o in saves:
                name = "lr" if r == 14 else "r%d" % r
                self.emit("str%s %s, [sp, #%d]" % (rng.choice(["", ".w"]) if r < 8 else ".w",
                                                   name, 4 * o),
                          ".cfi_offset %s, %d" % (name, 4 * o - frame))
            self.lr_saved = True
            self.writable = ["r%d" % r for r in regs]
            self.locals = 0
            body = rng.randrange(1, 8)
            self.filler(body)
            for r, o in saves:
                name = "lr" if r == 14 else "r%d" % r
                self.emit("ldr%s %s, [sp, #%d]" % ("" if r < 8 else ".w", name, 4 * o),
                          ".cfi_restore %s" % name)
            self.emit("add sp, #%d" % frame, ".cfi_def_cfa_offset 0", "bx lr")
            self.out += ["\t.cfi_endproc", "\t.size %s, .-%s" % (self.name, self.name)]
            return self.out
        # push frames
        regs = sorted(rng.sample(range(4, 12), rng.randrange(0, 5)))
        if kind == "fp" and 7 not in regs:
            regs = sorted(regs + [7])
        with_lr = kind == "fp" or rng.random() < 0.85
        pushed = regs + ([14] if with_lr else [])
        if not pushed:
            pushed = [4]
            regs = [4]
        names = ["lr" if r == 14 else "r%d" % r for r in pushed]
        self.emit("push {%s}" % ", ".join(names))
        n = len(pushed)
        sp = 4 * n
        self.emit(".cfi_def_cfa_offset %d" % sp)
        for i, r in enumerate(pushed):
            self.emit(".cfi_offset %s, %d" % (names[i], -sp + 4 * i))
        self.lr_saved = with_lr
        self.writable = ["r%d" % r for r in regs if r != 7]
        if kind == "fp":
            k = pushed.index(7)
            if k == 0 and rng.random() < 0.5:
                self.emit(rng.choice(["mov r7, sp", "mov.w r7, sp"]))
            else:
                self.emit("add r7, sp, #%d" % (4 * k))
            fp = sp - 4 * k
            self.emit(".cfi_def_cfa r7, %d" % fp)
        if rng.random() < 0.4:
            dregs = rng.randrange(1, 9)
            self.emit("vpush {%s}" % dlist(dregs))
            sp += 8 * dregs
            if not fp:
                self.emit(".cfi_def_cfa_offset %d" % sp)
            for i in range(dregs):
                self.emit(".cfi_offset d%d, %d" % (8 + i, -sp + 8 * i))
        if rng.random() < 0.6:
            self.locals = 8 * rng.choice([1, 2, 3, 8, 40, 200])
            if self.locals <= 508:
                self.emit("sub sp, #%d" % self.locals)
            else:
                self.emit("sub%s sp, sp, #%d" % (rng.choice([".w", "w"]), self.locals))
            sp += self.locals
            if not fp:
                self.emit(".cfi_def_cfa_offset %d" % sp)
        self.filler(rng.randrange(0, 6))
        epilogues = rng.randrange(1, 4)
        labels = [self.newlabel() for _ in range(epilogues - 1)]
        for lab in labels:
            self.emit(rng.choice(["beq", "bne", "bne.w", "bgt"]) + " " + lab)
            self.filler(rng.randrange(0, 3))
        if not self.locals and not dregs and with_lr and rng.random() < 0.5:
            # a conditional return: the state is the same either way
            self.emit("cmp r0, #1", "it ne", "popne {%s}" % ", ".join(names[:-1] + ["pc"]))
            self.filler(rng.randrange(0, 3))
        for i in range(epilogues):
            if i:
                self.out.append(labels[i - 1] + ":")
                self.emit(".cfi_restore_state")
                self.filler(rng.randrange(0, 3))
            if i < epilogues - 1:
                self.emit(".cfi_remember_state")
            self.epilogue(pushed, names, fp, dregs, sp)
        self.out += ["\t.cfi_endproc", "\t.size %s, .-%s" % (self.name, self.name)]
        return self.out

    def epilogue(self, pushed, names, fp, dregs, sp):
        rng = self.rng
        cfa_sp = not fp
        if fp and not dregs and pushed.index(7) == 0 and rng.random() < 0.6:
            self.emit("mov sp, r7", ".cfi_def_cfa_register sp")
            sp = fp
            cfa_sp = True
        elif self.locals:
            if self.locals <= 508 and rng.random() < 0.7:
                self.emit("add sp, #%d" % self.locals)
            else:
                self.emit("add.w sp, sp, #%d" % self.locals)
            sp -= self.locals
            if cfa_sp:
                self.emit(".cfi_def_cfa_offset %d" % sp)
        if dregs and sp == 4 * len(pushed) + 8 * dregs:
            self.emit("vpop {%s}" % dlist(dregs))
            sp -= 8 * dregs
            if cfa_sp:
                self.emit(".cfi_def_cfa_offset %d" % sp)
            for i in range(dregs):
                self.emit(".cfi_restore d%d" % (8 + i))
        if pushed[-1] == 14 and rng.random() < 0.7:
            self.emit("pop {%s}" % ", ".join(names[:-1] + ["pc"]))
            return
        self.emit("pop {%s}" % ", ".join(names))
        self.emit(".cfi_def_cfa sp, 0")
        for nm in names:
            self.emit(".cfi_restore " + nm)
        if rng.random() < 0.3:
            self.emit("b f%d" % rng.randrange(self.nfuncs))
        else:
            self.emit("bx lr")


def gen(rng, debug_frame):
    lines = ["\t.syntax unified", "\t.arch armv7-a", "\t.fpu vfpv3-d16", "\t.thumb", "\t.text"]
    if debug_frame:
        lines.append("\t.cfi_sections .debug_frame")
    n = rng.randrange(2, 7)
    for i in range(n):
        lines += Fn(rng, f"f{i}", n).gen()
    return lines


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{r.stderr}")
    return r.stdout


def ours_text(r):
    k = r["kind"]
    if k in ("offset", "val_offset"):
        return ("c" if k == "offset" else "v") + "%+d" % r["offset"]
    if k == "same_value":
        return "s"
    if k == "undefined":
        return "u"
    if k == "register":
        return r.get("reg_name", "r%d" % r["reg"])
    if k == "reg_offset":
        return "%s%+d" % (r.get("reg_name", "r%d" % r["reg"]), r["offset"])
    return "?" + k


def compare(fdes, js, synthesized):
    """Every address of every FDE: the rows (synthesized or from CFI) against
    readelf's."""
    by_addr = {}
    for r in js:
        if bool(r.get("synthesized")) != synthesized:
            continue
        for x in range(int(r["start"], 16), int(r["end"], 16)):
            by_addr[x] = r
    bad, n = [], 0
    for lo, (end, table) in sorted(fdes.items()):
        for i, (loc, cfa, regs) in enumerate(table):
            nxt = table[i + 1][0] if i + 1 < len(table) else end
            for x in range(loc, nxt):
                n += 1
                ours = by_addr.get(x)
                if ours is None:
                    bad.append(f"0x{x:x}: no row")
                    return n, bad
                got = ours_text(ours["cfa"])
                if got != cfa:
                    bad.append(f"0x{x:x}: CFA {got}, readelf {cfa}")
                    return n, bad
                for name in TRACKED:
                    w = regs.get("ra" if name == "r14" else name, "u")
                    r = ours["regs"].get(name)
                    g = "u" if r is None else ours_text(r)
                    # lr holding the return address: readelf says nothing
                    if name == "r14" and g == "r14":
                        g = "u"
                    if g != w:
                        bad.append(f"0x{x:x}: {name} {g}, readelf {w}")
                        return n, bad
    if not synthesized:
        extra = [r["start"] for r in js if r.get("synthesized")]
        if extra:
            bad.append(f"rows from instructions where CFI covers the code: {extra[:3]}")
    return n, bad


def step_check(fdes, image, stepper):
    """One step at each readelf row's first address, given with the Thumb
    bit, against what its rules give for cfi-step's registers and memory."""
    def mem(x, size):
        return int.from_bytes(bytes(((x + i) * 131 + 7) & 0xff for i in range(size)), "little")

    def inreg(r):
        return 0x10000 * (r + 1) + 0x100

    rows = [(loc, cfa, regs) for _, (_, table) in sorted(fdes.items()) for loc, cfa, regs in table]
    out = run([stepper, image] + ["%x" % (r[0] | 1) for r in rows]).splitlines()
    bad, n = [], 0
    for (loc, cfa, regs), line in zip(rows, out):
        f = line.split()
        if f[1] != "ok":
            bad.append(f"0x{loc:x}: step failed: {line}")
            break
        got = {k: int(v, 16) for k, v in (x.split("=") for x in f[2:])}
        m = re.match(r"r(\d+)([+-]\d+)$", cfa)
        c = (inreg(int(m.group(1))) + int(m.group(2))) & 0xffffffff
        want = {"r13": c}
        for name in TRACKED:
            rule = regs.get("ra" if name == "r14" else name, "u")
            num = int(name[1:])
            size = 8 if num >= 256 else 4
            if rule == "u":
                want[name] = inreg(num)
            elif re.match(r"c[+-]\d+$", rule):
                want[name] = mem((c + int(rule[1:])) & 0xffffffff, size)
        want["r15"] = want["r14"] & ~1
        for name, v in sorted(want.items()):
            n += 1
            if got.get(name) != v:
                g = "%x" % got[name] if name in got else "unknown"
                bad.append(f"0x{loc:x}: stepped {name}={g}, readelf's rules give {v:x}")
                return n, bad
    return n, bad


def main():
    vdsoscope, work, first, last = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    stepper = sys.argv[5] if len(sys.argv) > 5 else None
    built = cfi_n = syn_n = stepped = funcs = 0
    failed = []
    for seed in range(first, last + 1):
        rng = random.Random(seed)
        debug_frame = seed % 3 == 0
        base = f"{work}/arm{seed}"
        lines = gen(rng, debug_frame)
        open(base + ".s", "w").write("\n".join(lines) + "\n")
        run([AS, "-o", base + ".o", base + ".s"])
        run([LD, "-shared", "--hash-style=both", "-o", base + ".so", base + ".o"])
        run([OBJCOPY, "-R", ".eh_frame", "-R", ".eh_frame_hdr", "-R", ".debug_frame",
             base + ".so", base + "-nocfi.so"])
        built += 1
        fdes = parse_frames(base + ".so")
        funcs += len(fdes)
        bad = []
        if parse_frames(base + "-nocfi.so"):
            bad.append("the copy still has CFI")
        for image, synthesized in ((base + ".so", False), (base + "-nocfi.so", True)):
            r = subprocess.run(shlex.split(vdsoscope) + ["cfi", "--file", image, "--json"],
                               capture_output=True, text=True)
            if r.returncode:
                bad.append(f"{image}: {r.stderr.strip()}")
                break
            k, b = compare(fdes, json.loads(r.stdout), synthesized)
            if synthesized:
                syn_n += k
            else:
                cfi_n += k
            bad += [("from instructions: " if synthesized else "from CFI: ") + x for x in b]
            if b:
                break
        if stepper and not bad:
            k, bad = step_check(fdes, base + "-nocfi.so", stepper)
            stepped += k
        if bad:
            failed.append((seed, "debug_frame" if debug_frame else "eh_frame", bad))
    for seed, mode, bad in failed[:10]:
        print(f"seed {seed} ({mode}): " + "; ".join(bad[:3]))
    print(f"{built} objects, {funcs} functions; addresses compared: {cfi_n} from CFI, "
          f"{syn_n} from instructions; {stepped} stepped registers checked; "
          f"{len(failed)} objects differ")
    return 1 if failed or not built else 0


if __name__ == "__main__":
    sys.exit(main())
