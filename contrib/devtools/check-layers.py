#!/usr/bin/env python3
"""Check that src/ includes point down the layers of doc/architecture.md.

Reads the layer table from doc/architecture.md (its rows: layer | files |
may use) and every `#include "NAME.h"` line of src/*.c and src/*.h. A file
may include headers of its own layer and of the layers in its "may use"
column; anything else is a violation, printed as

    src/FILE:LINE: LAYER includes HEADER (LAYER'S LAYER): not allowed

Also an error: a file of src/ in no layer, a header that is in no layer, and
a name in two layers. There is no list of allowed exceptions: a dependency
that must point up goes through a table of callbacks the lower layer owns
(as struct net_events does). Headers that are not in src/ (include/trace.h, system
headers) are not checked.

    check-layers.py [--root DIR]

Exit status: 0 clean, 1 violations, 2 the table cannot be read.
"""
import argparse
import re
import sys
from pathlib import Path

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def read_table(doc):
    """{layer: (files set, may-use set)} in table order, from the markdown."""
    layers = {}
    in_table = False
    for line in doc.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| layer | files | may use |"):
            in_table = True
            continue
        if not in_table:
            continue
        if not line.startswith("|"):
            if layers:
                break
            continue
        if set(line) <= set("|- "):
            continue
        if len(cells) != 3:
            raise ValueError(f"{doc}: a table row needs 3 cells: {line!r}")
        name, files, uses = cells
        layers[name] = (set(files.split()), set(uses.split()))
    if not layers:
        raise ValueError(f"{doc}: no '| layer | files | may use |' table")
    for name, (_, uses) in layers.items():
        unknown = uses - set(layers)
        if unknown:
            raise ValueError(f"{doc}: layer {name} may use unknown layers {sorted(unknown)}")
    return layers


def layer_of_names(layers):
    """{file stem: layer}; errors for a stem in two layers."""
    owner, errors = {}, []
    for layer, (files, _) in layers.items():
        for stem in files:
            if stem in owner:
                errors.append(f"{stem} is in two layers: {owner[stem]} and {layer}")
            owner[stem] = layer
    return owner, errors


def check(root):
    layers = read_table(root / "doc" / "architecture.md")
    owner, errors = layer_of_names(layers)
    src = root / "src"
    for path in sorted(list(src.glob("*.c")) + list(src.glob("*.h"))):
        rel = f"src/{path.name}"
        layer = owner.get(path.stem)
        if layer is None:
            errors.append(f"{rel}: in no layer of doc/architecture.md: add it to the table")
            continue
        allowed = {layer} | layers[layer][1]
        for lineno, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            header = m.group(1)
            if not (src / header).exists():
                continue   # include/trace.h and the like: outside the layers
            target = owner.get(Path(header).stem)
            if target is None:
                errors.append(f"{rel}:{lineno}: includes {header}, which is in no layer")
            elif target not in allowed:
                errors.append(f"{rel}:{lineno}: {layer} includes {header} ({target}): "
                              f"not allowed (may use: {', '.join(sorted(allowed))})")
    return errors


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[2],
                    help="the checkout to check (default: this one)")
    args = ap.parse_args()
    try:
        errors = check(args.root)
    except (OSError, ValueError) as e:
        print(f"check-layers: {e}", file=sys.stderr)
        return 2
    for e in errors:
        print(e, file=sys.stderr)
    if errors:
        print(f"check-layers: {len(errors)} problem(s); the layers are in doc/architecture.md",
              file=sys.stderr)
        return 1
    print("check-layers: every #include in src/ points down the layers of "
          "doc/architecture.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
