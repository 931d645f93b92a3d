#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Reads and rewrites the ELF structures of vDSO images and cores.

  elfmut.py small-core CORE OUT     keep only the notes and the vDSO segment
  elfmut.py bad-images IMAGE DIR    write one damaged copy of IMAGE per entry
                                    of the catalogue into DIR, and DIR/LIST:
                                    "NAME<TAB>expected error (grep -E)"
  elfmut.py core-cuts CORE          offsets of every segment boundary in CORE
  elfmut.py no-eh-frame-hdr IMAGE OUT
                                    PT_GNU_EH_FRAME made PT_NULL: the CFI is
                                    left in .eh_frame, found by section only
  elfmut.py wrap-eh-frame IMAGE BLOB ADDR EHOFF OUT
                                    an ELF file of IMAGE's class, byte order
                                    and machine whose .eh_frame_hdr at ADDR
                                    is BLOB's first EHOFF bytes and whose
                                    .eh_frame the rest (for readelf)
  elfmut.py debug-frame-only IMAGE OUT
                                    .eh_frame rewritten as .debug_frame (no
                                    augmentation, absolute addresses) where
                                    .eh_frame_hdr and .eh_frame were; those
                                    two and PT_GNU_EH_FRAME gone
"""
import os
import struct
import sys

PT_NULL, PT_LOAD, PT_DYNAMIC, PT_NOTE = 0, 1, 2, 4
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


def leb(b, p, signed=False):
    """the LEB128 number at B[P] and the offset after it"""
    v = shift = 0
    while True:
        x = b[p]; p += 1
        v |= (x & 0x7F) << shift; shift += 7
        if not x & 0x80:
            return (v - (1 << shift) if signed and x & 0x40 else v), p


def uleb(b, p):
    return leb(b, p)


def eh_entries(img):
    """(offset, length, is_cie, id field offset, instructions start, end) of .eh_frame"""
    _, hdr = img.find_phdr(PT_GNU_EH_FRAME)
    enc_ptr = hdr["offset"] + 4
    frame = enc_ptr + img.get("i", enc_ptr)  # eh_frame_ptr, pcrel sdata4
    out, q = [], frame
    while q + 4 <= len(img.b):
        n = img.get("I", q)
        if n == 0:
            break
        idf = q + 4
        cid = img.get("I", idf)
        start = None
        if cid == 0:
            p = idf + 5
            aug = bytes(img.b[p:img.b.index(0, p)]); p += len(aug) + 1
            _, p = uleb(img.b, p); _, p = uleb(img.b, p); _, p = uleb(img.b, p)
            if aug.startswith(b"z"):
                alen, p = uleb(img.b, p); p += alen
            start = p
        out.append((q, n, cid == 0, idf, start, q + 4 + n, cid))
        q += 4 + n
    return out


def bad_images(src, outdir):
    base = open(src, "rb").read()
    os.makedirs(outdir, exist_ok=True)
    cat = []

    def emit(name, expect, f):
        img = Elf(base)
        if f(img) is False:
            return
        open(os.path.join(outdir, name), "wb").write(img.b)
        cat.append((name, expect))

    def b(off, val):
        return lambda i: i.b.__setitem__(slice(off, off + len(val)), val)

    emit("not-elf", "no ELF magic", b(0, b"\x7fELG"))
    emit("bad-class", "ELF class or data byte", b(4, b"\x03"))
    emit("bad-byte-order", "ELF class or data byte", b(5, b"\x07"))
    emit("swapped-byte-order", "VDSOSCOPE|invalid|truncated|past the end|program headers",
         b(5, b"\x02" if base[5] == 1 else b"\x01"))

    def phoff_end(i):
        i.put(i.w, 32 if i.is64 else 28, len(i.b) - 8)
    emit("phdrs-past-end", "headers point past the end", phoff_end)

    def phnum_huge(i):
        i.put("H", 56 if i.is64 else 44, 0xFFFF)
    emit("phnum-65535", "program headers are invalid", phnum_huge)

    def load_idx(i):
        return [k for k, p in enumerate(i.phdrs()) if p["type"] == PT_LOAD][0]

    def load_past_end(i):
        i.set_phdr(load_idx(i), filesz=len(i.b) * 16, memsz=len(i.b) * 16)
    emit("load-past-end", "headers point past the end", load_past_end)

    def load_2g(i):
        i.set_phdr(load_idx(i), filesz=0x80000000, memsz=0x80000000)
    emit("load-2GiB", "headers point past the end", load_2g)

    def load_wraps(i):
        i.set_phdr(load_idx(i), offset=(1 << (64 if i.is64 else 32)) - 16)
    emit("load-offset-wraps", "program headers are invalid|past the end", load_wraps)

    def overlap(i):
        k, _ = i.find_phdr(PT_NOTE)
        p = i.phdr(load_idx(i))
        i.set_phdr(k, type=PT_LOAD, offset=p["offset"] + 64, vaddr=p["vaddr"] + 32,
                   filesz=p["filesz"] - 64, memsz=p["filesz"] - 64, flags=5)
    emit("overlapping-loads", "OPENS", overlap)

    def dyn(name, val):
        def f(i):
            at, _ = i.dyn_val(name)
            if at is None:
                return False
            i.put(i.w, at, val)
        return f
    emit("strtab-outside", "a dynamic pointer lies outside the image", dyn("STRTAB", 0x7FFFFFF0))
    emit("symtab-outside", "a dynamic pointer lies outside the image", dyn("SYMTAB", 0x7FFFFFF0))
    emit("strsz-2GiB", "a dynamic pointer lies outside the image", dyn("STRSZ", 0x80000000))
    emit("hash-outside", "symbol hash table is invalid", dyn("HASH", 0x7FFFFFF0))
    emit("verdef-outside", "symbol version tables are invalid", dyn("VERDEF", 0x7FFFFFF0))

    def unterminated(i):
        at, strsz = i.dyn_val("STRSZ")
        _, strtab = i.dyn_val("STRTAB")
        so = i.addr_to_off(strtab)
        # the string table ends inside its last name: no NUL after it
        last = i.b.rindex(0, so, so + strsz - 1)
        i.put(i.w, at, last + 2 - so)
    emit("names-without-nul", "OPENS|without its NUL", unterminated)

    def gnu_chain_endless(i):
        _, g = i.dyn_val("GNU_HASH")
        go = i.addr_to_off(g)
        nb, symoff, bloom = i.get("I", go), i.get("I", go + 4), i.get("I", go + 8)
        chains = go + 16 + bloom * i.ws + 4 * nb
        # no chain entry ends: clear every terminating bit up to the end
        _, st = i.dyn_val("SYMTAB")
        q, stop = chains, i.addr_to_off(st)
        if stop < chains:
            stop = chains + 4 * 64
        while q + 4 <= stop:
            i.put("I", q, i.get("I", q) & ~1)
            q += 4
        # and drop DT_HASH so only DT_GNU_HASH counts the symbols
        for at, tag, val in i.dyn():
            if tag == DT["HASH"]:
                i.put(i.w, at - i.ws, 0x6FFFFEF4)
    emit("gnu-hash-chain-endless", "OPENS|symbol hash table is invalid|symbol table is invalid", gnu_chain_endless)

    def verdef_back(i):
        _, v = i.dyn_val("VERDEF")
        vo = i.addr_to_off(v)
        i.put("I", vo + 16, 0xFFFFFFEC)  # vd_next = -20: back to itself
    emit("verdef-chain-back", "symbol version tables are invalid", verdef_back)

    def verdef_self(i):
        _, v = i.dyn_val("VERDEF")
        vo = i.addr_to_off(v)
        nxt = i.get("I", vo + 16)
        i.put("I", vo + nxt + 16, 0xFFFFFFFF - nxt + 1)  # second points to the first
    emit("verdef-chain-loop", "OPENS|symbol version tables are invalid", verdef_self)

    ents = eh_entries(Elf(base))
    fdes = [e for e in ents if not e[2]]

    def fde_len(i):
        i.put("I", fdes[0][0], 0x7FFFFFF0)
    emit("fde-length-past-end", "CFI:CFI unusable", fde_len)

    def cie_len(i):
        c = [e for e in ents if e[2]][0]
        i.put("I", c[0], len(i.b) * 4)
    emit("cie-length-past-end", "CFI:CFI unusable", cie_len)

    def fde_no_cie(i):
        q, n, _, idf, _, _, cid = fdes[0]
        i.put("I", idf, cid + 8)  # points into the middle of something
    emit("fde-missing-cie", "CFI:CFI unusable: .*(no CIE|CIE)", fde_no_cie)

    def fde_cie_outside(i):
        i.put("I", fdes[0][3], 0x7FFFFFF0)
    emit("fde-cie-outside", "CFI:CFI unusable", fde_cie_outside)

    def prog(fill):
        def f(i):
            # the first FDE swallows every entry after it, so that its
            # program has room: cie pointer, pc begin, pc range (sdata4),
            # augmentation length 0, then the instructions
            q, n, _, idf, _, _, _ = fdes[0]
            end = ents[-1][5]
            i.put("I", q, end - q - 4)
            start = idf + 4 + 8 + 1
            i.b[start:end] = fill(end - start)
        return f
    emit("remember-too-deep", "CFI:remember_state nested deeper than 64",
         prog(lambda k: b"\x0a" * k))
    emit("cfa-register-huge", "CFI:register [0-9]+ is beyond any architecture",
         prog(lambda k: b"\x0d\xff\xff\xff\x7f" + b"\0" * (k - 5)))
    emit("advance-loc-zero-rows", "OPENS",
         prog(lambda k: b"\x0e\x10\x40" * (k // 3) + b"\0" * (k % 3)))
    with open(os.path.join(outdir, "LIST"), "w") as f:
        for name, expect in cat:
            f.write(f"{name}\t{expect}\n")
    return 0



def sections(img):
    """(offset of the header, name, type, flags, addr, offset, size) of every section"""
    if img.is64:
        shoff = img.get("Q", 40)
        shentsize, shnum, shstrndx = struct.unpack_from(img.e + "HHH", img.b, 58)
        fields = [("name", 0, "I"), ("type", 4, "I"), ("flags", 8, "Q"), ("addr", 16, "Q"),
                  ("offset", 24, "Q"), ("size", 32, "Q")]
    else:
        shoff = img.get("I", 32)
        shentsize, shnum, shstrndx = struct.unpack_from(img.e + "HHH", img.b, 46)
        fields = [("name", 0, "I"), ("type", 4, "I"), ("flags", 8, "I"), ("addr", 12, "I"),
                  ("offset", 16, "I"), ("size", 20, "I")]
    hdrs = []
    for i in range(shnum):
        at = shoff + i * shentsize
        hdrs.append(dict({k: img.get(f, at + o) for k, o, f in fields}, at=at, fields=fields))
    strtab = hdrs[shstrndx]["offset"]
    for h in hdrs:
        end = img.b.index(0, strtab + h["name"])
        h["sname"] = bytes(img.b[strtab + h["name"]:end]).decode()
    return hdrs, strtab


def set_section(img, h, **kw):
    for k, o, f in h["fields"]:
        if k in kw:
            img.put(f, h["at"] + o, kw[k])


def no_eh_frame_hdr(src, dst):
    img = Elf(open(src, "rb").read())
    k, _ = img.find_phdr(PT_GNU_EH_FRAME)
    if k is None:
        raise SystemExit(f"{src}: no PT_GNU_EH_FRAME")
    img.set_phdr(k, type=PT_NULL)
    open(dst, "wb").write(img.b)
    return 0


def enc_uleb(v):
    out = bytearray()
    while True:
        x = v & 0x7F; v >>= 7
        out.append(x | (0x80 if v else 0))
        if not v:
            return bytes(out)


def enc_sleb(v):
    out = bytearray()
    while True:
        x = v & 0x7F; v >>= 7
        if (v == 0 and not x & 0x40) or (v == -1 and x & 0x40):
            out.append(x)
            return bytes(out)
        out.append(x | 0x80)


def debug_frame_only(src, dst):
    """Each CIE and FDE of .eh_frame again in .debug_frame's form: CIE id
    0xffffffff, no augmentation, FDE addresses absolute and CIE pointers
    offsets from the section's start; the instructions unchanged.  Handles
    the encodings the kernel's images use ("zR", pcrel|sdata4)."""
    img = Elf(open(src, "rb").read())
    e, w = img.e, img.ws
    hdrs, strtab = sections(img)
    by = {h["sname"]: h for h in hdrs}
    hdr, eh = by[".eh_frame_hdr"], by[".eh_frame"]
    out, cie_at = bytearray(), {}
    q, end = eh["offset"], eh["offset"] + eh["size"]
    while q + 4 <= end:
        n = img.get("I", q)
        if n == 0:
            break
        body = q + 4
        cid = img.get("I", body)
        if cid == 0:
            p = body + 5
            aug = bytes(img.b[p:img.b.index(0, p)]); p += len(aug) + 1
            if aug not in (b"zR", b"zRS") or img.b[body + 4] != 1:
                raise SystemExit(f"CIE at 0x{q:x}: augmentation {aug!r} not handled")
            code, p = uleb(img.b, p)
            data, p = leb(img.b, p, signed=True)
            ra = img.b[p]; p += 1
            alen, p = uleb(img.b, p)
            if img.b[p] != 0x1B:
                raise SystemExit(f"CIE at 0x{q:x}: FDE encoding 0x{img.b[p]:x} not handled")
            p += alen
            new = (struct.pack(e + "IB", 0xFFFFFFFF, 1) + b"\0" + enc_uleb(code) +
                   enc_sleb(data) + bytes([ra]) + bytes(img.b[p:body + n]))
            cie_at[q] = len(out)
        else:
            cie = body - cid
            if cie not in cie_at:
                raise SystemExit(f"FDE at 0x{q:x}: no CIE before it")
            pc = body + 4 + img.get("i", body + 4) + eh["addr"] - eh["offset"]
            rng = img.get("I", body + 8)
            alen, p = uleb(img.b, body + 12)
            p += alen
            new = (struct.pack(e + "I", cie_at[cie]) + struct.pack(e + img.w, pc) +
                   struct.pack(e + img.w, rng) + bytes(img.b[p:body + n]))
        new += b"\0" * (-len(new) % w)
        out += struct.pack(e + "I", len(new)) + new
        q = body + n
    start = hdr["offset"]
    room = eh["offset"] + eh["size"] - start
    if len(out) > room:
        raise SystemExit(f".debug_frame needs {len(out)} bytes, {room} are free")
    img.b[start:start + room] = out + b"\0" * (room - len(out))
    # .debug_frame's name where .eh_frame_hdr's was (it is longer than
    # .eh_frame's); .eh_frame_hdr's header becomes an empty SHT_NULL
    name = hdr["name"]
    if len(".debug_frame") > len(hdr["sname"]):
        raise SystemExit("no room for the name")
    img.b[strtab + name:strtab + name + len(hdr["sname"])] = \
        b".debug_frame".ljust(len(hdr["sname"]), b"\0")
    set_section(img, eh, name=name, type=1, flags=0, addr=0, offset=start, size=len(out))
    set_section(img, hdr, name=0, type=0, flags=0, addr=0, offset=0, size=0)
    k, _ = img.find_phdr(PT_GNU_EH_FRAME)
    if k is not None:
        img.set_phdr(k, type=PT_NULL)
    open(dst, "wb").write(img.b)
    return 0


