#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""native-check.py DIR: judges what tests/qemu/native.sh brought back from
one boot (DIR/summary.txt and NAME.out files).  One line per check,
"ok ..." or "bad ..."; exit 1 when any is bad."""
import glob
import json
import os
import sys

CHAIN = ["invoke", "level2", "level1", "main"]
VDSO_FUNCS = {"gettime": "__kernel_clock_gettime", "getres": "__kernel_clock_getres",
              "gtod": "__kernel_gettimeofday"}


def main():
    d = sys.argv[1]
    bad = 0

    def say(ok, msg):
        nonlocal bad
        print(("ok   " if ok else "bad  ") + msg)
        bad += not ok

    status = {}
    for line in open(os.path.join(d, "summary.txt")):
        w = line.split()
        if w and not line.startswith("#"):
            status[w[0]] = w[1]

    def load(name):
        if status.get(name) != "0":
            say(False, f"{name}: exit {status.get(name, 'not run')}: "
                + open(os.path.join(d, name + ".err")).read()[:300].strip()
                if os.path.exists(os.path.join(d, name + ".err")) else f"{name}: not run")
            return None
        return json.load(open(os.path.join(d, name + ".out")))

    info = load("info")
    if info:
        say(info["machine"] == "aarch64" and info["functions"] > 0,
            f"info: machine {info['machine']}, {info['functions']} functions, build-id {info['build_id']}")
    # the library's calls on the guest process's own vDSO, checked against
    # ld.so's dlvsym and calls through what they found (tests/test-api.c)
    if "test-api" in status:
        out = open(os.path.join(d, "test-api.out")).read()
        tail = out.strip().splitlines()[-1:] or ["no output"]
        fails = [l for l in out.splitlines() if "FAIL" in l][:3]
        say(status["test-api"] == "0" and tail[0].endswith(" 0 failed"),
            f"test-api: exit {status['test-api']}: {tail[0]}" + "".join("; " + f for f in fails))
    else:
        say(False, "test-api: not run")
    syms = load("symbols")
    if syms is not None:
        names = {n["name"] for f in syms for n in f["names"]}
        want = set(VDSO_FUNCS.values()) | {"__kernel_rt_sigreturn"}
        say(want <= names, f"symbols: {len(syms)} functions; missing: {sorted(want - names) or 'none'}")

    # backtrace --pid of a program stopped inside the vDSO
    n = good = 0
    first = ""
    for out in sorted(glob.glob(os.path.join(d, "bt.*.out"))):
        name = os.path.basename(out)[:-4]
        mode = name.split(".")[1]
        n += 1
        bt = load(name)
        if not bt:
            continue
        frames = bt["threads"][0]["frames"] if len(bt["threads"]) == 1 else []
        got = [f.get("function") for f in frames]
        ok = (len(frames) > len(CHAIN) and frames[0]["vdso"] and got[0] == VDSO_FUNCS[mode]
              and got[1:1 + len(CHAIN)] == CHAIN and bt["engine"] == "core")
        good += ok
        if not ok and not first:
            first = f"{name}: {got[:6]} ({bt['threads'][0].get('end') if bt['threads'] else 'no thread'})"
    say(n > 0 and good == n, f"backtrace --pid: {good} of {n} stops in the vDSO give "
        f"vDSO function, {' <- '.join(CHAIN)}" + (f"; first wrong: {first}" if first else ""))

    # verify --pid
    v = load("verify")
    if v:
        r = v["runs"][0]
        funcs = {f["name"]: f for f in r["functions"]}
        want = set(VDSO_FUNCS.values())
        ok = (r["points"] > 0 and r["exact"] == r["points"] and r["wrong"] == 0 and
              not r.get("error") and want <= set(funcs) and
              all(funcs[f]["points"] > 0 and funcs[f]["exact"] == funcs[f]["points"] for f in want))
        say(ok, f"verify --pid: {r['calls']} calls, {r['points']} points, {r['exact']} exact; " +
            ", ".join(f"{k} {f['exact']}/{f['points']}" for k, f in sorted(funcs.items())))

    # profile --pid: stacks reach main
    p = load("profile")
    if p:
        total = sum(s["count"] for s in p["stacks"])
        main_ = sum(s["count"] for s in p["stacks"]
                    if any(f["function"] == "main" for f in s["frames"]))
        vdso = sum(s["count"] for s in p["stacks"] if s["frames"] and s["frames"][-1]["vdso"])
        vdso_main = sum(s["count"] for s in p["stacks"] if s["frames"] and s["frames"][-1]["vdso"]
                        and [f["function"] for f in s["frames"]][-5:-1] == CHAIN[::-1])
        say(total >= 100 and main_ >= 0.95 * total and vdso > 0 and vdso_main == vdso,
            f"profile --pid: {total} samples, {main_} reach main, {vdso} in the vDSO "
            f"({vdso_main} of them through {' <- '.join(CHAIN)})")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
