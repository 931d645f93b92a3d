#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""check.py DIR...: checks what tests/qemu/arm64.sh brought back, without
vdsoscope: each DIR (nopac, pac) holds vdso64.so, vdso32.so, the children,
ARCH.CALL.trace, ARCH.CALL.kK.core and .stack, summary.txt.

  - the vDSO images are ELF for AArch64 and ARM;
  - every trace has its header, S lines of the right width, at least one
    step inside the vDSO (or [sigpage]), and every vDSO step is in the
    image's executable segment; pac_mask is zero without PAC, not with it;
  - every core is a core for its machine (readelf -h), has NT_PRSTATUS
    (readelf -n), a PC inside the vDSO (AT_SYSINFO_EHDR of its NT_AUXV)
    or [sigpage], and the PC its .stack file starts with; the stack ends
    in main.
Prints the distinct vDSO instruction addresses the traces cover per vDSO
function.  Exits 1 on any failure."""
import os
import re
import shutil
import struct
import subprocess
import sys

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg)


class Elf:
    def __init__(self, data):
        if data[:4] != b"\x7fELF":
            raise ValueError("not ELF")
        self.data = data
        self.c64 = data[4] == 2
        if self.c64:
            (self.type, self.machine, _, _, self.phoff, self.shoff, _, _, self.phentsize,
             self.phnum, self.shentsize, self.shnum, self.shstrndx) = struct.unpack_from(
                "<HHIQQQIHHHHHH", data, 16)
        else:
            (self.type, self.machine, _, _, self.phoff, self.shoff, _, _, self.phentsize,
             self.phnum, self.shentsize, self.shnum, self.shstrndx) = struct.unpack_from(
                "<HHIIIIIHHHHHH", data, 16)

    def phdrs(self):
        for i in range(self.phnum):
            off = self.phoff + i * self.phentsize
            if self.c64:
                t, fl, o, va, _, fs, ms, _ = struct.unpack_from("<IIQQQQQQ", self.data, off)
            else:
                t, o, va, _, fs, ms, fl, _ = struct.unpack_from("<IIIIIIII", self.data, off)
            yield t, fl, o, va, fs, ms

    def notes(self):
        for t, _, o, _, fs, _ in self.phdrs():
            if t != 4:
                continue
            p, end = o, o + fs
            while p + 12 <= end:
                namesz, descsz, ntype = struct.unpack_from("<III", self.data, p)
                p += 12 + (namesz + 3) // 4 * 4
                yield ntype, self.data[p:p + descsz]
                p += (descsz + 3) // 4 * 4

    def funcs(self):
        """(start, end, name) of the dynamic symbols"""
        secs = []
        for i in range(self.shnum):
            off = self.shoff + i * self.shentsize
            if self.c64:
                _, st, _, _, so, ss, link, _, _, _ = struct.unpack_from("<IIQQQQIIQQ", self.data, off)
            else:
                _, st, _, _, so, ss, link, _, _, _ = struct.unpack_from("<IIIIIIIIII", self.data, off)
            secs.append((st, so, ss, link))
        out = []
        for st, so, ss, link in secs:
            if st != 11:
                continue
            stroff = secs[link][1]
            ent = 24 if self.c64 else 16
            for j in range(ss // ent):
                if self.c64:
                    name, info, _, shndx, val, size = struct.unpack_from("<IBBHQQ", self.data, so + j * ent)
                else:
                    name, val, size, info, _, shndx = struct.unpack_from("<IIIBBH", self.data, so + j * ent)
                if shndx and name and info & 15 in (0, 2):
                    n = self.data[stroff + name:self.data.index(b"\0", stroff + name)].decode()
                    out.append((val & ~1, (val & ~1) + max(size, 4), n))
        return sorted(out)


def readelf(args, path):
    if not shutil.which("readelf"):
        return None
    return subprocess.run(["readelf"] + args + [path], capture_output=True, text=True).stdout


def check_dir(d, pac):
    images = {}
    for name, arch, machine in (("vdso64.so", "aarch64", 183), ("vdso32.so", "arm", 40)):
        path = os.path.join(d, name)
        try:
            e = Elf(open(path, "rb").read())
        except (OSError, ValueError) as err:
            fail("%s: %s" % (path, err))
            continue
        if e.machine != machine or e.type != 3:
            fail("%s: machine %d type %d" % (path, e.machine, e.type))
        text = [(va, va + ms) for t, fl, _, va, _, ms in e.phdrs() if t == 1 and fl & 1]
        images[arch] = (e, text, e.funcs())

    cover = {}
    ntraces = nsteps = 0
    for name in sorted(os.listdir(d)):
        if not name.endswith(".trace"):
            continue
        path = os.path.join(d, name)
        head = {}
        steps = []
        for line in open(path):
            if line.startswith("# "):
                k, _, v = line[2:].strip().partition(" ")
                head.setdefault(k, v)
            elif line.startswith("S "):
                steps.append(line.split())
        arch = head.get("arch")
        if arch not in images or "vdso" not in head or "call" not in head:
            fail("%s: header %r" % (name, head))
            continue
        e, text, funcs = images[arch]
        width = 1 + 3 + (31 if arch == "aarch64" else 16) + 8
        if any(len(s) != width for s in steps):
            fail("%s: S lines not %d fields wide" % (name, width))
            continue
        if arch == "aarch64":
            mask = [int(x, 16) for x in head.get("pac_mask", "").split()]
            if len(mask) != 2 or (any(mask) != pac):
                fail("%s: pac_mask %s %s pointer authentication" % (name, head.get("pac_mask"),
                                                                    "with" if pac else "without"))
        load, size = (int(x, 16) for x in head["vdso"].split())
        sp = [int(x, 16) for x in head.get("sigpage", "0 0").split()]
        inside = 0
        for s in steps:
            pc = int(s[1], 16)
            if load <= pc < load + size:
                off = pc - load
                if off >= len(e.data) or not any(lo <= off < hi for lo, hi in text):
                    fail("%s: step at %x is outside the vDSO's code" % (name, pc))
                    break
                inside += 1
                fn = next((n for lo, hi, n in funcs if lo <= off < hi), "?")
                cover.setdefault((arch, fn), set()).add(off)
            elif sp[0] <= pc < sp[0] + sp[1]:
                inside += 1
        if not inside:
            fail("%s: no step inside the vDSO" % name)
        ntraces += 1
        nsteps += len(steps)

    ncores = 0
    for name in sorted(os.listdir(d)):
        if not name.endswith(".core"):
            continue
        path = os.path.join(d, name)
        arch = name.split(".")[0]
        machine = "AArch64" if arch == "aarch64" else "ARM"
        h = readelf(["-h"], path)
        if h is not None and not re.search(r"Type:\s+CORE.*\n(.*\n)*\s*Machine:\s+%s\s*$" % machine, h, re.M):
            fail("%s: readelf -h does not say CORE %s" % (name, machine))
        n = readelf(["-n"], path)
        if n is not None and "NT_PRSTATUS" not in n:
            fail("%s: readelf -n shows no NT_PRSTATUS" % name)
        e = Elf(open(path, "rb").read())
        pc = base = None
        for t, desc in e.notes():
            if t == 1 and pc is None:
                pc = struct.unpack_from("<Q", desc, 368)[0] if e.c64 else struct.unpack_from("<I", desc, 132)[0]
            elif t == 6:
                fmt = "<QQ" if e.c64 else "<II"
                for i in range(0, len(desc) - struct.calcsize(fmt) + 1, struct.calcsize(fmt)):
                    k, v = struct.unpack_from(fmt, desc, i)
                    if k == 33:
                        base = v
        stack = [l.split() for l in open(path[:-5] + ".stack")]
        if pc is None or base is None:
            fail("%s: no NT_PRSTATUS or no AT_SYSINFO_EHDR" % name)
            continue
        vsize = len(images[arch][0].data) if arch in images else 0
        if not base <= pc < base + vsize and stack[0][1:] != ["[sigpage]"]:
            fail("%s: PC %x is not in the vDSO at %x" % (name, pc, base))
        if int(stack[0][0], 16) != pc & ~1:
            fail("%s: PC %x, the stack file says %s" % (name, pc, stack[0][0]))
        if stack[-1][1:2] != ["main"]:
            fail("%s: the stack file ends in %s, not main" % (name, " ".join(stack[-1])))
        ncores += 1

    print("%s: %d traces (%d steps), %d cores" % (d, ntraces, nsteps, ncores))
    for (arch, fn), offs in sorted(cover.items()):
        print("  %-7s %-28s %4d distinct vDSO addresses" % (arch, fn, len(offs)))
    if not ntraces or not ncores:
        fail("%s: no traces or no cores" % d)


def main():
    for d in sys.argv[1:]:
        check_dir(d, os.path.basename(os.path.normpath(d)) == "pac")
    print("%d failures" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
