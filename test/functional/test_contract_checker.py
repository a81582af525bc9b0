"""contrib/devtools/check-tracepoints.py against binaries built here.

Each test compiles a small C program with include/trace.h (gcc, into the
test's tmp_path), writes a contract document, runs the checker and checks
its exit status and the exact mismatch lines. No root needed.
"""
import importlib.util
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

from conftest import ROOT, require_tool

CHECKER = ROOT / "contrib" / "devtools" / "check-tracepoints.py"
DOC = ROOT / "doc" / "tracing.md"


def build(tmp_path, body, name="prog", extra_flags=()):
    """Compile `body` (C source after the includes) into tmp_path/name."""
    gcc = require_tool("gcc")
    src = tmp_path / f"{name}.c"
    src.write_text("#include <stdbool.h>\n#include <stdint.h>\n"
                   "#include \"trace.h\"\n" + textwrap.dedent(body))
    out = tmp_path / name
    proc = subprocess.run([gcc, "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror",
                           f"-I{ROOT / 'include'}", *extra_flags, str(src),
                           "-o", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return out


def contract(tmp_path, text, name="contract.md"):
    path = tmp_path / name
    path.write_text(text)
    return path


def check(*args, python=sys.executable):
    """Run the checker; return (exit status, stdout lines, stderr)."""
    proc = subprocess.run([python, str(CHECKER), *map(str, args)],
                          capture_output=True, text=True, timeout=60)
    return proc.returncode, proc.stdout.splitlines(), proc.stderr


def mismatches(lines):
    """The mismatch lines, without the summary line."""
    assert lines and lines[-1].startswith("check-tracepoints: "), lines
    return lines[:-1]


# A program with one probe per contract type, a zero-argument probe and a
# guarded one. Values come from volatile globals so nothing folds away.
PROGRAM = """
    volatile int64_t v_i64 = -1; volatile uint64_t v_u64 = 1;
    volatile int32_t v_i32 = -1; volatile uint32_t v_u32 = 1;
    volatile int16_t v_i16 = -1; volatile uint16_t v_u16 = 1;
    volatile int8_t v_i8 = -1; volatile uint8_t v_u8 = 1;
    volatile bool v_bool = true;
    static const unsigned char bytes[4] = {1, 2, 3, 4};
    TRACEPOINT_SEMAPHORE(demo, guarded);

    int main(void)
    {
        const char *s = "text";
        TRACEPOINT(demo, ints, v_i64, v_u64, v_i32, v_u32, v_i16, v_u16);
        TRACEPOINT(demo, small, v_i8, v_u8, v_bool, s, bytes);
        TRACEPOINT(demo, nothing);
        TRACEPOINT_GUARDED(demo, guarded, v_i64, s);
        return 0;
    }
"""

CONTRACT = textwrap.dedent("""
    # Demo tracepoints

    ## Context `demo`

    ### `demo:ints`
    Is called when the program starts.

    Arguments passed:
    1. A number as `int64`
    2. A number as `uint64`
    3. A number as `int32`
    4. A number as `uint32`
    5. A number as `int16`
    6. A number as `uint16`

    ### `demo:small`
    Arguments passed:
    1. A number as `int8`
    2. A number as `uint8`
    3. A flag as `bool`
    4. A name as `char*` (max. length 4)
    5. Four bytes as `u8*`

    ### `demo:nothing`
    Arguments passed: none.

    ### `demo:guarded`
    Guarded: yes.
    Arguments passed:
    1. A number as `int64`
    2. A name as `char*`
       (max. length 4)

    Not a tracepoint: `demo` alone, `int64` in prose, and a code block:

    ```
    ### `demo:in_code_block`
    1. `int64`
    ```
""")


def test_matching_pair_passes(tmp_path):
    rc, out, err = check(build(tmp_path, PROGRAM), contract(tmp_path, CONTRACT))
    assert rc == 0, (out, err)
    assert out == [f"check-tracepoints: {tmp_path / 'prog'} vs {tmp_path / 'contract.md'}: "
                   "all match (4 documented, 4 in the binary at 4 sites)"]


def test_quiet_prints_nothing_on_success(tmp_path):
    rc, out, err = check(build(tmp_path, PROGRAM), contract(tmp_path, CONTRACT), "--quiet")
    assert (rc, out, err) == (0, [], "")


def test_runs_under_every_python3(tmp_path):
    """Stdlib only: Debian's python3 and the python3 on PATH both run it."""
    binary, doc = build(tmp_path, PROGRAM), contract(tmp_path, CONTRACT)
    pythons = {p for p in ("/usr/bin/python3", shutil.which("python3")) if p}
    for python in sorted(pythons):
        rc, out, err = check(binary, doc, python=python)
        assert rc == 0, (python, out, err)


def test_missing_probe(tmp_path):
    doc = contract(tmp_path, CONTRACT + textwrap.dedent("""
        ### `demo:absent`
        Arguments passed:
        1. `int64`
    """))
    rc, out, _ = check(build(tmp_path, PROGRAM), doc)
    assert rc == 1
    assert mismatches(out) == ["demo:absent: documented but not in the binary"]
    assert "1 mismatch (5 documented, 4 in the binary at 4 sites)" in out[-1]


def test_partial_allows_missing_but_checks_the_rest(tmp_path):
    """--partial: a program linking part of the contract; what it has must match."""
    doc = contract(tmp_path, CONTRACT + textwrap.dedent("""
        ### `demo:absent`
        Arguments passed:
        1. `int64`
    """))
    rc, out, err = check(build(tmp_path, PROGRAM), doc, "--partial")
    assert rc == 0, (out, err)
    assert out[-1].endswith("all match (5 documented, 4 in the binary at 4 sites, partial)")
    program = PROGRAM.replace("return 0;", "TRACEPOINT(demo, extra, v_i32);\nreturn 0;")
    wrong = contract(tmp_path, doc.read_text().replace("3. A number as `int32`",
                                                       "3. A number as `int64`"), "wrong.md")
    rc, out, _ = check(build(tmp_path, program, name="prog2"), wrong, "--partial")
    assert rc == 1
    assert sorted(mismatches(out)) == [
        "demo:extra: in the binary but not documented",
        "demo:ints: argument 3 is 4 bytes signed in the binary, documented int64 "
        "(8 bytes signed)"]


def test_undocumented_probe(tmp_path):
    program = PROGRAM.replace("return 0;", "TRACEPOINT(demo, extra, v_i32);\nreturn 0;")
    rc, out, _ = check(build(tmp_path, program), contract(tmp_path, CONTRACT))
    assert rc == 1
    assert mismatches(out) == ["demo:extra: in the binary but not documented"]


def test_wrong_size(tmp_path):
    doc = contract(tmp_path, CONTRACT.replace("3. A number as `int32`",
                                              "3. A number as `int64`"))
    rc, out, _ = check(build(tmp_path, PROGRAM), doc)
    assert rc == 1
    assert mismatches(out) == ["demo:ints: argument 3 is 4 bytes signed in the binary, "
                               "documented int64 (8 bytes signed)"]


def test_wrong_signedness(tmp_path):
    doc = contract(tmp_path, CONTRACT.replace("1. A number as `int8`",
                                              "1. A number as `uint8`"))
    rc, out, _ = check(build(tmp_path, PROGRAM), doc)
    assert rc == 1
    assert mismatches(out) == ["demo:small: argument 1 is 1 bytes signed in the binary, "
                               "documented uint8 (1 bytes unsigned)"]


def test_pointer_documented_as_integer(tmp_path):
    doc = contract(tmp_path, CONTRACT.replace("5. Four bytes as `u8*`",
                                              "5. Four bytes as `int64`"))
    rc, out, _ = check(build(tmp_path, PROGRAM), doc)
    assert rc == 1
    assert mismatches(out) == ["demo:small: argument 5 is 8 bytes unsigned in the binary, "
                               "documented int64 (8 bytes signed)"]


def test_wrong_count(tmp_path):
    doc = contract(tmp_path, CONTRACT.replace("6. A number as `uint16`\n",
                                              "6. A number as `uint16`\n"
                                              "7. One more as `uint64`\n"))
    rc, out, _ = check(build(tmp_path, PROGRAM), doc)
    assert rc == 1
    assert mismatches(out) == ["demo:ints: has 6 arguments in the binary, documented 7"]


def test_zero_arg_probe_documented_with_arguments(tmp_path):
    doc = contract(tmp_path, CONTRACT.replace("### `demo:nothing`\nArguments passed: none.",
                                              "### `demo:nothing`\n1. A number as `int32`"))
    rc, out, _ = check(build(tmp_path, PROGRAM), doc)
    assert rc == 1
    assert mismatches(out) == ["demo:nothing: has 0 arguments in the binary, documented 1"]


def test_zero_arg_documentation_must_say_none(tmp_path):
    doc = contract(tmp_path, CONTRACT.replace("Arguments passed: none.", "Takes nothing."))
    rc, out, _ = check(build(tmp_path, PROGRAM), doc)
    assert rc == 1
    assert mismatches(out) == ["demo:nothing: contract: has no argument list (write "
                               "'Arguments passed: none.' if it takes none)"]


def test_probe_with_arguments_in_binary_documented_as_none(tmp_path):
    program = PROGRAM.replace("TRACEPOINT(demo, nothing);", "TRACEPOINT(demo, nothing, v_u8);")
    rc, out, _ = check(build(tmp_path, program), contract(tmp_path, CONTRACT))
    assert rc == 1
    assert mismatches(out) == ["demo:nothing: has 1 arguments in the binary, documented 0"]


def test_item_without_known_type(tmp_path):
    doc = contract(tmp_path, CONTRACT.replace("2. A number as `uint64`",
                                              "2. A number as `unsigned long`"))
    rc, out, _ = check(build(tmp_path, PROGRAM), doc)
    assert rc == 1
    assert len(mismatches(out)) == 1
    assert mismatches(out)[0].startswith("demo:ints: contract: argument 2 names no known type")


def test_two_sites_one_mismatching(tmp_path):
    program = """
        volatile int64_t a = -1; volatile int32_t b = -1;
        __attribute__((noinline)) static void first(void) { TRACEPOINT(demo, twice, a); }
        __attribute__((noinline)) static void second(void) { TRACEPOINT(demo, twice, b); }
        int main(void) { first(); second(); return 0; }
    """
    doc = contract(tmp_path, textwrap.dedent("""
        ### `demo:twice`
        Arguments passed:
        1. A number as `int64`
    """))
    binary = build(tmp_path, program)
    rc, out, _ = check(binary, doc)
    assert rc == 1
    lines = mismatches(out)
    assert len(lines) == 1, lines
    assert lines[0].startswith("demo:twice (site ")
    assert " of 2, pc 0x" in lines[0]
    assert lines[0].endswith("): argument 1 is 4 bytes signed in the binary, "
                             "documented int64 (8 bytes signed)")
    assert "at 2 sites" in out[-1]

    # Both sites right: passes.
    fixed = build(tmp_path, program.replace("int32_t b", "int64_t b"), name="fixed")
    rc, out, _ = check(fixed, doc)
    assert rc == 0, out


def test_binary_without_probes(tmp_path):
    """A -DTRACE_DISABLE build has no notes: every tracepoint is missing."""
    binary = build(tmp_path, PROGRAM, extra_flags=["-DTRACE_DISABLE"])
    rc, out, _ = check(binary, contract(tmp_path, CONTRACT))
    assert rc == 1
    assert sorted(mismatches(out)) == sorted(
        f"demo:{n}: documented but not in the binary"
        for n in ("ints", "small", "nothing", "guarded"))


# ("a", "b", "c") is a binary and two contracts now: an I/O error, not usage.
@pytest.mark.parametrize("args", [[], ["only-one"], ["--help"], ["a", "b", "--verbose"]])
def test_bad_usage_exits_2(args):
    rc, out, err = check(*args)
    assert rc == 2
    assert out == []
    assert ("usage: check-tracepoints.py BINARY CONTRACT.md [CONTRACT.md...] "
            "[--partial] [--quiet]") in err


def test_missing_binary_exits_2(tmp_path):
    rc, out, err = check(tmp_path / "no-such-binary", contract(tmp_path, CONTRACT))
    assert (rc, out) == (2, [])
    assert "cannot read binary" in err and "No such file or directory" in err


def test_unreadable_doc_exits_2(tmp_path):
    binary = build(tmp_path, PROGRAM)
    rc, out, err = check(binary, tmp_path / "no-such.md")
    assert (rc, out) == (2, [])
    assert "cannot read contract" in err and "No such file or directory" in err
    rc, out, err = check(binary, tmp_path)  # a directory
    assert (rc, out) == (2, [])
    assert "cannot read contract" in err


def test_not_an_elf_file_exits_2(tmp_path):
    doc = contract(tmp_path, CONTRACT)
    rc, out, err = check(doc, doc)
    assert (rc, out) == (2, [])
    assert "not an ELF file" in err


# Every tracepoint of the contract with its C types, as the node fires them
# (the net ones guarded, as the contract says).
NET_PROGRAM = """
    volatile int64_t id = 7; volatile uint64_t n = 1; volatile uint32_t network = 0;
    static const unsigned char payload[4] = {0};
    int main(void)
    {
        const char *addr = "127.0.0.1:28444", *conn = "inbound", *msg = "ping";
        TRACEPOINT_GUARDED(net, inbound_message, id, addr, conn, msg, n, payload);
        TRACEPOINT_GUARDED(net, outbound_message, id, addr, conn, msg, n, payload);
        TRACEPOINT_GUARDED(net, inbound_connection, id, addr, conn, network, n);
        TRACEPOINT_GUARDED(net, outbound_connection, id, addr, conn, network, n);
        TRACEPOINT_GUARDED(net, closed_connection, id, addr, conn, network, n);
        TRACEPOINT_GUARDED(net, evicted_inbound_connection, id, addr, conn, network, n);
        TRACEPOINT_GUARDED(net, misbehaving_connection, id, "checksum mismatch");
        /* The chain tracepoints, with the contract's types. */
        static const uint8_t h[32];
        int32_t i32 = 1; uint32_t u32 = 0; int64_t i64 = 5; uint64_t u64 = 2; bool b = false;
        TRACEPOINT(validation, block_connected, h, i32, u64, i32, u64, u64);
        TRACEPOINT(utxocache, flush, i64, u32, u64, u64, b);
        TRACEPOINT(utxocache, add, h, u32, u32, i64, b);
        TRACEPOINT(utxocache, spent, h, u32, u32, i64, b);
        TRACEPOINT(utxocache, uncache, h, u32, u32, i64, b);
        TRACEPOINT(mempool, added, h, i32, i64);
        TRACEPOINT(mempool, removed, h, "block", i32, i64, u64);
        TRACEPOINT(mempool, replaced, h, i32, i64, u64, h, i32, i64);
        TRACEPOINT(mempool, rejected, h, "insufficient fee");
        /* The coin_selection tracepoints, with the contract's types. */
        const char *wallet = "w", *algo = "bnb";
        TRACEPOINT(coin_selection, selected_coins, wallet, algo, i64, i64, i64);
        TRACEPOINT(coin_selection, normal_create_tx_internal, wallet, b, i64, i32);
        TRACEPOINT(coin_selection, attempting_aps_create_tx, wallet);
        TRACEPOINT(coin_selection, aps_create_tx_internal, wallet, b, b, i64, i32);
        return 0;
    }
"""


def test_tracing_md_net_section_matches_contract_types(tmp_path):
    """doc/tracing.md matches a binary built with the contract's types."""
    rc, out, err = check(build(tmp_path, NET_PROGRAM), DOC)
    assert rc == 0, (out, err)
    assert out[-1].endswith("all match (20 documented, 20 in the binary at 20 sites)")


def test_tracing_md_catches_a_changed_net_argument(tmp_path):
    """The same program with one argument narrowed fails against doc/tracing.md."""
    program = NET_PROGRAM.replace(
        "TRACEPOINT_GUARDED(net, inbound_connection, id, addr, conn, network, n);",
        "TRACEPOINT_GUARDED(net, inbound_connection, id, addr, conn, network, (int32_t)n);")
    rc, out, _ = check(build(tmp_path, program), DOC)
    assert rc == 1
    assert mismatches(out) == ["net:inbound_connection: argument 5 is 4 bytes signed in "
                               "the binary, documented uint64 (8 bytes unsigned)"]


def test_note_parsing_agrees_with_readelf(tmp_path):
    """The checker's own ELF parsing reads what binutils' readelf reads."""
    readelf = require_tool("readelf")
    spec = importlib.util.spec_from_file_location("check_tracepoints", CHECKER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    binary = build(tmp_path, PROGRAM)
    sites, ptr, _probes = module.read_sites(binary)
    ours = sorted((s.name, s.pc, s.semaphore, s.args) for s in sites)

    text = subprocess.run([readelf, "-n", "--wide", str(binary)], capture_output=True,
                          text=True, check=True).stdout
    theirs = []
    for m in re.finditer(r"Provider: (\S+)\s+Name: (\S+)\s+Location: (0x[0-9a-f]+), "
                         r"Base: 0x[0-9a-f]+, Semaphore: (0x[0-9a-f]+)\s+Arguments: ?(.*)",
                         text):
        args = [(abs(int(a.split("@")[0])), a.startswith("-")) for a in m.group(5).split()]
        theirs.append((f"{m.group(1)}:{m.group(2)}", int(m.group(3), 16),
                       int(m.group(4), 16), args))
    assert ptr == 8
    assert len(ours) == 4
    assert ours == sorted(theirs)
    assert [s for s in ours if s[0] == "demo:guarded"][0][2] != 0  # has a semaphore


def test_guarded_contract_needs_a_semaphore_and_only_there(tmp_path):
    """'Guarded: yes' requires a semaphore in .probes; no other probe may have one."""
    binary = build(tmp_path, PROGRAM)
    unguarded = contract(tmp_path, CONTRACT.replace("Guarded: yes.\n", ""), "unguarded.md")
    rc, out, _ = check(str(binary), str(unguarded))
    assert rc == 1
    assert mismatches(out) == ["demo:guarded: has a semaphore in the binary but is not "
                               "documented as guarded (add 'Guarded: yes')"]
    ints_guarded = contract(tmp_path, CONTRACT.replace(
        "Is called when the program starts.", "Guarded: yes."), "ints.md")
    rc, out, _ = check(str(binary), str(ints_guarded))
    assert rc == 1
    assert mismatches(out) == ["demo:ints: documented as guarded but a site has no semaphore"]
