"""Attach tracers to a running moneyrocketd from tests.

TracerProcess runs a tracer program (bpftrace, a BCC script) in the
background, collects its output lines in a reader thread, and stops it with
SIGINT (what Ctrl-C sends) so it prints its summary and exits cleanly.

NetTracer attaches BCC to the seven `net:` tracepoints of one node process
and records every event as a dict. Its callbacks only append; tests poll with
`wait_for` and assert afterwards (an exception inside a BCC callback would
be lost).
"""
import ctypes
import os
import re
import signal
import subprocess
import threading
import time

from framework.node import timeout, wait_until


class TracerProcess:
    """A tracer running in the background with its output collected.

    stdout and stderr are read line by line into `.lines` / `.err_lines`.
    """

    def __init__(self, cmd, env=None, cwd=None):
        self.cmd = [str(c) for c in cmd]
        full_env = dict(os.environ)
        full_env.update(env or {})
        full_env.setdefault("PYTHONUNBUFFERED", "1")
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL, env=full_env, cwd=cwd,
                                     text=True, errors="replace", bufsize=1)
        self.lines = []
        self.err_lines = []
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._read, args=(self.proc.stdout, self.lines),
                                          daemon=True),
                         threading.Thread(target=self._read, args=(self.proc.stderr, self.err_lines),
                                          daemon=True)]
        for t in self._threads:
            t.start()

    def _read(self, stream, into):
        for line in stream:
            with self._lock:
                into.append(line.rstrip("\n"))

    def output(self):
        with self._lock:
            return list(self.lines)

    def stderr(self):
        with self._lock:
            return list(self.err_lines)

    def find(self, pattern, start=0):
        """Lines of stdout (from index `start`) matching regex `pattern`."""
        rx = re.compile(pattern)
        return [l for l in self.output()[start:] if rx.search(l)]

    def wait_for_line(self, pattern, timeout_s=60, start=0):
        """Wait for a stdout line matching `pattern`; return it.

        Raises with the tracer's stderr if the tracer exits first.
        """
        rx = re.compile(pattern)

        def seen():
            for l in self.output()[start:]:
                if rx.search(l):
                    return l
            if self.proc.poll() is not None:
                time.sleep(0.1)  # let the reader threads finish
                for l in self.output()[start:]:
                    if rx.search(l):
                        return l
                raise AssertionError(f"{self.cmd} exited {self.proc.returncode} before printing "
                                     f"{pattern!r}\nstdout:\n" + "\n".join(self.output()) +
                                     "\nstderr:\n" + "\n".join(self.stderr()))
            return None
        return wait_until(seen, timeout_s, what=f"{os.path.basename(self.cmd[0])} output {pattern!r}")

    def stop(self, sig=signal.SIGINT, timeout_s=30):
        """Send `sig` (Ctrl-C by default) and wait; return the exit code."""
        # bpftrace gets the signal again every 10 s: once, in CI, bpftrace
        # 0.17 sat for 30 s after a single SIGINT on a loaded machine, and
        # a user would press Ctrl-C again too. Python scripts get it once,
        # as a second KeyboardInterrupt would land in their clean-up.
        repeat = os.path.basename(self.cmd[0]) == "bpftrace"
        deadline = time.monotonic() + timeout(timeout_s)
        sent = False
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"{self.cmd} did not exit within {timeout_s}s of {sig!r}"
                                     "\nstderr:\n" + "\n".join(self.stderr()))
            if repeat or not sent:
                self.proc.send_signal(sig)
                sent = True
            try:
                self.proc.wait(min(10.0, max(deadline - time.monotonic(), 0.1)))
            except subprocess.TimeoutExpired:
                pass
        for t in self._threads:
            t.join(5)
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


# bpftrace 0.17 prints this when it cannot raise RLIMIT_MEMLOCK (a container
# without CAP_SYS_RESOURCE); kernels >= 5.11 account BPF memory to the cgroup,
# so loading works anyway. Tests ignore exactly this line.
BPFTRACE_BENIGN = re.compile(r"couldn't set RLIMIT_MEMLOCK")


