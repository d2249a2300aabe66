#!/usr/bin/env python3
"""The kernel table of docs/kernels.md, made from the rows the matrix run
left, one per kernel (tests/integration/test_programs.py writes them). It
fills the part of the file between its BEGIN and END markers; the prose
around it is written by hand.
  table.py ROWS DOC        rewrite DOC's table from ROWS (make kernels-table)
  table.py ROWS DOC OUT    write DOC with this run's table to OUT and compare
                           the two tables (the matrix run does)
The comparison holds each kernel's features and program states to the
committed ones and fails on a difference; a newer Debian build of the same
series, or another host kernel, is only noted, and start-up times, which
vary from run to run, are not compared."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from programs import FEATURES  # noqa: E402

# the matrix as kernels.sh lists it, then the host
ORDER = ["5.10", "6.1", "6.12", "6.18", "7.x", "6.12-arm64", "host"]
HEAD = ["kernel", "arch", "release", "Debian version"] + ["`%s`" % f for f in FEATURES] + \
    ["programs", "start-up"]
KEYED = slice(0, 2)             # the row's name and arch: what must match
RELEASE = slice(2, 4)           # noted when they differ
COMPARED = slice(4, len(HEAD) - 1)  # features and programs: must match

BEGIN = "<!-- BEGIN kernel table: written by tests/vm/table.py (make kernels-table) -->"
END = "<!-- END kernel table -->"


def cells(row):
    pkg, _, version = row["package"].partition("=")
    progs = row["programs"]
    off = sum(1 for state, _ in progs.values() if state == "off")
    refused = sum(1 for state, _ in progs.values() if state == "refused")
    loaded = len(progs) - off - refused
    summary = ", ".join("%d %s" % (n, what) for n, what in
                        ((loaded, "loaded"), (off, "off"), (refused, "refused")) if n or
                        what == "loaded")
    return [row["name"], row["arch"], "`%s`" % row["release"],
            version or "(this machine)"] + \
        ["yes" if row["features"].get(f) else "no" for f in FEATURES] + \
        [summary if progs else "no table",
         "%d ms" % row["startup_ms"] if row["startup_ms"] is not None else "?"]


def markdown(rows):
    """The generated part, markers included."""
    lines = [BEGIN, "", "| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
    lines += ["| " + " | ".join(cells(r)) + " |" for r in rows]
    lines += ["", "### Features", ""]
    for name, f in FEATURES.items():
        since = "Linux %d.%d, " % f.since if f.since else ""
        lines.append("- `%s`: %s. %s%s. Found by: %s." % (name, f.what, since, f.commit,
                                                          f.evidence))
    lines += ["", "### What each kernel lacks, and the programs left off", ""]
    for r in rows:
        missing = ["`%s` (%s)" % (f, FEATURES[f].commit.split(" ")[0] if FEATURES[f].since
                                  else "not built in")
                   for f in FEATURES if not r["features"].get(f)]
        off = ["`%s` (%s)" % (name, why) for name, (state, why) in sorted(r["programs"].items())
               if state != "loaded"]
        lines.append("- %s: lacks %s; off: %s" % (r["name"], ", ".join(missing) or "nothing",
                                                 ", ".join(off) or "none"))
    return "\n".join(lines + ["", END])


def fill(doc, rows):
    """doc with its generated part replaced by this one."""
    if doc.count(BEGIN) != 1 or doc.count(END) != 1 or doc.index(BEGIN) > doc.index(END):
        raise SystemExit("table.py: the document needs one %r and one %r line" % (BEGIN, END))
    return doc[:doc.index(BEGIN)] + markdown(rows) + doc[doc.index(END) + len(END):]


def table_rows(text):
    """The generated table's rows, as lists of cells, by kernel name."""
    out = {}
    if BEGIN in text and END in text:
        text = text[text.index(BEGIN):text.index(END)]
        for line in text.splitlines():
            if line.startswith("| ") and not line.startswith("| kernel |"):
                c = [x.strip() for x in line.strip().strip("|").split("|")]
                out[c[0]] = c
    return out


def compare(now, committed):
    """(faults, notes) between this run's table and the committed one."""
    faults, notes = [], []
    compared = list(range(len(HEAD)))[KEYED] + list(range(len(HEAD)))[COMPARED]
    for name in sorted(set(now) | set(committed),
                       key=lambda n: ORDER.index(n) if n in ORDER else len(ORDER)):
        a, b = now.get(name), committed.get(name)
        if a is None or b is None:
            faults.append("%s: %s" % (name, "not in this run" if a is None
                                      else "not in the committed table"))
        elif len(b) != len(HEAD):
            faults.append("%s: %d cells in the committed row, not %d" % (name, len(b), len(HEAD)))
        elif name == "host" and a[RELEASE] != b[RELEASE]:
            notes.append("this host runs %s, the table shows a host running %s" % (a[2], b[2]))
        elif any(a[i] != b[i] for i in compared):
            faults.append("%s: %s" % (name, "; ".join(
                "%s %s, not %s" % (HEAD[i], a[i], b[i]) for i in compared if a[i] != b[i])))
        elif a[RELEASE] != b[RELEASE]:
            notes.append("%s: this run booted %s, the table shows %s" % (name, a[2], b[2]))
    return faults, notes


def main():
    rows_path, doc_path = sys.argv[1:3]
    out = sys.argv[3] if len(sys.argv) > 3 else None
    with open(rows_path) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    rows.sort(key=lambda r: ORDER.index(r["name"]) if r["name"] in ORDER else len(ORDER))
    with open(doc_path) as f:
        doc = f.read()
    text = fill(doc, rows)
    with open(out or doc_path, "w") as f:
        f.write(text)
    if not out:
        return 0
    for r in rows:
        print("vm-%s: %s %s, start-up %s ms (tcptrail's own), %d ms seen from outside; "
              "%d s in all" % (r["name"], r["release"], r["arch"],
                               "?" if r["startup_ms"] is None else r["startup_ms"],
                               r["startup_wall_ms"], r["wall_s"]))
    faults, notes = compare(table_rows(text), table_rows(doc))
    for n in notes:
        print("vm/kernel-table: note: %s (make kernels-table updates it)" % n)
    if faults:
        print("FAIL vm/kernel-table: %s differs from this run (make kernels-table rewrites "
              "it; this run's is in %s): %s" % (doc_path, out, " | ".join(faults)))
        return 1
    print("PASS vm/kernel-table (%s agrees with this run, %d kernels)" % (doc_path, len(rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
