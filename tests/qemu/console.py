#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""console.py LOG DIR: writes the files the guest's tracer sent over the
serial console (=== BEGIN NAME SIZE CRC32 ... === END NAME, base64 lines
and "Z COUNT" runs of zeros) into DIR.  Exits 1 unless the log ends with
=== DONE and every file arrived whole."""
import base64
import os
import sys
import zlib


def main():
    log, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    with open(log, "rb") as f:
        lines = f.read().decode("latin-1").replace("\r", "").split("\n")
    cur = None
    done = None
    bad = []
    wrote = 0
    for line in lines:
        if line.startswith("=== BEGIN "):
            _, _, name, size, crc = line.split()
            cur = (name, int(size), int(crc, 16), bytearray())
        elif line.startswith("=== END ") and cur:
            name, size, crc, data = cur
            if "/" in name or len(data) != size or zlib.crc32(bytes(data)) != crc:
                bad.append(name)
            else:
                with open(os.path.join(out, name), "wb") as f:
                    f.write(data)
                wrote += 1
            cur = None
        elif line.startswith("=== DONE"):
            done = line
        elif cur is not None:
            if line.startswith("Z "):
                cur[3].extend(bytes(int(line[2:])))
            elif line:
                try:
                    cur[3].extend(base64.b64decode(line, validate=True))
                except ValueError:
                    bad.append(cur[0] + " (line: %r)" % line[:60])
                    cur = None
    if bad:
        print("console.py: damaged on the console: " + ", ".join(bad), file=sys.stderr)
    if not done:
        print("console.py: the guest did not finish sending (no === DONE)", file=sys.stderr)
    if bad or not done:
        return 1
    print("%d files into %s" % (wrote, out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
