# SPDX-License-Identifier: LGPL-2.1-or-later
"""readelf --debug-dump=frames-interp as data, for the tests that compare
the library's rows with it."""
import re
import subprocess

# a register rule reads "r12 (r12)": one token
TOKEN = re.compile(r"\S+ \(\S+\)|\S+")


def parse_frames(image):
    """{fde_start: (end, [(loc, cfa, {column: rule})])}"""
    out = subprocess.run(["readelf", "-W", "--debug-dump=frames-interp", image],
                         capture_output=True, text=True, check=True).stdout
    fdes, cur, cols = {}, None, None
    for line in out.splitlines():
        m = re.match(r"[0-9a-f]+ [0-9a-f]+ [0-9a-f]+ FDE cie=[0-9a-f]+ pc=([0-9a-f]+)\.\.([0-9a-f]+)", line)
        if m:
            cur = int(m.group(1), 16)
            fdes[cur] = (int(m.group(2), 16), [])
            cols = None
            continue
        if re.match(r"[0-9a-f]+ ([0-9a-f]+ [0-9a-f]+ CIE|ZERO terminator)", line):
            cur = None
            continue
        if cur is None:
            continue
        if line.strip().startswith("LOC"):
            cols = line.split()[1:]
            continue
        m = re.match(r"([0-9a-f]+)\s+(.*)", line)
        if m and cols:
            vals = TOKEN.findall(m.group(2))
            if len(vals) != len(cols):
                raise SystemExit(f"{image}: cannot read readelf's row: {line!r}")
            # a register rule is "r12 (r12)" here: keep the name
            vals = [re.sub(r"^\S+ \((\S+)\)$", r"\1", v) for v in vals]
            row = dict(zip(cols, vals))
            fdes[cur][1].append((int(m.group(1), 16), row.pop("CFA"), row))
    return fdes
