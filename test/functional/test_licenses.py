"""License lines tell the truth: the project is MIT (LICENSE); a BPF
program that calls GPL-only kernel helpers must declare a GPL-compatible
license string, so it is dual-licensed, and its SPDX line says the same."""
import re

from conftest import ROOT

SPDX = re.compile(r"^\s*(?://|#|/?\*)\s*SPDX-License-Identifier:\s*(.+?)\s*(?:\*/)?$", re.M)
BPF_LICENSE = re.compile(r'char\s+LICENSE\[\]\s+SEC\("license"\)\s*=\s*"([^"]*)"')
DUAL = "MIT OR GPL-2.0-only"


def sources():
    for top in ("src", "include", "contrib", "test", "bench"):
        for path in (ROOT / top).rglob("*"):
            if path.suffix in (".c", ".h", ".py", ".bt") and path.is_file():
                yield path


def test_project_is_mit():
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")


def test_every_license_line_is_true():
    checked, wrong = 0, []
    for path in sources():
        text = path.read_text(errors="replace")
        spdx = SPDX.findall(text)
        bpf = BPF_LICENSE.findall(text)
        if not spdx and not bpf:
            continue
        checked += 1
        rel = path.relative_to(ROOT)
        ids = spdx
        if bpf:
            # The kernel accepts "Dual MIT/GPL" as GPL-compatible.
            if bpf != ["Dual MIT/GPL"] or ids != [DUAL]:
                wrong.append(f"{rel}: license string {bpf}, SPDX {ids}")
        elif ids != ["MIT"]:
            wrong.append(f"{rel}: SPDX {ids} in an MIT project")
    assert checked >= 4, "the BPF sources were not found"
    assert not wrong, "\n".join(wrong)
