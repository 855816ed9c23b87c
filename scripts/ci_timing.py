#!/usr/bin/env python3
"""Prints the CI timing table: each stage's wall time, the slowest compile units of each build
(from ninja's .ninja_log) and the slowest tests (from ctest's JUnit file).

Usage: scripts/ci_timing.py STAGES_FILE BUILD_DIR [BUILD_DIR ...]
  STAGES_FILE  lines "<stage name>\t<seconds>" (written by .ci/run and scripts/test.sh)
  BUILD_DIR    a ninja build directory; its ctest-junit.xml is read when present
"""
import os
import sys
import xml.etree.ElementTree as ET

TOP = 10


def minutes(seconds):
    return f"{int(seconds) // 60}:{int(seconds) % 60:02d}"


def read_stages(path):
    stages = []
    if not os.path.exists(path):
        return stages
    with open(path, encoding="utf-8") as f:
        for line in f:
            name, _, secs = line.rstrip("\n").partition("\t")
            if secs:
                stages.append((name, float(secs)))
    return stages


def read_ninja_log(build_dir):
    """(seconds, output) of every edge of the last build; a v5 log may hold older runs of an
    output, the last line for it wins."""
    path = os.path.join(build_dir, ".ninja_log")
    if not os.path.exists(path):
        return []
    last = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#"):
                continue
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 4:
                continue
            start, end, output = int(parts[0]), int(parts[1]), parts[3]
            last[output] = (end - start) / 1000.0
    return [(secs, out) for out, secs in last.items()]


def read_junit(build_dir):
    path = os.path.join(build_dir, "ctest-junit.xml")
    if not os.path.exists(path):
        return []
    tests = []
    for case in ET.parse(path).getroot().iter("testcase"):
        tests.append((float(case.get("time", "0")), case.get("name", "?"),
                      case.get("status", "")))
    return tests


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    stages = read_stages(argv[1])
    print("== CI timing")
    print(f"{'stage':<40} {'wall':>8}")
    for name, secs in stages:
        print(f"{name:<40} {minutes(secs):>8}")
    if stages:
        print(f"{'total':<40} {minutes(sum(s for _, s in stages)):>8}")
    for build_dir in argv[2:]:
        label = os.path.basename(os.path.normpath(build_dir))
        edges = read_ninja_log(build_dir)
        compiles = sorted((e for e in edges if e[1].endswith(".o")), reverse=True)
        if edges:
            cpu = sum(s for s, _ in edges)
            print(f"\n-- {label}: {len(compiles)} compile units, {len(edges)} edges, "
                  f"{cpu:.0f} s of compiler/linker time; slowest {TOP}:")
            for secs, out in compiles[:TOP]:
                print(f"{secs:8.1f} s  {out}")
            links = sorted((e for e in edges if not e[1].endswith(".o")), reverse=True)[:3]
            for secs, out in links:
                print(f"{secs:8.1f} s  {out}  (link/other)")
        tests = sorted(read_junit(build_dir), reverse=True)
        if tests:
            print(f"\n-- {label}: {len(tests)} tests, {sum(t for t, _, _ in tests):.0f} s summed; "
                  f"slowest {TOP}:")
            for secs, name, _ in tests[:TOP]:
                print(f"{secs:8.2f} s  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
