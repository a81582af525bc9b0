"""Tracers for the chain tracepoints (validation, utxocache, mempool).

ChainTracer attaches BCC, BpftraceChainTracer runs bpftrace; both turn
every firing into a dict with `tp` (e.g. "utxocache:add") and the
arguments by the names doc/tracing.md gives them, hashes as bytes in
internal order (reverse for display). bpftrace 0.17 reads arg0..arg5, so
its mempool:replaced events lack `replacement_fee`.
"""
import ctypes
import re
import time

from framework.node import wait_until
from framework.tracers import TracerProcess

CHAIN_TRACEPOINTS = (
    "validation:block_connected", "utxocache:flush", "utxocache:add", "utxocache:spent",
    "utxocache:uncache", "mempool:added", "mempool:removed", "mempool:replaced",
    "mempool:rejected",
)

# One event struct for every tracepoint: two hashes, eight integers, a string.
_BCC_PROGRAM = r"""
#include <uapi/linux/ptrace.h>

struct chain_event {
    u64 ts;
    u32 kind;
    u8 h1[32];
    u8 h2[32];
    s64 a[7];
    char s[120];
};

BPF_PERF_OUTPUT(chain_events);

"""

# (kind, tracepoint, [(argument number, field)]) — fields: "h1"/"h2" hash,
# "s" string, "aN" integer slot N.
_LAYOUT = [
    (1, "validation:block_connected", [(1, "h1"), (2, "a0"), (3, "a1"), (4, "a2"), (5, "a3"), (6, "a4")]),
    (2, "utxocache:flush", [(1, "a0"), (2, "a1"), (3, "a2"), (4, "a3"), (5, "a4")]),
    (3, "utxocache:add", [(1, "h1"), (2, "a0"), (3, "a1"), (4, "a2"), (5, "a3")]),
    (4, "utxocache:spent", [(1, "h1"), (2, "a0"), (3, "a1"), (4, "a2"), (5, "a3")]),
    (5, "utxocache:uncache", [(1, "h1"), (2, "a0"), (3, "a1"), (4, "a2"), (5, "a3")]),
    (6, "mempool:added", [(1, "h1"), (2, "a0"), (3, "a1")]),
    (7, "mempool:removed", [(1, "h1"), (2, "s"), (3, "a0"), (4, "a1"), (5, "a2")]),
    (8, "mempool:replaced", [(1, "h1"), (2, "a0"), (3, "a1"), (4, "a2"), (5, "h2"), (6, "a3"), (7, "a4")]),
    (9, "mempool:rejected", [(1, "h1"), (2, "s")]),
]

# Field names per tracepoint, in the order of the slots above.
_NAMES = {
    "validation:block_connected": ["hash", "height", "transactions", "inputs", "sigops", "duration"],
    "utxocache:flush": ["duration", "mode", "coins", "memory", "pruning"],
    "utxocache:add": ["txid", "index", "height", "value", "coinbase"],
    "utxocache:spent": ["txid", "index", "height", "value", "coinbase"],
    "utxocache:uncache": ["txid", "index", "height", "value", "coinbase"],
    "mempool:added": ["txid", "vsize", "fee"],
    "mempool:removed": ["txid", "reason", "vsize", "fee", "entry_time"],
    "mempool:replaced": ["replaced_txid", "replaced_vsize", "replaced_fee", "replaced_time",
                         "replacement_txid", "replacement_vsize", "replacement_fee"],
    "mempool:rejected": ["txid", "reason"],
}

# C types of the integer arguments that are not 64-bit: BCC's
# bpf_usdt_readarg insists the destination has exactly the argument's size.
_SMALL = {
    ("validation:block_connected", 2): "s32", ("validation:block_connected", 4): "s32",
    ("utxocache:flush", 2): "u32", ("utxocache:flush", 5): "u8",
    ("mempool:added", 2): "s32", ("mempool:removed", 3): "s32",
    ("mempool:replaced", 2): "s32", ("mempool:replaced", 6): "s32",
}
for _tp in ("utxocache:add", "utxocache:spent", "utxocache:uncache"):
    _SMALL.update({(_tp, 2): "u32", (_tp, 3): "u32", (_tp, 5): "u8"})


