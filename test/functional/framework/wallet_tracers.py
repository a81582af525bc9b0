"""Tracers for the coin_selection tracepoints, BCC and bpftrace.

The BCC one runs the BPF program of contrib/tracing/log_coin_selection.py
(so the test also holds the script's kernel side to the contract); the
bpftrace one has its own. Both turn every firing into a dict with `tp` and the arguments by the
names doc/tracing.md gives them, and share chain_tracers._Events
(select, wait_for, drain).
"""
from framework.chain_tracers import BpftraceTracer, _Events

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


def _script_program():
    """The BPF side of contrib/tracing/log_coin_selection.py: the test reads
    the tracepoints through the same program the script ships."""
    import importlib.util
    from conftest import ROOT
    path = ROOT / "contrib" / "tracing" / "log_coin_selection.py"
    spec = importlib.util.spec_from_file_location("log_coin_selection", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.PROGRAM, mod.PROBES


class CoinSelectionTracer(_Events):
    """BCC on the four coin_selection tracepoints of process `pid`."""

    def __init__(self, binary, pid):
        from bcc import BPF, USDT  # Debian's python3-bpfcc
        self.events = []
        self.lost = 0
        program, probes = _script_program()
        usdt = USDT(path=str(binary), pid=pid)
        for tp, fn in probes:
            usdt.enable_probe(probe=tp, fn_name=fn)
        self.bpf = BPF(text=program.encode(), usdt_contexts=[usdt])
        self.bpf[b"events"].open_ring_buffer(self._on_event)

    def _on_event(self, _ctx, data, _size):
        e = self.bpf[b"events"].event(data)
        tp = COIN_SELECTION_TRACEPOINTS[e.kind]
        wallet = e.wallet.decode()
        if e.kind == 0:
            values = [wallet, e.algo.decode(), e.a[0], e.a[1], e.a[2]]
        else:
            values = [wallet] + list(e.a[:len(NAMES[tp]) - 1])
        self.events.append(_event(tp, values))

    def poll(self, timeout_ms=50):
        self.bpf.ring_buffer_poll(timeout=timeout_ms)
        table = self.bpf[b"lost"]
        self.lost = int(table[table.Key(0)].value)

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


class BpftraceCoinSelectionTracer(BpftraceTracer):
    """bpftrace -p PID on the coin_selection tracepoints (same event dicts)."""

    program = _BPFTRACE_PROGRAM
    env = {"BPFTRACE_STRLEN": "80"}

    def _parse(self, f):
        tp = f[1]
        values = [f[2]] + [v if tp.endswith("selected_coins") and i == 0 else int(v)
                           for i, v in enumerate(f[3:])]
        self.events.append(_event(tp, values))