def bpftrace_errors(lines):
    """stderr lines of bpftrace that are not the benign RLIMIT warning."""
    return [l for l in lines if l.strip() and not BPFTRACE_BENIGN.search(l)]


# ---- BCC tracer for all net tracepoints ----------------------------------

MAX_MSG_CAPTURE = 4096   # power of two: payload bytes copied per message event

_BPF_TEXT = r"""
#include <uapi/linux/ptrace.h>

#define ADDR_LEN 69
#define CONN_LEN 21
#define TYPE_LEN 21
#define REASON_LEN 129
#define MAX_CAPTURE @MAX_CAPTURE@

struct msg_event {
    u64 ts;              /* bpf_ktime_get_ns(): orders events across CPUs */
    u32 kind;            /* 1 inbound, 2 outbound */
    u32 captured;
    s64 peer_id;
    u64 size;
    char addr[ADDR_LEN];
    char conn_type[CONN_LEN];
    char msg_type[TYPE_LEN];
    u8 data[MAX_CAPTURE];
};

struct conn_event {
    u64 ts;
    u32 kind;            /* 3 inbound, 4 outbound, 5 closed, 6 evicted */
    u32 network;
    s64 peer_id;
    u64 value;           /* connection count or established time */
    char addr[ADDR_LEN];
    char conn_type[CONN_LEN];
};

struct misbehaving_event {
    u64 ts;
    s64 peer_id;
    char reason[REASON_LEN];
};

BPF_PERCPU_ARRAY(msg_scratch, struct msg_event, 1);
BPF_PERF_OUTPUT(msg_events);
BPF_PERF_OUTPUT(conn_events);
BPF_PERF_OUTPUT(misbehaving_events);

@FUNCTIONS@

int trace_misbehaving_connection(struct pt_regs *ctx)
{
    struct misbehaving_event e = {};
    u64 p = 0;
    e.ts = bpf_ktime_get_ns();
    bpf_usdt_readarg(1, ctx, &e.peer_id);
    bpf_usdt_readarg(2, ctx, &p);
    bpf_probe_read_user_str(e.reason, sizeof(e.reason), (void *)p);
    misbehaving_events.perf_submit(ctx, &e, sizeof(e));
    return 0;
}
"""

# BCC binds each bpf_usdt_readarg() to the probe of the function it is
# written in, so every probe gets its own function made from these templates.
_MSG_FN = r"""
int trace_@TP@(struct pt_regs *ctx)
{
    int zero = 0;
    struct msg_event *e = msg_scratch.lookup(&zero);
    if (!e)
        return 0;
    u64 p = 0;
    e->ts = bpf_ktime_get_ns();
    e->kind = @KIND@;
    bpf_usdt_readarg(1, ctx, &e->peer_id);
    bpf_usdt_readarg(2, ctx, &p);
    bpf_probe_read_user_str(e->addr, sizeof(e->addr), (void *)p);
    bpf_usdt_readarg(3, ctx, &p);
    bpf_probe_read_user_str(e->conn_type, sizeof(e->conn_type), (void *)p);
    bpf_usdt_readarg(4, ctx, &p);
    bpf_probe_read_user_str(e->msg_type, sizeof(e->msg_type), (void *)p);
    bpf_usdt_readarg(5, ctx, &e->size);
    bpf_usdt_readarg(6, ctx, &p);
    u64 n = e->size < MAX_CAPTURE ? e->size : MAX_CAPTURE;
    /* The barrier keeps the compiler from folding the check below into
     * the one above, so the verifier sees n bounded where it is used. */
    asm volatile("" : "+r"(n));
    if (n > MAX_CAPTURE)
        return 0;
    e->captured = n;
    if (n > 0)
        bpf_probe_read_user(e->data, n, (void *)p);
    msg_events.perf_submit(ctx, e, sizeof(*e));
    return 0;
}
"""

