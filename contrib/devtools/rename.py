#!/usr/bin/env python3
"""Rename C identifiers across the tree from a map file.

The map has one rename a line, `OLD NEW` (blank lines and `#` comments
are skipped). Each OLD is replaced as a whole word (r'\\bOLD\\b'), except
where it cannot be the function or variable of that name:

  - after `.` or `->` (a struct member of the same name),
  - next to a quote (a JSON key or message string: "merkle_root"; an
    apostrophe's s after it is prose, renamed),
  - before `[` (an array member's declaration).

In C sources (*.c, *.h) every other occurrence is renamed, comments
included, and where a rename makes a line longer or shorter, the
continuation lines aligned under its open parenthesis move with it. In any other file (markdown, Python, bpftrace, ...) only the
forms that name code are: `OLD(` and `OLD` in backticks.

    rename.py MAP [PATH...]

PATHs are files or directories (walked, skipping .git and build/); the
default is src test bench doc contrib README.md, run from the checkout's
top. src/trace-events and doc/tracing.md are never touched: tracepoint
names are a contract. Prints each file it changed; exit status 0, or 2 if
the map cannot be read. Running it twice changes nothing the second time.
"""
import re
import sys
from pathlib import Path

DEFAULT_PATHS = ["src", "test", "bench", "doc", "contrib", "README.md"]
NEVER = {"src/trace-events", "doc/tracing.md"}
SKIP_DIRS = {".git", "build", "__pycache__"}
C_SUFFIXES = {".c", ".h"}


def read_map(path):
    pairs = []
    for lineno, line in enumerate(Path(path).read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        fields = line.split()
        if len(fields) != 2:
            raise ValueError(f"{path}:{lineno}: want 'OLD NEW', got {line!r}")
        pairs.append(tuple(fields))
    return pairs


def compile_map(pairs):
    """Two patterns (C sources, other files) and the lookup table."""
    table = dict(pairs)
    names = "|".join(sorted((re.escape(o) for o in table), key=len, reverse=True))
    guard_before = r"(?<![.\"'\w])(?<!->)"
    guard_after = r"(?![\"\[\w])(?!'(?!s\b))"
    c_pat = re.compile(guard_before + r"(" + names + r")" + guard_after)
    other_pat = re.compile(guard_before + r"(" + names + r")" + r"(?=\(|`|\(\)`)"
                           r"|(?<=`)(" + names + r")(?=`|\(\)`)")
    return table, c_pat, other_pat


def column(s):
    """The display column after s (tabs to multiples of 8)."""
    col = 0
    for ch in s:
        col = (col // 8 + 1) * 8 if ch == "\t" else col + 1
    return col


def indent_to(col):
    """Tabs then spaces reaching col, as the tree indents continuations."""
    return "\t" * (col // 8) + " " * (col % 8)


def open_parens(line):
    """Offsets of the parentheses still open at the end of line (outside
    string and character literals and // comments)."""
    stack, quote, i = [], None, 0
    while i < len(line):
        ch = line[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif line.startswith("//", i):
            break
        elif ch == "(":
            stack.append(i)
        elif ch == ")" and stack:
            stack.pop()
        i += 1
    return stack


def realign(old_lines, new_lines):
    """Where a rename changed the length of a line whose call or declaration
    goes on, move the continuation lines that were aligned under its open
    parenthesis so they stay aligned."""
    for i, (old, new) in enumerate(zip(old_lines, new_lines)):
        if old == new:
            continue
        old_open, new_open = open_parens(old), open_parens(new)
        if not old_open or len(old_open) != len(new_open):
            continue
        want_old = column(old[:old_open[-1] + 1])
        want_new = column(new[:new_open[-1] + 1])
        if want_old == want_new:
            continue
        depth = len(new_open)
        for j in range(i + 1, len(new_lines)):
            line = new_lines[j]
            body = line.lstrip(" \t")
            if body and column(line[:len(line) - len(body)]) == want_old:
                new_lines[j] = indent_to(want_new) + body
            depth += body.count("(") - body.count(")")
            if depth <= 0:
                break
    return new_lines


def rename_text(text, is_c, compiled):
    table, c_pat, other_pat = compiled
    if not is_c:
        return other_pat.sub(lambda m: table[m.group(m.lastindex)], text)
    old_lines = text.split("\n")
    new_lines = [c_pat.sub(lambda m: table[m.group(1)], line) for line in old_lines]
    return "\n".join(realign(old_lines, new_lines))


def files_under(paths):
    for p in map(Path, paths):
        if p.is_file():
            yield p
        elif p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file() and not SKIP_DIRS & set(f.parts):
                    yield f


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(argv) >= 2 else 2
    try:
        compiled = compile_map(read_map(argv[1]))
    except (OSError, ValueError) as e:
        print(f"rename: {e}", file=sys.stderr)
        return 2
    for f in files_under(argv[2:] or DEFAULT_PATHS):
        if f.as_posix() in NEVER:
            continue
        try:
            text = f.read_text()
        except (UnicodeDecodeError, OSError):
            continue   # binary files, pcaps
        new = rename_text(text, f.suffix in C_SUFFIXES, compiled)
        if new != text:
            f.write_text(new)
            print(f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
