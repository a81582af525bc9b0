"""A BCC program attached to the header test program reads all 12 arguments exactly.

Every probe test:args0..12, test:vargs0..12 and test:guarded is enabled by pid; each
argument is read with bpf_usdt_readarg into a variable of its documented C type (BCC
checks the width), strings with bpf_probe_read_user_str and the 32-byte buffer with
bpf_probe_read_user. The callback only records; assertions run after polling.
"""
import ctypes as ct
import gc
import time

import pytest

from conftest import BUILD, require_bcc, require_built
from framework.probes_program import ARGS, PROBE_NAMES, ProbesProgram, expected_args

C_TYPES = {"int64": "s64", "uint64": "u64", "int32": "s32", "uint32": "u32",
           "int16": "s16", "uint16": "u16", "int8": "s8", "uint8": "u8", "bool": "u8"}
STR_LEN = 64

PROGRAM_HEAD = f"""
#include <uapi/linux/ptrace.h>
struct event {{
    u32 probe;
    u32 nargs;
    s64 raw[12];
    char str2[{STR_LEN}];
    char str12[{STR_LEN}];
    u8 bytes[32];
}};
BPF_PERF_OUTPUT(events);
BPF_PERCPU_ARRAY(scratch, struct event, 1);
"""


def read_arg_code(k, typ):
    """C statements reading argument k (1-based) of the documented type into ev."""
    if typ in C_TYPES:
        ctype = C_TYPES[typ]
        return (f"{{ {ctype} v = 0; bpf_usdt_readarg({k}, ctx, &v); "
                f"ev->raw[{k - 1}] = (s64)v; }}")
    if typ == "char*":
        field = "str2" if k == 2 else "str12"
        return (f"{{ u64 p = 0; bpf_usdt_readarg({k}, ctx, &p); ev->raw[{k - 1}] = p; "
                f"bpf_probe_read_user_str(ev->{field}, sizeof(ev->{field}), (void *)p); }}")
    assert typ == "u8*"
    return (f"{{ u64 p = 0; bpf_usdt_readarg({k}, ctx, &p); ev->raw[{k - 1}] = p; "
            f"bpf_probe_read_user(ev->bytes, sizeof(ev->bytes), (void *)p); }}")


def probe_function(index, name):
    if name == "guarded":
        types = ["int64", "char*"]
    else:
        types = [typ for typ, _, _, _ in expected_args(name)]
    body = "\n    ".join(read_arg_code(k + 1, t) for k, t in enumerate(types))
    return f"""
int probe_{index}(struct pt_regs *ctx) {{
    int zero = 0;
    struct event *ev = scratch.lookup(&zero);
    if (!ev)
        return 0;
    __builtin_memset(ev, 0, sizeof(*ev));
    ev->probe = {index};
    ev->nargs = {len(types)};
    {body}
    events.perf_submit(ctx, ev, sizeof(*ev));
    return 0;
}}
"""


class Event(ct.Structure):
    _fields_ = [("probe", ct.c_uint32), ("nargs", ct.c_uint32), ("raw", ct.c_int64 * 12),
                ("str2", ct.c_char * STR_LEN), ("str12", ct.c_char * STR_LEN),
                ("bytes", ct.c_uint8 * 32)]


def decode(ev):
    """The event's arguments as Python values, by the documented types."""
    name = PROBE_NAMES[ev.probe]
    types = ["int64", "char*"] if name == "guarded" else [a[0] for a in expected_args(name)]
    values = []
    for k, typ in enumerate(types, start=1):
        raw = ev.raw[k - 1]
        if typ == "char*":
            values.append((ev.str2 if k == 2 else ev.str12).decode())
        elif typ == "u8*":
            values.append(bytes(ev.bytes))
        elif typ.startswith("uint") or typ == "bool":
            values.append(raw & ((1 << 64) - 1))
        else:
            values.append(raw)
    if name == "guarded":
        values[1] = ev.str2.decode()
    return name, ev.nargs, values


@pytest.mark.parametrize("variant", ["probes-gcc-c", "probes-gcc-cxx", "probes-clang-c"])
def test_bcc_reads_all_twelve_arguments(variant):
    require_bcc()
    from bcc import BPF, USDT

    binary = require_built(BUILD / "test" / "header" / variant)
    text = PROGRAM_HEAD + "".join(probe_function(i, n) for i, n in enumerate(PROBE_NAMES))
    with ProbesProgram(binary) as prog:
        assert prog.sem() == 0
        usdt = USDT(pid=prog.pid)
        for i, name in enumerate(PROBE_NAMES):
            usdt.enable_probe(probe=f"test:{name}", fn_name=f"probe_{i}")
        bpf = BPF(text=text.encode(), usdt_contexts=[usdt])
        events = []
        bpf[b"events"].open_perf_buffer(
            lambda cpu, data, size: events.append(decode(ct.cast(data, ct.POINTER(Event)).contents)),
            page_cnt=64)
        try:
            assert prog.sem() > 0
            evals = prog.fire()
            assert evals == 1
            deadline = time.monotonic() + 30
            while len(events) < len(PROBE_NAMES) and time.monotonic() < deadline:
                bpf.perf_buffer_poll(timeout=200)
        finally:
            # Detach the uprobes, then close the USDT context: BCC lowers the
            # semaphores only when the context is freed.
            bpf.cleanup()
            del bpf, usdt
            gc.collect()
        prog.wait_sem(lambda v: v == 0)
        assert prog.fire() == evals, "guarded argument evaluated after detach"

    assert [e[0] for e in events] == PROBE_NAMES
    for name, nargs, values in events:
        if name == "guarded":
            assert (nargs, values) == (2, [evals, "guarded"])
            continue
        want = [value if typ != "bool" else int(value) for typ, _, _, value in expected_args(name)]
        assert nargs == len(want), name
        assert values == want, name
    assert len(ARGS) == 12