_CONN_FN = r"""
int trace_@TP@(struct pt_regs *ctx)
{
    struct conn_event e = {};
    u64 p = 0;
    e.ts = bpf_ktime_get_ns();
    e.kind = @KIND@;
    bpf_usdt_readarg(1, ctx, &e.peer_id);
    bpf_usdt_readarg(2, ctx, &p);
    bpf_probe_read_user_str(e.addr, sizeof(e.addr), (void *)p);
    bpf_usdt_readarg(3, ctx, &p);
    bpf_probe_read_user_str(e.conn_type, sizeof(e.conn_type), (void *)p);
    bpf_usdt_readarg(4, ctx, &e.network);
    bpf_usdt_readarg(5, ctx, &e.value);
    conn_events.perf_submit(ctx, &e, sizeof(e));
    return 0;
}
"""


def _program_text():
    fns = [_MSG_FN.replace("@TP@", "inbound_message").replace("@KIND@", "1"),
           _MSG_FN.replace("@TP@", "outbound_message").replace("@KIND@", "2")]
    for kind, tp in _CONN_KINDS.items():
        fns.append(_CONN_FN.replace("@TP@", tp).replace("@KIND@", str(kind)))
    return (_BPF_TEXT.replace("@MAX_CAPTURE@", str(MAX_MSG_CAPTURE))
            .replace("@FUNCTIONS@", "".join(fns)))


NET_TRACEPOINTS = ("inbound_message", "outbound_message", "inbound_connection",
                   "outbound_connection", "closed_connection",
                   "evicted_inbound_connection", "misbehaving_connection")

_CONN_KINDS = {3: "inbound_connection", 4: "outbound_connection",
               5: "closed_connection", 6: "evicted_inbound_connection"}
_CONN_VALUE = {3: "inbound_count", 4: "outbound_count", 5: "established",
               6: "established"}


def _cstr(raw):
    return bytes(raw).split(b"\0", 1)[0].decode(errors="replace")


