#!/usr/bin/env python3
"""Headers stay narrow: every field of a struct or union a header under src/
defines is used by some file other than the header's own .c file (foo.h's
foo.c). A field only foo.c touches is foo.c's business: the struct goes
opaque, or the field into a private part (foo_priv.h or a struct in foo.c).

A private header foo_priv.h has no own .c file (it exists to be shared by
foo.c, foo_*.c and tests), but may be included by no other file of src/.

Uses are `.field` and `->field` (designated initializers included) in any
C file of src/ and tests/ that includes the header, directly or through
other headers (a same-named field of another struct, in a file that cannot
see this one, is no use of it), comments and string literals left out. Prints one
PASS/FAIL line in the unit tests' form, naming each offending field; exits 1
on failure. Run from anywhere: python3 tests/unit/headers_narrow.py
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NAME = "unit/headers_narrow"

COMMENT_OR_LITERAL = re.compile(
    r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.S)


def strip(text):
    """text without comments, string and character literals (newlines kept
    so that nothing joins two lines)."""
    def blank(m):
        s = m.group(0)
        if s.startswith("/"):
            return "\n" * s.count("\n") or " "
        return s[0] + s[0]
    return COMMENT_OR_LITERAL.sub(blank, text)


def without_preprocessor(text):
    """text without preprocessor lines (continued lines included)."""
    return re.sub(r'^[ \t]*#(?:[^\n]*\\\n)*[^\n]*', '', text, flags=re.M)


def matching(text, i):
    """Index just past the bracket closing the one at text[i]."""
    pairs = {"{": "}", "(": ")", "[": "]"}
    stack = []
    for j in range(i, len(text)):
        c = text[j]
        if c in pairs:
            stack.append(pairs[c])
        elif stack and c == stack[-1]:
            stack.pop()
            if not stack:
                return j + 1
    raise ValueError("unbalanced %r at %d" % (text[i], i))


def split_top(text, sep):
    """text cut at each sep outside brackets."""
    parts, depth, start = [], 0, 0
    for j, c in enumerate(text):
        if c in "{([":
            depth += 1
        elif c in "})]":
            depth -= 1
        elif c == sep and depth == 0:
            parts.append(text[start:j])
            start = j + 1
    parts.append(text[start:])
    return parts


IDENT = re.compile(r'[A-Za-z_]\w*')
KEYWORDS = {"struct", "union", "enum", "const", "volatile", "unsigned", "signed",
            "int", "char", "short", "long", "float", "double", "void", "_Bool",
            "bool", "restrict", "__restrict", "static", "_Atomic"}


def declarator_name(decl):
    """The name a declarator declares: `x`, `*x`, `x[4]`, `x : 3`,
    `(*fn)(int)`, `*(*fn)(void)`, `(*table[2])(void)`."""
    decl = decl.split(":")[0] if "(" not in decl else decl
    m = re.search(r'\(\s*\*+\s*(?:const\s+)?([A-Za-z_]\w*)', decl)
    if m:  # a pointer to function (or to array)
        return m.group(1)
    decl = re.sub(r'\[[^\]]*\]', '', decl)
    names = [n for n in IDENT.findall(decl) if n not in KEYWORDS]
    return names[-1] if names else None


def members(body):
    """The names of the fields of a struct or union body, nested anonymous
    and named structs and unions included (their own fields and, when named,
    the member that holds them)."""
    out = []
    for decl in split_top(body, ";"):
        decl = decl.strip()
        if not decl or decl.startswith("_Static_assert") or decl.startswith("static_assert"):
            continue
        brace = decl.find("{")
        if brace >= 0:
            end = matching(decl, brace)
            out += members(decl[brace + 1:end - 1])
            rest = decl[end:]
            for d in split_top(rest, ","):
                n = declarator_name(d)
                if n:
                    out.append(n)
            continue
        # the type is the first declarator's start: keep it with the first
        parts = split_top(decl, ",")
        for d in parts:
            n = declarator_name(d)
            if n and n not in KEYWORDS:
                out.append(n)
    return out


def structs(text):
    """(name, [fields]) of each struct or union text defines at file scope
    (`struct x {`, `union x {`, `typedef struct [x] { } y;`)."""
    text = without_preprocessor(strip(text))
    found = []
    pos = 0
    head = re.compile(r'\b(?:typedef\s+)?(struct|union)\s+(\w*)\s*\{')
    while True:
        m = head.search(text, pos)
        if not m:
            return found
        brace = m.end() - 1
        end = matching(text, brace)
        name = m.group(2)
        if not name:
            t = re.match(r'\s*(\w+)\s*;', text[end:])
            name = t.group(1) if t else "(anonymous)"
        found.append((name, members(text[brace + 1:end - 1])))
        pos = end


def sources():
    """Every C file of src/ and tests/, as path relative to ROOT -> text."""
    out = {}
    for top in ("src", "tests"):
        for d, _, names in os.walk(os.path.join(ROOT, top)):
            for n in names:
                if n.endswith((".c", ".h")):
                    p = os.path.join(d, n)
                    out[os.path.relpath(p, ROOT)] = open(p).read()
    return out


# Named exceptions, each with its reason, printed on every run.
EXCEPTED = {
    ("src/core/filter.h", "port_set", "bits"):
        "a 64 Kibit bitmap held by value in struct filter, which options copy "
        "by value and nothing frees; out of line it needs an options lifetime "
        "(and a filter equality for fuzz_opts' oracle)",
}


INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]+"([^"]+)"', re.M)


def closures(files):
    """path -> the headers it includes, directly or through others (by
    base name: the Makefile's include path is flat per folder)."""
    by_base = {}
    for p in files:
        if p.endswith(".h"):
            by_base.setdefault(os.path.basename(p), []).append(p)
    direct = {p: [h for n in INCLUDE.findall(t) for h in by_base.get(os.path.basename(n), [])]
              for p, t in files.items()}
    out = {}
    for p in files:
        seen, todo = set(), list(direct[p])
        while todo:
            h = todo.pop()
            if h not in seen:
                seen.add(h)
                todo.extend(direct.get(h, []))
        out[p] = seen
    return out


def main():
    files = sources()
    code = {p: strip(t) for p, t in files.items()}
    reach = closures(files)
    headers = sorted(p for p in files if p.startswith("src/") and p.endswith(".h"))
    bad, nfields, nstructs = [], 0, 0
    for h in headers:
        own = h[:-2] + ".c"
        if h.endswith("_priv.h"):
            module = os.path.basename(h)[:-len("_priv.h")]
            inc = re.compile(r'#\s*include\s+"%s"' % re.escape(os.path.basename(h)))
            for p, t in files.items():
                base = os.path.basename(p)
                if (p.startswith("src/") and inc.search(t) and p != h
                        and not (base == module + ".c" or base.startswith(module + "_"))):
                    bad.append("%s is included by %s, outside its module" % (h, p))
        for sname, fields in structs(files[h]):
            nstructs += 1
            for f in fields:
                nfields += 1
                use = re.compile(r'(?:\.|->)\s*%s\b' % re.escape(f))
                if not any(use.search(t) for p, t in code.items()
                           if p not in (own, h) and h in reach[p]):
                    if (h, sname, f) not in EXCEPTED:
                        bad.append("%s struct %s .%s" % (h, sname, f))
    if nfields < 200:
        bad.append("only %d fields found in %d structs: the parser lost its way" % (nfields, nstructs))
    if bad:
        print("FAIL %s: %d fields no other file uses:" % (NAME, len(bad)))
        for b in bad:
            print("    " + b)
        return 1
    print("PASS %s (%d fields of %d structs in %d headers; excepted: %s)" % (
        NAME, nfields, nstructs, len(headers),
        "; ".join("%s .%s: %s" % (k[0], k[2], why) for k, why in EXCEPTED.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
