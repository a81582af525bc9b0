"""Tracers for the coin_selection tracepoints, BCC and bpftrace.

Both turn every firing into a dict with `tp` and the arguments by the
names doc/tracing.md gives them, and share chain_tracers._Events
(select, wait_for, drain).
"""
import re
import time

from framework.chain_tracers import _Events
from framework.tracers import TracerProcess

COIN_SELECTION_TRACEPOINTS = (
    "coin_selection:selected_coins", "coin_selection:normal_create_tx_internal",
    "coin_selection:attempting_aps_create_tx", "coin_selection:aps_create_tx_internal",
)

NAMES = {
    "coin_selection:selected_coins": ["wallet", "algo", "target", "waste", "selected_value"],
    "coin_selection:normal_create_tx_internal": ["wallet", "success", "fee", "change_pos"],
    "coin_selection:attempting_aps_create_tx": ["wallet"],
    "coin_selection:aps_create_tx_internal": ["wallet", "use_aps", "success", "fee",
                                              "change_pos"],
}
_BOOLS = ("success", "use_aps")


def _event(tp, values):
    e = dict(zip(NAMES[tp], values))
    e["tp"] = tp
    for k in _BOOLS:
        if k in e:
            e[k] = bool(e[k])
    return e


# One event struct for the four: the wallet name, the algorithm name, and
# integers a[0..3] in argument order after the strings.
_BCC_PROGRAM = r"""
#include <uapi/linux/ptrace.h>

struct cs_event {
    u32 kind;
    char wallet[65];
    char algo[16];
    s64 a[4];
};

BPF_PERF_OUTPUT(cs_events);

static void read_wallet(struct pt_regs *ctx, struct cs_event *e, u64 p)
{
    bpf_probe_read_user_str(e->wallet, sizeof(e->wallet), (void *)p);
}

int trace_selected_coins(struct pt_regs *ctx)
{
    struct cs_event e = {};
    u64 p = 0;
    s64 x = 0;
    e.kind = 0;
    bpf_usdt_readarg(1, ctx, &p);
    read_wallet(ctx, &e, p);
    bpf_usdt_readarg(2, ctx, &p);
    bpf_probe_read_user_str(e.algo, sizeof(e.algo), (void *)p);
    bpf_usdt_readarg(3, ctx, &x); e.a[0] = x;
    bpf_usdt_readarg(4, ctx, &x); e.a[1] = x;
    bpf_usdt_readarg(5, ctx, &x); e.a[2] = x;
    cs_events.perf_submit(ctx, &e, sizeof(e));
    return 0;
}

int trace_normal_create_tx_internal(struct pt_regs *ctx)
{
    struct cs_event e = {};
    u64 p = 0;
    u8 ok = 0;
    s64 fee = 0;
    s32 pos = 0;
    e.kind = 1;
    bpf_usdt_readarg(1, ctx, &p);
    read_wallet(ctx, &e, p);
    bpf_usdt_readarg(2, ctx, &ok); e.a[0] = ok;
    bpf_usdt_readarg(3, ctx, &fee); e.a[1] = fee;
    bpf_usdt_readarg(4, ctx, &pos); e.a[2] = pos;
    cs_events.perf_submit(ctx, &e, sizeof(e));
    return 0;
}

int trace_attempting_aps_create_tx(struct pt_regs *ctx)
{
    struct cs_event e = {};
    u64 p = 0;
    e.kind = 2;
    bpf_usdt_readarg(1, ctx, &p);
    read_wallet(ctx, &e, p);
    cs_events.perf_submit(ctx, &e, sizeof(e));
    return 0;
}

int trace_aps_create_tx_internal(struct pt_regs *ctx)
{
    struct cs_event e = {};
    u64 p = 0;
    u8 use = 0, ok = 0;
    s64 fee = 0;
    s32 pos = 0;
    e.kind = 3;
    bpf_usdt_readarg(1, ctx, &p);
    read_wallet(ctx, &e, p);
    bpf_usdt_readarg(2, ctx, &use); e.a[0] = use;
    bpf_usdt_readarg(3, ctx, &ok); e.a[1] = ok;
    bpf_usdt_readarg(4, ctx, &fee); e.a[2] = fee;
    bpf_usdt_readarg(5, ctx, &pos); e.a[3] = pos;
    cs_events.perf_submit(ctx, &e, sizeof(e));
    return 0;
}
"""


class CoinSelectionTracer(_Events):
    """BCC on the four coin_selection tracepoints of process `pid`."""

    def __init__(self, binary, pid):
        from bcc import BPF, USDT  # Debian's python3-bpfcc
        self.events = []
        self.lost = 0
        usdt = USDT(path=str(binary), pid=pid)
        for tp in COIN_SELECTION_TRACEPOINTS:
            usdt.enable_probe(probe=tp, fn_name="trace_" + tp.split(":")[1])
        self.bpf = BPF(text=_BCC_PROGRAM.encode(), usdt_contexts=[usdt])
        self.bpf["cs_events"].open_perf_buffer(self._on_event, page_cnt=64,
                                               lost_cb=self._on_lost)

    def _on_lost(self, count):
        self.lost += count

    def _on_event(self, _cpu, data, _size):
        e = self.bpf["cs_events"].event(data)
        tp = COIN_SELECTION_TRACEPOINTS[e.kind]
        wallet = e.wallet.decode()
        if e.kind == 0:
            values = [wallet, e.algo.decode(), e.a[0], e.a[1], e.a[2]]
        else:
            values = [wallet] + list(e.a[:len(NAMES[tp]) - 1])
        self.events.append(_event(tp, values))

    def poll(self, timeout_ms=50):
        self.bpf.perf_buffer_poll(timeout=timeout_ms)

    def close(self):
        self.bpf.cleanup()


_BPFTRACE_PROGRAM = r"""
BEGIN { printf("READY\n"); }

usdt:$1:coin_selection:selected_coins
{ printf("E\tcoin_selection:selected_coins\t%s\t%s\t%lld\t%lld\t%lld\n", str(arg0), str(arg1),
         (int64)arg2, (int64)arg3, (int64)arg4); }

usdt:$1:coin_selection:normal_create_tx_internal
{ printf("E\tcoin_selection:normal_create_tx_internal\t%s\t%u\t%lld\t%d\n", str(arg0),
         (uint8)arg1, (int64)arg2, (int32)arg3); }

usdt:$1:coin_selection:attempting_aps_create_tx
{ printf("E\tcoin_selection:attempting_aps_create_tx\t%s\n", str(arg0)); }

usdt:$1:coin_selection:aps_create_tx_internal
{ printf("E\tcoin_selection:aps_create_tx_internal\t%s\t%u\t%u\t%lld\t%d\n", str(arg0),
         (uint8)arg1, (uint8)arg2, (int64)arg3, (int32)arg4); }
"""


class BpftraceCoinSelectionTracer(_Events):
    """bpftrace -p PID on the coin_selection tracepoints (same event dicts)."""

    def __init__(self, binary, pid, workdir):
        script = workdir / "coin_selection_test.bt"
        script.write_text(_BPFTRACE_PROGRAM)
        self.proc = TracerProcess(["bpftrace", "-p", str(pid), str(script), str(binary)],
                                  env={"BPFTRACE_STRLEN": "80"})
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
                tp = f[1]
                values = [f[2]] + [v if tp.endswith("selected_coins") and i == 0 else int(v)
                                   for i, v in enumerate(f[3:])]
                self.events.append(_event(tp, values))
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
