#!/usr/bin/env python3
"""Check that src/ includes point down the layers of doc/architecture.md.

Reads the layer table from doc/architecture.md (its rows: layer | files |
may use) and every `#include "NAME.h"` line of src/*.c and src/*.h. A file
may include headers of its own layer and of the layers in its "may use"
column; anything else is a violation, printed as

    src/FILE:LINE: LAYER includes HEADER (LAYER'S LAYER): not allowed

Also an error: a file of src/ in no layer, a header that is in no layer, a
name in two layers, and a KNOWN_EXCEPTIONS entry that no longer occurs (so
the list stays true). Headers that are not in src/ (include/trace.h, system
headers) are not checked.

    check-layers.py [--root DIR]

Exit status: 0 clean, 1 violations, 2 the table cannot be read.
"""
import argparse
import re
import sys
from pathlib import Path

# Upward includes that are known and not yet fixed, each with its reason.
# This is the one place they are allowed; remove an entry when its include
# goes away (the check fails while a stale entry stays).
KNOWN_EXCEPTIONS = {
    # The network cycle (issue 13, item 1; fixed by nobody this round): the
    # connection manager calls message handling directly, and message
    # handling calls block sync directly. The cure is a table of callbacks
    # the lower layer owns (Bitcoin Core's NetEventsInterface).
    ("src/net.c", "net_processing.h"): "net cycle: net.c calls np_* directly",
    ("src/net_processing.c", "net_chain.h"): "net cycle: net_processing.c calls netchain_*",
    # net.c sets JSON-RPC codes for addnode/disconnectnode (issue 13, item
    # 2): the connection manager should return its own errors, translated
    # by rpc_net.c. Being reworked in the wire layer's branch.
    ("src/net.c", "rpc.h"): "net.c sets JSON-RPC error codes",
}

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
    seen_exceptions = set()
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
                if (rel, header) in KNOWN_EXCEPTIONS:
                    seen_exceptions.add((rel, header))
                    continue
                errors.append(f"{rel}:{lineno}: {layer} includes {header} ({target}): "
                              f"not allowed (may use: {', '.join(sorted(allowed))})")
    for (rel, header), why in KNOWN_EXCEPTIONS.items():
        if (rel, header) not in seen_exceptions:
            errors.append(f"{rel}: known exception '{header}' ({why}) no longer occurs: "
                          "remove it from KNOWN_EXCEPTIONS in contrib/devtools/check-layers.py")
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
