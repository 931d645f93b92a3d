#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A minidump writer for the tests, apart from vdsoscope: it stops a process
inside the vDSO under ptrace (ctypes) and writes what Breakpad's Linux client
would: the MINIDUMP header, a system info stream (Linux, the CPU), a thread
list with ptrace's registers as a CONTEXT_AMD64 or CONTEXT_X86 and the stack
bytes from /proc/PID/mem, a memory list, and a module list of every mapped
file plus the vDSO named linux-gate.so, each with a CodeView 'BpEL' record
carrying its build-id.  Layouts as Breakpad's minidump_format.h and
minidump_cpu_{amd64,x86}.h declare them.

  minidump-write.py image PID OUT
      the [vdso] mapping's bytes into OUT
  minidump-write.py dump PID ENTRY OUTDIR [SONAME]
      attach, single-step until the IP is ENTRY (hex, runtime), write
      OUTDIR/entry.dmp; one more step, OUTDIR/next.dmp; step on through the
      call, and write OUTDIR/deep.dmp at the first stop with the lowest SP
      while the IP is in the vDSO.  Prints "entry IP SP", "next IP SP" and
      "deep IP SP" lines.  With SONAME, also OUTDIR/entry-soname.dmp, whose
      vDSO module is named SONAME, as Crashpad names it.  The process stays
      stopped (the tracer detaches with SIGSTOP).