def _handler(kind, tp, args):
    name = "trace_" + tp.replace(":", "_")
    body = [f"int {name}(struct pt_regs *ctx)", "{",
            "    struct chain_event e = {};", "    u64 v = 0;",
            "    e.ts = bpf_ktime_get_ns();", f"    e.kind = {kind};"]
    for n, field in args:
        if field in ("h1", "h2"):
            # Inline: BCC rewrites bpf_usdt_readarg only in the probe function.
            body += ["    v = 0;", f"    bpf_usdt_readarg({n}, ctx, &v);",
                     f"    bpf_probe_read_user(e.{field}, 32, (void *)v);"]
        elif field == "s":
            body += [f"    bpf_usdt_readarg({n}, ctx, &v);",
                     "    bpf_probe_read_user_str(e.s, sizeof(e.s), (void *)v);"]
        else:
            ctype = _SMALL.get((tp, n), "s64")
            body += ["    {", f"        {ctype} x = 0;",
                     f"        bpf_usdt_readarg({n}, ctx, &x);",
                     f"        e.a[{field[1:]}] = (s64)x;", "    }"]
    body += ["    chain_events.perf_submit(ctx, &e, sizeof(e));", "    return 0;", "}", ""]
    return "\n".join(body)


def _event(tp, values):
    e = dict(zip(_NAMES[tp], values))
    e["tp"] = tp
    if "coinbase" in e:
        e["coinbase"] = bool(e["coinbase"])
    if "pruning" in e:
        e["pruning"] = bool(e["pruning"])
    return e


class _Events:
    """Shared by both tracers: events in firing order, and waiting."""

    def select(self, tp, **match):
        return [e for e in self.events if e["tp"] == tp and
                all(e.get(k) == v for k, v in match.items())]

    def wait_for(self, tp, count=1, timeout_s=30, **match):
        def enough():
            self.poll()
            found = self.select(tp, **match)
            return found if len(found) >= count else None
        return wait_until(enough, timeout_s, what=f"{count} x {tp} {match}")

    def drain(self, quiet_s=0.3):
        """Poll until no new event arrived for quiet_s."""
        n = -1
        while n != len(self.events):
            n = len(self.events)
            self.poll()
            time.sleep(quiet_s)
            self.poll()


class ChainTracer(_Events):
    """BCC on every chain tracepoint of process `pid` running `binary`."""

    def __init__(self, binary, pid):
        from bcc import BPF, USDT  # Debian's python3-bpfcc
        self.events = []
        self.lost = 0
        self.usdt = usdt = USDT(path=str(binary), pid=pid)
        text = _BCC_PROGRAM
        for kind, tp, args in _LAYOUT:
            text += _handler(kind, tp, args)
            usdt.enable_probe(probe=tp, fn_name="trace_" + tp.replace(":", "_"))
        self.bpf = BPF(text=text.encode(), usdt_contexts=[usdt])
        self.bpf["chain_events"].open_perf_buffer(self._on_event, page_cnt=1024,
                                                  lost_cb=self._on_lost)

    def _on_lost(self, count):
        self.lost += count

    def _on_event(self, _cpu, data, _size):
        e = self.bpf["chain_events"].event(data)
        kind, tp, args = _LAYOUT[e.kind - 1]
        values = []
        for _n, field in args:
            if field in ("h1", "h2"):
                values.append(bytes(getattr(e, field)))
            elif field == "s":
                values.append(e.s.decode(errors="replace"))  # ctypes stops at NUL
            else:
                values.append(e.a[int(field[1:])])
        self.events.append(_event(tp, values))

    def poll(self, timeout_ms=50):
        self.bpf.perf_buffer_poll(timeout=timeout_ms)

    def close(self):
        self.bpf.cleanup()


