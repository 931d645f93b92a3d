#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Reads and rewrites the ELF structures of vDSO images and cores.

  elfmut.py small-core CORE OUT     keep only the notes and the vDSO segment
  elfmut.py bad-images IMAGE DIR    write one damaged copy of IMAGE per entry
                                    of the catalogue into DIR, and DIR/LIST:
                                    "NAME<TAB>expected error (grep -E)"
  elfmut.py core-cuts CORE DIR      CORE truncated at every segment boundary
                                    (and one byte either side) into DIR,
                                    and DIR/LIST as above
"""
import os
import struct
import sys

PT_LOAD, PT_DYNAMIC, PT_NOTE = 1, 2, 4
PT_GNU_EH_FRAME = 0x6474E550
DT = {"NULL": 0, "HASH": 4, "STRTAB": 5, "SYMTAB": 6, "STRSZ": 10, "SYMENT": 11,
      "SONAME": 14, "GNU_HASH": 0x6FFFFEF5, "VERSYM": 0x6FFFFFF0, "VERDEF": 0x6FFFFFFC,
      "VERDEFNUM": 0x6FFFFFFD}
PH64 = [("type", 0, "I"), ("flags", 4, "I"), ("offset", 8, "Q"), ("vaddr", 16, "Q"),
        ("filesz", 32, "Q"), ("memsz", 40, "Q")]
PH32 = [("type", 0, "I"), ("offset", 4, "I"), ("vaddr", 8, "I"), ("filesz", 16, "I"),
        ("memsz", 20, "I"), ("flags", 24, "I")]


class Elf:
    def __init__(self, data):
        self.b = bytearray(data)
        self.is64 = self.b[4] == 2
        self.e = "<" if self.b[5] == 1 else ">"
        self.w = "Q" if self.is64 else "I"
        self.ws = 8 if self.is64 else 4
        if self.is64:
            self.phoff = self.get("Q", 32)
            self.phentsize, self.phnum = struct.unpack_from(self.e + "HH", self.b, 54)
        else:
            self.phoff = self.get("I", 28)
            self.phentsize, self.phnum = struct.unpack_from(self.e + "HH", self.b, 42)

    def get(self, fmt, off):
        return struct.unpack_from(self.e + fmt, self.b, off)[0]

    def put(self, fmt, off, v):
        struct.pack_into(self.e + fmt, self.b, off, v)

    def phdr_at(self, i):
        return self.phoff + i * self.phentsize

    def phdr(self, i):
        p = self.phdr_at(i)
        return {k: self.get(f, p + o) for k, o, f in (PH64 if self.is64 else PH32)}

    def set_phdr(self, i, **kw):
        p = self.phdr_at(i)
        for k, o, f in (PH64 if self.is64 else PH32):
            if k in kw:
                self.put(f, p + o, kw[k])

    def phdrs(self):
        return [self.phdr(i) for i in range(self.phnum)]

    def find_phdr(self, typ):
        for i, p in enumerate(self.phdrs()):
            if p["type"] == typ:
                return i, p
        return None, None

    def addr_to_off(self, addr):
        for p in self.phdrs():
            if p["type"] == PT_LOAD and p["vaddr"] <= addr < p["vaddr"] + p["filesz"]:
                return p["offset"] + addr - p["vaddr"]
        raise ValueError(hex(addr))

    def dyn(self):
        """(file offset of the entry's value, tag, value) of each DT_ entry"""
        _, p = self.find_phdr(PT_DYNAMIC)
        out, off = [], p["offset"]
        while off < p["offset"] + p["filesz"]:
            tag, val = self.get(self.w, off), self.get(self.w, off + self.ws)
            out.append((off + self.ws, tag, val))
            if tag == 0:
                break
            off += 2 * self.ws
        return out

    def dyn_val(self, name):
        for at, tag, val in self.dyn():
            if tag == DT[name]:
                return at, val
        return None, None

    def notes(self):
        """(offset of the note, type, name, desc offset, descsz) of every note"""
        out = []
        for p in self.phdrs():
            if p["type"] != PT_NOTE:
                continue
            q, end = p["offset"], p["offset"] + p["filesz"]
            while q + 12 <= end:
                namesz, descsz, typ = struct.unpack_from(self.e + "III", self.b, q)
                name = bytes(self.b[q + 12:q + 12 + namesz]).rstrip(b"\0")
                desc = q + 12 + ((namesz + 3) & ~3)
                out.append((q, typ, name, desc, descsz))
                q = desc + ((descsz + 3) & ~3)
        return out

    def sysinfo_ehdr(self):
        for q, typ, name, desc, descsz in self.notes():
            if typ == 6 and name == b"CORE":
                for k in range(0, descsz, 2 * self.ws):
                    t, v = struct.unpack_from(self.e + 2 * self.w, self.b, desc + k)
                    if t == 33:
                        return v
        raise SystemExit("no AT_SYSINFO_EHDR in the core")


def small_core(src, dst):
    c = Elf(open(src, "rb").read())
    base = c.sysinfo_ehdr()
    out = bytearray(c.b[:c.phoff + c.phnum * c.phentsize])
    for i, p in enumerate(c.phdrs()):
        keep = p["type"] == PT_NOTE or (p["type"] == PT_LOAD and p["vaddr"] <= base < p["vaddr"] + p["memsz"])
        if p["type"] == PT_LOAD and not keep:
            c.set_phdr(i, offset=0, filesz=0)
        elif keep:
            align = 4096 if p["type"] == PT_LOAD else 4
            out += b"\0" * (-len(out) % align)
            c.set_phdr(i, offset=len(out))
            out += c.b[p["offset"]:p["offset"] + p["filesz"]]
    out[:c.phoff + c.phnum * c.phentsize] = c.b[:c.phoff + c.phnum * c.phentsize]
    open(dst, "wb").write(out)
    return 0


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "small-core" and len(argv) == 4:
        return small_core(argv[2], argv[3])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