class NetTracer:
    """BCC attached to the net tracepoints of process `pid` running `binary`.

    Events are dicts with `tp` (tracepoint name without `net:`) and the
    arguments by name: peer_id, addr, conn_type, msg_type, size, data
    (captured bytes), network, inbound_count / outbound_count, established,
    reason. `lost` counts samples the kernel dropped.
    """

    def __init__(self, binary, pid, tracepoints=NET_TRACEPOINTS):
        from bcc import BPF, USDT  # Debian's python3-bpfcc
        self.events = []
        self.lost = 0
        # Keep the USDT context alive: freeing it resets the semaphores,
        # and guarded tracepoints would stop firing.
        self.usdt = usdt = USDT(path=str(binary), pid=pid)
        for tp in tracepoints:
            usdt.enable_probe(probe=f"net:{tp}", fn_name=f"trace_{tp}")
        self.bpf = BPF(text=_program_text(), usdt_contexts=[usdt])
        self.bpf["msg_events"].open_perf_buffer(self._on_msg, page_cnt=256, lost_cb=self._on_lost)
        self.bpf["conn_events"].open_perf_buffer(self._on_conn, page_cnt=64, lost_cb=self._on_lost)
        self.bpf["misbehaving_events"].open_perf_buffer(self._on_misbehaving, page_cnt=64,
                                                        lost_cb=self._on_lost)

    # Callbacks: record only.
    def _on_lost(self, count):
        self.lost += count

    def _on_msg(self, _cpu, data, _size):
        e = self.bpf["msg_events"].event(data)
        self.events.append({
            "tp": "inbound_message" if e.kind == 1 else "outbound_message",
            "peer_id": e.peer_id, "addr": _cstr(e.addr), "conn_type": _cstr(e.conn_type),
            "msg_type": _cstr(e.msg_type), "size": e.size,
            "data": ctypes.string_at(ctypes.addressof(e.data), e.captured),
            "ts": e.ts})

    def _on_conn(self, _cpu, data, _size):
        e = self.bpf["conn_events"].event(data)
        self.events.append({
            "tp": _CONN_KINDS[e.kind], "peer_id": e.peer_id, "addr": _cstr(e.addr),
            "conn_type": _cstr(e.conn_type), "network": e.network,
            _CONN_VALUE[e.kind]: e.value, "ts": e.ts})

    def _on_misbehaving(self, _cpu, data, _size):
        e = self.bpf["misbehaving_events"].event(data)
        self.events.append({"tp": "misbehaving_connection", "peer_id": e.peer_id,
                            "reason": _cstr(e.reason), "ts": e.ts})

    def poll(self, timeout_ms=50):
        self.bpf.perf_buffer_poll(timeout=timeout_ms)
        self.events.sort(key=lambda e: e["ts"])

    def select(self, tp=None, **fields):
        """Recorded events of tracepoint `tp` whose fields equal `fields`, in
    the order they fired (each CPU has its own buffer, so arrival order is
    not firing order; `poll` sorts by the kernel timestamp `ts`)."""
        return [e for e in self.events
                if (tp is None or e["tp"] == tp)
                and all(e.get(k) == v for k, v in fields.items())]

    def wait_for(self, tp, predicate=None, timeout_s=30, count=1, **fields):
        """Poll until `count` events match; return the list of matches."""
        def enough():
            self.poll()
            found = [e for e in self.select(tp, **fields) if predicate is None or predicate(e)]
            return found if len(found) >= count else None
        return wait_until(enough, timeout_s, interval=0,
                          what=f"{count}x net:{tp} {fields or ''}")

    def drain(self, quiet_ms=200):
        """Poll until nothing new arrives for `quiet_ms`."""
        while True:
            n = len(self.events)
            self.poll(quiet_ms)
            if len(self.events) == n:
                return

    def close(self):
        """Detach. The uprobes go away only with the BPF object and the USDT
        context; until then the kernel refuses a tracer that registers the
        same probes with a semaphore offset (bpftrace): "ref_ctr_offset
        mismatch"."""
        if self.bpf is not None:
            self.bpf.cleanup()
        self.bpf = None
        self.usdt = None


# ---- bpftrace tracer for all net tracepoints -----------------------------

BPFTRACE_CHUNK = 64      # bytes per buf() print (BPFTRACE_STRLEN default)
BPFTRACE_CHUNKS = 8      # so up to 512 payload bytes per message are printed

# One tab-separated line per event; message payloads follow as "D" lines
# keyed by the event's nsecs stamp. bpftrace 0.17 reads arg0..arg5 only,
# which is exactly the six arguments of the message tracepoints.
_BPFTRACE_MSG_PROGRAM = r"""
BEGIN { printf("READY\n"); }

usdt:$1:net:inbound_message, usdt:$1:net:outbound_message
{
	$t = nsecs;
	$size = (uint64)arg4;
	printf("M\t%s\t%llu\t%lld\t%s\t%s\t%s\t%llu\n", probe, $t, (int64)arg0, str(arg1),
	       str(arg2), str(arg3), $size);
	$off = (uint64)0;
	unroll(@CHUNKS@) {
		if ($off < $size) {
			$n = $size - $off;
			if ($n > @CHUNK@) { $n = @CHUNK@; }
			printf("D\t%llu\t%llu\t%rx\n", $t, $off, buf(arg5 + $off, $n));
			$off = $off + @CHUNK@;
		}
	}
}

"""

_BPFTRACE_CONN_PROGRAM = r"""
BEGIN { printf("READY\n"); }

usdt:$1:net:inbound_connection, usdt:$1:net:outbound_connection,
usdt:$1:net:closed_connection, usdt:$1:net:evicted_inbound_connection
{
	printf("C\t%llu\t%s\t%lld\t%s\t%s\t%u\t%llu\n", nsecs, probe, (int64)arg0, str(arg1),
	       str(arg2), (uint32)arg3, (uint64)arg4);
}

usdt:$1:net:misbehaving_connection
{
	printf("X\t%llu\t%lld\t%s\n", nsecs, (int64)arg0, str(arg1));
}
"""


