#!/usr/bin/env python3
"""Integration test runner: every test_* function of every test_*.py here,
one PASS/FAIL/SKIP line each. Arguments select tests by substring."""
import importlib
import os
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from lib import TestFailure, kill_leftovers  # noqa: E402


def discover(selected):
    for name in sorted(os.listdir(HERE)):
        if not (name.startswith("test_") and name.endswith(".py")):
            continue
        module = importlib.import_module(name[:-3])
        for attr in dir(module):
            fn = getattr(module, attr)
            if attr.startswith("test_") and callable(fn):
                full = "%s/%s" % (name[5:-3], attr[5:])
                if not selected or any(s in full for s in selected):
                    yield full, fn


def main():
    tests = sorted(discover(sys.argv[1:]), key=lambda t: t[0])
    if os.geteuid() != 0:
        for name, _ in tests:
            print("SKIP integration/%s: needs root (run the suite with sudo)" % name)
        return 0
    if not os.path.ismount("/sys/kernel/tracing"):
        subprocess.run(["mount", "-t", "tracefs", "nodev", "/sys/kernel/tracing"],
                       capture_output=True)
    failed = 0
    for name, fn in tests:
        start = time.time()
        try:
            fn()
            print("PASS integration/%s (%.1fs)" % (name, time.time() - start), flush=True)
        except TestFailure as err:
            failed += 1
            print("FAIL integration/%s: %s" % (name, err), flush=True)
        except Exception:
            failed += 1
            print("FAIL integration/%s: %s" % (name, traceback.format_exc().strip()
                                                .replace("\n", "\n    ")), flush=True)
        finally:
            kill_leftovers()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
