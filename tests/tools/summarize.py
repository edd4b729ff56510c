#!/usr/bin/env python3
"""Prints one 'N passed, N failed' line from meson's own test logs.

Reads meson-logs/testlog.json of every build directory given; exits non-zero
when a test failed, a log is missing, or nothing ran at all.
"""
import json
import os
import sys

PASS = {"OK", "EXPECTEDFAIL"}
SKIP = {"SKIP"}


def main(dirs):
    passed = failed = skipped = 0
    problems = []
    for d in dirs:
        path = os.path.join(d, "meson-logs", "testlog.json")
        if not os.path.exists(path):
            problems.append(f"{d}: no test log (did the build fail?)")
            continue
        with open(path, encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    continue
                r = json.loads(line)
                result = r.get("result")
                if result in PASS:
                    passed += 1
                elif result in SKIP:
                    skipped += 1
                else:
                    failed += 1
                    problems.append(f"{d}: {r.get('name')}: {result}")
    for p in problems:
        print(p, file=sys.stderr)
    line = f"{passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line)
    if failed or problems or passed == 0:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