def _unhex(text):
    """Bytes from bpftrace's %rx output (\\x00\\x01...)."""
    return bytes.fromhex(text.replace("\\x", ""))


class BpftraceNetTracer:
    """bpftrace attached to the net tracepoints of process `pid`.

    Same interface and event dicts as NetTracer; `data` holds at most
    BPFTRACE_CHUNK * BPFTRACE_CHUNKS payload bytes.
    """

    def __init__(self, binary, pid, workdir):
        msg_script = os.path.join(workdir, "net_messages_test.bt")
        with open(msg_script, "w") as f:
            f.write(_BPFTRACE_MSG_PROGRAM.replace("@CHUNKS@", str(BPFTRACE_CHUNKS))
                    .replace("@CHUNK@", str(BPFTRACE_CHUNK)))
        conn_script = os.path.join(workdir, "net_connections_test.bt")
        with open(conn_script, "w") as f:
            f.write(_BPFTRACE_CONN_PROGRAM)
        # Two processes because BPFTRACE_STRLEN is global and the BPF stack
        # is 512 bytes: three 70-byte strings plus a payload chunk for
        # messages (addresses are at most 68 characters), two 130-byte
        # strings for connections (reasons are at most 128).
        self.procs = [
            TracerProcess(["bpftrace", "-p", str(pid), msg_script, str(binary)],
                          env={"BPFTRACE_STRLEN": "70"}),
            TracerProcess(["bpftrace", "-p", str(pid), conn_script, str(binary)],
                          env={"BPFTRACE_STRLEN": "130"})]
        for proc in self.procs:
            proc.wait_for_line(r"^READY$", timeout_s=60)
        self._parsed = [0, 0]
        self.events = []
        self.lost = 0
        self._by_stamp = {}

    def poll(self, timeout_ms=50):
        time.sleep(timeout_ms / 1000)
        for i, proc in enumerate(self.procs):
            lines = proc.output()
            for line in lines[self._parsed[i]:]:
                self._parse(line)
            self._parsed[i] = len(lines)
        self.events.sort(key=lambda e: e["ts"])

    def _parse(self, line):
        f = line.split("\t")
        if f[0] == "M":
            tp = f[1].rsplit(":", 1)[1]
            e = {"tp": tp, "peer_id": int(f[3]), "addr": f[4], "conn_type": f[5],
                 "msg_type": f[6], "size": int(f[7]), "data": b"", "ts": int(f[2])}
            self._by_stamp[f[2]] = e
            self.events.append(e)
        elif f[0] == "D":
            e = self._by_stamp[f[1]]
            assert int(f[2]) == len(e["data"]), f"payload chunk out of order: {line}"
            e["data"] += _unhex(f[3])
        elif f[0] == "C":
            tp = f[2].rsplit(":", 1)[1]
            kind = {v: k for k, v in _CONN_KINDS.items()}[tp]
            self.events.append({"tp": tp, "peer_id": int(f[3]), "addr": f[4],
                                "conn_type": f[5], "network": int(f[6]),
                                _CONN_VALUE[kind]: int(f[7]), "ts": int(f[1])})
        elif f[0] == "X":
            self.events.append({"tp": "misbehaving_connection", "peer_id": int(f[2]),
                                "reason": f[3], "ts": int(f[1])})
        elif re.search(r"[Ll]ost \d+ events", line):
            self.lost += int(re.search(r"(\d+)", line).group(1))

    select = NetTracer.select
    wait_for = NetTracer.wait_for
    drain = NetTracer.drain

    def errors(self):
        return [e for proc in self.procs for e in bpftrace_errors(proc.stderr())]

    def close(self):
        for proc in self.procs:
            proc.stop()
