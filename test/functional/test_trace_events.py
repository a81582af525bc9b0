"""src/trace-events is the one definition of moneyrocketd's tracepoints:
doc/tracing.md must say the same, and tracetool must refuse a definition
that cannot be right.
"""
import importlib.util
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import tracetool  # noqa: E402


def _checker():
    spec = importlib.util.spec_from_file_location(
        "check_tracepoints", ROOT / "contrib" / "devtools" / "check-tracepoints.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def definitions():
    return tracetool.parse((ROOT / "src" / "trace-events").read_text(), "src/trace-events")


def doc_items():
    """{name: [argument list item text, ...]} from doc/tracing.md."""
    items, current = {}, None
    for line in (ROOT / "doc" / "tracing.md").read_text().splitlines():
        m = re.match(r"^#{2,6} .*`([a-z_]+:[a-z_]+)`", line)
        if m:
            current = items.setdefault(m.group(1), [])
            continue
        if current is None:
            continue
        m = re.match(r"^(\d+)\. (.*)", line)
        if m:
            current.append(m.group(2))
        elif current and line.startswith("   ") and line.strip():
            current[-1] += " " + line.strip()
    return items


def test_doc_documents_exactly_the_definitions_in_order():
    events = definitions()
    assert len(events) == 20
    contract = _checker().read_contract(str(ROOT / "doc" / "tracing.md"))
    node = {k: v for k, v in contract.items()}
    assert list(node) == [e.full for e in events]
    for ev in events:
        assert node[ev.full].types == [a.contract_type for a in ev.args], ev.full


def test_doc_states_every_size_the_definitions_give():
    items = doc_items()
    for ev in definitions():
        for n, (arg, text) in enumerate(zip(ev.args, items[ev.full]), 1):
            where = f"{ev.full} argument {n} ({arg.name}): {text!r}"
            if arg.kind == "string":
                assert f"(max. length {arg.size})" in text, where
            elif arg.kind == "bytes" and arg.len_arg is None:
                assert f"({arg.size} bytes)" in text, where
            elif arg.kind == "bytes":
                assert f"(length: argument {arg.len_arg + 1})" in text, where


def test_doc_says_which_tracepoints_are_guarded():
    text = (ROOT / "doc" / "tracing.md").read_text()
    for ev in definitions():
        section = text.split(f"Tracepoint `{ev.full}`", 1)[1].split("\n#### ", 1)[0]
        m = re.search(r"^Guarded: (yes|no)\b", section, re.M)
        assert m, f"{ev.full}: no 'Guarded: yes/no' line"
        assert (m.group(1) == "yes") == ev.guarded, ev.full


@pytest.mark.parametrize("text, error", [
    ('a:b "x"\n\tint64 v\n\tint64 v\n', "argument v twice"),
    ('a:b "x"\na:b "y"\n', "defined twice"),
    ('a:b "x"\n\tfloat v\n', "neither an event nor an argument"),
    ('a:b "x"\n\tbytes[n] v\n', "no earlier integer argument n"),
    ('a:b "x"\n' + "".join(f"\tint32 v{i}\n" for i in range(13)), "more than 12"),
    ('\tint32 v\n', "neither an event nor an argument"),
])
def test_tracetool_refuses_bad_definitions(text, error):
    with pytest.raises(tracetool.DefinitionError, match=error):
        tracetool.parse(text)


def test_generated_files_are_what_the_build_uses(tmp_path):
    """The three outputs come from the definitions alone and name every
    tracepoint; the header's wrappers take the arguments in order."""
    events = definitions()
    header = tracetool.gen_header(events)
    source = tracetool.gen_source(events)
    contract = tracetool.gen_contract(events)
    for ev in events:
        assert f"trace_{ev.ident}(" in header
        assert f'"{ev.full}"' in source
        assert f"### `{ev.full}`" in contract
    assert ("static inline __attribute__((always_inline)) void trace_utxocache_add("
            "const uint8_t *txid, uint32_t index, uint32_t height, int64_t value, "
            "bool coinbase)") in header
    assert "#define trace_net_misbehaving_connection(peer_id, reason)" in header
    built = ROOT / "build" / "gen" / "tracepoints.h"
    if built.exists():
        assert built.read_text() == header, "build/gen is stale: run make"