"""
import ctypes
import os
import signal
import struct
import sys

PTRACE_CONT, PTRACE_SINGLESTEP, PTRACE_GETREGS, PTRACE_ATTACH, PTRACE_DETACH = 7, 9, 12, 16, 17
REGS = ("r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi orig_rax rip cs eflags "
        "rsp ss fs_base gs_base ds es fs gs").split()

libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]
libc.ptrace.restype = ctypes.c_long


def ptrace(req, pid, addr=0, data=0):
    r = libc.ptrace(req, pid, ctypes.c_void_p(addr), ctypes.c_void_p(data))
    if r == -1:
        e = ctypes.get_errno()
        raise OSError(e, "ptrace(%d, %d): %s" % (req, pid, os.strerror(e)))
    return r


def getregs(pid):
    buf = (ctypes.c_uint64 * len(REGS))()
    ptrace(PTRACE_GETREGS, pid, 0, ctypes.addressof(buf))
    return dict(zip(REGS, buf))


def step(pid):
    ptrace(PTRACE_SINGLESTEP, pid)
    _, st = os.waitpid(pid, 0)
    if not os.WIFSTOPPED(st):
        raise SystemExit("minidump-write: pid %d ended while stepping" % pid)
    sig = os.WSTOPSIG(st)
    if sig != signal.SIGTRAP:
        raise SystemExit("minidump-write: pid %d got signal %d while stepping" % (pid, sig))


def maps(pid):
    out = []
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            p = line.split(None, 5)
            lo, hi = (int(x, 16) for x in p[0].split("-"))
            out.append((lo, hi, p[1], int(p[2], 16), p[5].strip() if len(p) > 5 else ""))
    return out


def read_mem(pid, addr, size):
    with open("/proc/%d/mem" % pid, "rb") as f:
        f.seek(addr)
        return f.read(size)


def vdso_range(pid):
    for lo, hi, _, _, name in maps(pid):
        if name == "[vdso]":
            return lo, hi
    raise SystemExit("minidump-write: pid %d has no [vdso]" % pid)


def elf_build_id(data, from_file):
    """The GNU build-id note of ELF bytes: a file (program headers'
    p_offset) or a mapped image (p_vaddr relative to the first PT_LOAD)."""
    if data[:4] != b"\x7fELF":
        return b""
    is64 = data[4] == 2
    if is64:
        phoff, = struct.unpack_from("<Q", data, 32)
        phentsize, phnum = struct.unpack_from("<HH", data, 54)
    else:
        phoff, = struct.unpack_from("<I", data, 28)
        phentsize, phnum = struct.unpack_from("<HH", data, 42)
    phdrs = []
    for i in range(phnum):
        o = phoff + i * phentsize
        if is64:
            t, _, off, vaddr, _, filesz = struct.unpack_from("<IIQQQQ", data, o)
        else:
            t, off, vaddr, _, filesz = struct.unpack_from("<IIIII", data, o)
        phdrs.append((t, off, vaddr, filesz))
    base = min([v for t, _, v, _ in phdrs if t == 1] or [0])
    for t, off, vaddr, filesz in phdrs:
        if t != 4:
            continue
        pos = off if from_file else vaddr - base
        end = pos + filesz
        while pos + 12 <= end:
            nsz, dsz, ntype = struct.unpack_from("<III", data, pos)
            name = data[pos + 12:pos + 12 + nsz]
            desc = pos + 12 + ((nsz + 3) & ~3)
            if ntype == 3 and name.rstrip(b"\0") == b"GNU":
                return data[desc:desc + dsz]
            pos = desc + ((dsz + 3) & ~3)
    return b""


class Minidump:
    def __init__(self):
        self.data = bytearray(32)
        self.streams = []

    def add(self, blob, align=8):
        while len(self.data) % align:
            self.data.append(0)
        rva = len(self.data)
        self.data += blob
        return rva

    def string(self, s):
        u = s.encode("utf-16-le")
        return self.add(struct.pack("<I", len(u)) + u + b"\0\0", 4)

    def stream(self, kind, blob):
        self.streams.append((kind, len(blob), self.add(blob)))

    def finish(self):
        dir_rva = self.add(b"".join(struct.pack("<III", *s) for s in self.streams), 4)
        struct.pack_into("<IIIIIIQ", self.data, 0, 0x504d444d, 0xa793, len(self.streams),
                         dir_rva, 0, 0, 0)
        return bytes(self.data)


def context(regs, bits):
    r = regs
    if bits == 64:
        c = bytearray(1232)
        struct.pack_into("<II", c, 48, 0x100000 | 0x7, 0x1f80)
        struct.pack_into("<HHHHHHI", c, 56, r["cs"], r["ds"], r["es"], r["fs"], r["gs"], r["ss"],
                         r["eflags"])
        struct.pack_into("<16Q", c, 120, *(r[n] for n in
                         "rax rcx rdx rbx rsp rbp rsi rdi r8 r9 r10 r11 r12 r13 r14 r15".split()))
        struct.pack_into("<Q", c, 248, r["rip"])
        return bytes(c)
    c = bytearray(716)
    m = 0xffffffff
    struct.pack_into("<I", c, 0, 0x10000 | 0x7)
    struct.pack_into("<16I", c, 140, r["gs"] & m, r["fs"] & m, r["es"] & m, r["ds"] & m,
                     r["rdi"] & m, r["rsi"] & m, r["rbx"] & m, r["rdx"] & m, r["rcx"] & m,
                     r["rax"] & m, r["rbp"] & m, r["rip"] & m, r["cs"] & m, r["eflags"] & m,
                     r["rsp"] & m, r["ss"] & m)
    return bytes(c)


def write_dump(path, pid, regs, bits, stack_lo, stack, vdso_name="linux-gate.so"):
    md = Minidump()
    # system info: architecture, level, revision, processors, product type,
    # major, minor, build, platform (Linux), CSD string; CPU info zeroed
    csd = md.string("")
    md.stream(7, struct.pack("<HHHBBIIIIIHH", 9 if bits == 64 else 0, 6, 0, 1, 1, 6, 0, 0,
                             0x8201, csd, 0, 0) + bytes(24))
    stack_rva = md.add(stack)
    ctx = context(regs, bits)
    ctx_rva = md.add(ctx)
    mem = struct.pack("<QII", stack_lo, len(stack), stack_rva)
    md.stream(3, struct.pack("<I", 1) + struct.pack("<IIIIQ", pid, 0, 0, 0, 0) + mem +
              struct.pack("<II", len(ctx), ctx_rva))
    md.stream(5, struct.pack("<I", 1) + mem)
    # modules: each mapped file from its offset-0 mapping to its last one,
    # and the vDSO as Breakpad's client names it
    mods = {}
    order = []
    for lo, hi, _, off, name in maps(pid):
        if name == "[vdso]":
            mods[name] = [lo, hi, vdso_name, elf_build_id(read_mem(pid, lo, hi - lo), False)]
            order.append(name)
        elif name.startswith("/") and os.path.isfile(name):
            if name not in mods and off == 0:
                with open(name, "rb") as f:
                    head = f.read(1 << 20)
                mods[name] = [lo, hi, name, elf_build_id(head, True)]
                order.append(name)
            elif name in mods:
                mods[name][1] = max(mods[name][1], hi)
    entries = b""
    for key in order:
        lo, hi, name, bid = mods[key]
        name_rva = md.string(name)
        cv = struct.pack("<I", 0x4270454c) + bid
        cv_rva = md.add(cv, 4)
        entries += (struct.pack("<QIIII", lo, hi - lo, 0, 0, name_rva) + bytes(52) +
                    struct.pack("<II", len(cv), cv_rva) + bytes(8) + bytes(16))
    md.stream(4, struct.pack("<I", len(order)) + entries)
    with open(path, "wb") as f:
        f.write(md.finish())


def snapshot(pid, regs):
    sp = regs["rsp"]
    for lo, hi, _, _, _ in maps(pid):
        if lo <= sp < hi:
            start = max(lo, (sp - 256) & ~15)
            end = min(hi, sp + 64 * 1024)
            return regs, start, read_mem(pid, start, end - start)
    raise SystemExit("minidump-write: SP 0x%x is in no mapping" % sp)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "image":
        pid = int(sys.argv[2])
        lo, hi = vdso_range(pid)
        with open(sys.argv[3], "wb") as f:
            f.write(read_mem(pid, lo, hi - lo))
        return
    if len(sys.argv) not in (5, 6) or sys.argv[1] != "dump":
        raise SystemExit(__doc__)
    pid, entry, outdir = int(sys.argv[2]), int(sys.argv[3], 16), sys.argv[4]
    with open("/proc/%d/exe" % pid, "rb") as f:
        bits = 64 if f.read(5)[4] == 2 else 32
    lo, hi = vdso_range(pid)
    ptrace(PTRACE_ATTACH, pid)
    _, st = os.waitpid(pid, 0)
    if not os.WIFSTOPPED(st):
        raise SystemExit("minidump-write: pid %d did not stop" % pid)
    regs = getregs(pid)
    for _ in range(1000000):
        if regs["rip"] == entry:
            break
        step(pid)
        regs = getregs(pid)
    else:
        raise SystemExit("minidump-write: the IP never reached 0x%x" % entry)
    snap = snapshot(pid, regs)
    write_dump(os.path.join(outdir, "entry.dmp"), pid, snap[0], bits, snap[1], snap[2])
    if len(sys.argv) == 6:
        write_dump(os.path.join(outdir, "entry-soname.dmp"), pid, snap[0], bits, snap[1],
                   snap[2], sys.argv[5])
    print("entry 0x%x 0x%x" % (regs["rip"], regs["rsp"]))
    deep = None
    for n in range(100000):
        step(pid)
        regs = getregs(pid)
        if not lo <= regs["rip"] < hi:
            break
        if n == 0:
            snap = snapshot(pid, regs)
            write_dump(os.path.join(outdir, "next.dmp"), pid, snap[0], bits, snap[1], snap[2])
            print("next 0x%x 0x%x" % (regs["rip"], regs["rsp"]))
        if deep is None or regs["rsp"] < deep[0]["rsp"]:
            deep = snapshot(pid, regs)
    if deep is None:
        raise SystemExit("minidump-write: no step inside the vDSO after the entry")
    write_dump(os.path.join(outdir, "deep.dmp"), pid, deep[0], bits, deep[1], deep[2])
    print("deep 0x%x 0x%x" % (deep[0]["rip"], deep[0]["rsp"]))
    ptrace(PTRACE_DETACH, pid, 0, signal.SIGSTOP)


if __name__ == "__main__":
    main()
