#!/usr/bin/env python3
"""Check that every external symbol of src/NAME.c starts with NAME_.

One prefix per file, the file's name: a reader who meets foo_bar() knows
it lives in src/foo.c. For each src/NAME.c this reads the symbols its
object (build/src/NAME.o) defines and exports, with

    nm --defined-only -g -P build/src/NAME.o

and each one must be NAME itself or begin with NAME_. It must also be
declared in a header of src/ (named there as a whole word): anything no
header declares belongs in `static`. A violation is printed as

    src/NAME.c: SYMBOL: does not start with NAME_
    src/NAME.c: SYMBOL: declared in no header of src/: make it static

Not checked: a file that defines main() (the programs: moneyrocketd.c,
moneyrocket-cli.c, moneyrocket-trace.c), symbols that are not C
identifiers (sdt.h's `_.stapsdt.base`), and what is outside src/ (the
generated build/gen/tracepoints.c, lib/tracestream). There is no list of
exceptions: rename the function or make it static. A src/NAME.c without
its object is an error too (build first: `make layers` does).

    check-names.py [--root DIR] [--objdir DIR]

DIR defaults to this checkout, the object folder to DIR/build/src.
Exit status: 0 clean, 1 violations, 2 nm failed.
"""
import argparse
import re
import subprocess
import sys
from pathlib import Path

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def exported(obj):
    """Names of the symbols obj defines and exports (nm -P: NAME TYPE ...)."""
    out = subprocess.run(["nm", "--defined-only", "-g", "-P", str(obj)],
                         check=True, capture_output=True, text=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def check(root, objdir):
    src = root / "src"
    headers = "\n".join(h.read_text(errors="replace") for h in sorted(src.glob("*.h")))
    declared = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", headers))
    errors = []
    for c in sorted(src.glob("*.c")):
        rel, name = f"src/{c.name}", c.stem
        obj = objdir / f"{name}.o"
        if not obj.exists():
            errors.append(f"{rel}: no object {obj}: build first (make layers does)")
            continue
        syms = [s for s in exported(obj) if IDENT.match(s)]
        if "main" in syms:
            continue
        for sym in syms:
            if sym != name and not sym.startswith(name + "_"):
                errors.append(f"{rel}: {sym}: does not start with {name}_")
            if sym not in declared:
                errors.append(f"{rel}: {sym}: declared in no header of src/: make it static")
    return errors


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[2],
                    help="the checkout to check (default: this one)")
    ap.add_argument("--objdir", type=Path,
                    help="where NAME.o of src/NAME.c is (default: ROOT/build/src)")
    args = ap.parse_args()
    try:
        errors = check(args.root, args.objdir or args.root / "build" / "src")
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"check-names: nm: {e}", file=sys.stderr)
        return 2
    for e in errors:
        print(e, file=sys.stderr)
    if errors:
        print(f"check-names: {len(errors)} problem(s); the rule is in doc/architecture.md "
              "(Names)", file=sys.stderr)
        return 1
    print("check-names: every external symbol of src/NAME.c starts with NAME_ and is "
          "declared in a header")
    return 0


if __name__ == "__main__":
    sys.exit(main())