_BPFTRACE_PROGRAM = r"""
BEGIN { printf("READY\n"); }

usdt:$1:validation:block_connected
{ printf("E\tvalidation:block_connected\t%rx\t%d\t%llu\t%d\t%llu\t%llu\n", buf(arg0, 32),
         (int32)arg1, (uint64)arg2, (int32)arg3, (uint64)arg4, (uint64)arg5); }

usdt:$1:utxocache:flush
{ printf("E\tutxocache:flush\t%lld\t%u\t%llu\t%llu\t%u\n", (int64)arg0, (uint32)arg1,
         (uint64)arg2, (uint64)arg3, (uint8)arg4); }

usdt:$1:utxocache:add, usdt:$1:utxocache:spent, usdt:$1:utxocache:uncache
{ printf("E\t%s\t%rx\t%u\t%u\t%lld\t%u\n", probe, buf(arg0, 32), (uint32)arg1, (uint32)arg2,
         (int64)arg3, (uint8)arg4); }

usdt:$1:mempool:added
{ printf("E\tmempool:added\t%rx\t%d\t%lld\n", buf(arg0, 32), (int32)arg1, (int64)arg2); }

usdt:$1:mempool:removed
{ printf("E\tmempool:removed\t%rx\t%s\t%d\t%lld\t%llu\n", buf(arg0, 32), str(arg1),
         (int32)arg2, (int64)arg3, (uint64)arg4); }

usdt:$1:mempool:replaced
{ printf("E\tmempool:replaced\t%rx\t%d\t%lld\t%llu\t%rx\t%d\n", buf(arg0, 32), (int32)arg1,
         (int64)arg2, (uint64)arg3, buf(arg4, 32), (int32)arg5); }

usdt:$1:mempool:rejected
{ printf("E\tmempool:rejected\t%rx\t%s\n", buf(arg0, 32), str(arg1)); }
"""


class BpftraceTracer(_Events):
    """bpftrace -p PID running `program` (a class attribute) against
    `binary`; subclasses turn each output line into events (_parse)."""

    program = ""
    env = {}

    def __init__(self, binary, pid, workdir):
        script = workdir / (type(self).__name__ + ".bt")
        script.write_text(self.program)
        self.proc = TracerProcess(["bpftrace", "-p", str(pid), str(script), str(binary)],
                                  env=self.env)
        self.proc.wait_for_line(r"^READY$", timeout_s=60)
        self.events = []
        self.lost = 0
        self._parsed = 0

    def poll(self, timeout_ms=50):
        time.sleep(timeout_ms / 1000)
        lines = self.proc.output()
        for line in lines[self._parsed:]:
            f = line.split("\t")
            if f[0] == "E":
                self._parse(f)
            else:
                m = re.search(r"[Ll]ost (\d+) events", line)
                if m:
                    self.lost += int(m.group(1))
        self._parsed = len(lines)

    def errors(self):
        from framework.tracers import bpftrace_errors
        return bpftrace_errors(self.proc.stderr())

    def close(self):
        self.proc.stop()


class BpftraceChainTracer(BpftraceTracer):
    """bpftrace -p PID on every chain tracepoint (same event dicts)."""

    program = _BPFTRACE_PROGRAM
    env = {"BPFTRACE_STRLEN": "120", "BPFTRACE_PERF_RB_PAGES": "1024"}

    def _parse(self, f):
        tp = f[1].split(":", 1)[1] if f[1].startswith("usdt:") else f[1]
        if tp.count(":") > 1:          # "usdt:/path:ctx:name" from `probe`
            tp = ":".join(tp.rsplit(":", 2)[-2:])
        values = []
        for v in f[2:]:
            if v.startswith("\\x"):
                values.append(bytes.fromhex(v.replace("\\x", "")))
            else:
                try:
                    values.append(int(v))
                except ValueError:
                    values.append(v)
        self.events.append(_event(tp, values))