def wrap_eh_frame(src, blob, addr, ehoff, dst):
    img = Elf(open(src, "rb").read())
    data = open(blob, "rb").read()
    e, w = img.e, img.w
    names = b"\0.eh_frame_hdr\0.eh_frame\0.shstrtab\0"
    ehsize = 64 if img.is64 else 52
    shentsize = 64 if img.is64 else 40
    body = bytearray(img.b[:16])
    body += b"\0" * (ehsize - 16)
    hdr_off = ehsize
    eh_off = hdr_off + ehoff
    str_off = hdr_off + len(data)
    shoff = (str_off + len(names) + 7) & ~7
    out = body + data + names
    out += b"\0" * (shoff - len(out))
    machine = struct.unpack_from(e + "H", img.b, 18)[0]

    def sh(name, typ, flags, a, off, size, align):
        if img.is64:
            return struct.pack(e + "IIQQQQIIQQ", name, typ, flags, a, off, size, 0, 0, align, 0)
        return struct.pack(e + "IIIIIIIIII", name, typ, flags, a, off, size, 0, 0, align, 0)
    out += sh(0, 0, 0, 0, 0, 0, 0)
    out += sh(1, 1, 2, addr, hdr_off, ehoff, 4)
    out += sh(15, 1, 2, addr + ehoff, eh_off, len(data) - ehoff, 8)
    out += sh(25, 3, 0, 0, str_off, len(names), 1)
    if img.is64:
        struct.pack_into(e + "HHIQQQIHHHHHH", out, 16, 3, machine, 1, 0, 0, shoff, 0, ehsize,
                         0, 0, shentsize, 4, 3)
    else:
        struct.pack_into(e + "HHIIIIIHHHHHH", out, 16, 3, machine, 1, 0, 0, shoff, 0, ehsize,
                         0, 0, shentsize, 4, 3)
    open(dst, "wb").write(out)
    return 0


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "small-core" and len(argv) == 4:
        return small_core(argv[2], argv[3])
    if cmd == "bad-images" and len(argv) == 4:
        return bad_images(argv[2], argv[3])
    if cmd == "no-eh-frame-hdr" and len(argv) == 4:
        return no_eh_frame_hdr(argv[2], argv[3])
    if cmd == "wrap-eh-frame" and len(argv) == 7:
        return wrap_eh_frame(argv[2], argv[3], int(argv[4], 0), int(argv[5], 0), argv[6])
    if cmd == "debug-frame-only" and len(argv) == 4:
        return debug_frame_only(argv[2], argv[3])
    if cmd == "core-cuts" and len(argv) == 3:
        c = Elf(open(argv[2], "rb").read())
        cuts = {c.phoff, c.phoff + c.phnum * c.phentsize, 16, 64 if c.is64 else 52}
        for p in c.phdrs():
            if p["filesz"]:
                cuts |= {p["offset"], p["offset"] + p["filesz"]}
        for x in sorted(cuts):
            for d in (-1, 0, 1):
                if 0 <= x + d < len(c.b):
                    print(x + d)
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
