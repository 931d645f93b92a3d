#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""initramfs.py DIR OUT: the regular files of DIR (not its subdirectories)
as a newc cpio archive, executable, owned by root, plus /dev."""
import os
import sys


def entry(name, mode, data, ino):
    fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name) + 1, 0]
    head = b"070701" + b"".join(b"%08X" % f for f in fields) + name.encode() + b"\0"
    head += b"\0" * (-len(head) % 4)
    return head + data + b"\0" * (-len(data) % 4)


def main():
    src, out = sys.argv[1], sys.argv[2]
    parts = [entry("dev", 0o40755, b"", 1)]
    for i, name in enumerate(sorted(os.listdir(src))):
        with open(os.path.join(src, name), "rb") as f:
            parts.append(entry(name, 0o100755, f.read(), i + 2))
    parts.append(entry("TRAILER!!!", 0, b"", 0))
    with open(out, "wb") as f:
        f.write(b"".join(parts))


if __name__ == "__main__":
    main()
