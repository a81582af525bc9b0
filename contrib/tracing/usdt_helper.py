"""usdt_helper.py — what the BCC scripts in contrib/tracing share.

- require_root(prog): exit with one clear line unless run as root.
- stop_on_signals(): SIGINT and SIGTERM raise KeyboardInterrupt. Call it
  first, before BCC compiles, so a signal at any moment ends the script
  through its clean-up path.
- StopFlag(): from then on SIGINT and SIGTERM set its .stop; for the
  tracing loop, where BCC runs the callbacks from C and an exception raised
  inside one would be printed and lost.
- resolve_target(prog, target): (pid, binary) for a PID or the path of a
  running binary.
- KernelRefUSDT: enables tracepoints on one process like bcc.USDT, but
  lets the kernel count the semaphores (the uprobe reference counter, as
  bpftrace and libbpf do) instead of writing the process's memory.

Why KernelRefUSDT: bcc.USDT(pid=...) raises a guarded tracepoint's semaphore
by writing /proc/PID/mem. The kernel then refuses bpftrace or libbpf on the
same tracepoint ("ref_ctr_offset mismatch"), and a script killed with
SIGKILL leaves the semaphore raised for good. BCC 0.26's Python API has no
reference-counter option, so this module opens each uprobe itself with
perf_event_open(2) on the uprobe PMU, passing the probe's and the
semaphore's file offsets; the kernel raises the semaphore on attach and
lowers it when the last file descriptor closes, however the script ends.
These uprobes are not listed in uprobe_events.

Use (in place of USDT(path=..., pid=...) and BPF(..., usdt_contexts=...)):

    usdt = KernelRefUSDT(pid, binary)
    usdt.enable_probe("net:inbound_message", "trace_inbound")
    bpf = usdt.load(BPF, text)      # compiles text, attaches, returns the BPF
    ...
    usdt.close()                    # detaches (exit does it too)

Standard library and BCC only.
"""
import ctypes
import os
import signal
import struct
import sys


def require_root(prog):
    """Exit with a message unless running as root."""
    if os.geteuid() != 0:
        sys.exit(f"{prog}: must be run as root (loading BPF programs needs "
                 f"CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN)")


def stop_on_signals():
    """SIGINT and SIGTERM raise KeyboardInterrupt from now on."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)


class StopFlag:
    """SIGINT and SIGTERM set .stop (instead of raising) from now on."""

    def __init__(self):
        self.stop = False
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)

    def _on_signal(self, _sig, _frame):
        self.stop = True


def resolve_target(prog, target):
    """(pid, binary path) for TARGET: a PID, or the path of a binary of which
    exactly one process is running."""
    if target.isdigit():
        pid = int(target)
        try:
            return pid, os.readlink(f"/proc/{pid}/exe")
        except OSError as e:
            sys.exit(f"{prog}: no process {pid}: {e.strerror}")
    want = os.path.realpath(target)
    if not os.path.isfile(want):
        sys.exit(f"{prog}: {target} is neither a PID nor a file")
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.readlink(f"/proc/{entry}/exe") == want:
                    pids.append(int(entry))
            except OSError:
                continue
    if len(pids) != 1:
        sys.exit(f"{prog}: {len(pids)} processes run {want}; "
                 f"{'start it first' if not pids else 'pass the PID instead'}")
    return pids[0], want


# ---- ELF: virtual address -> file offset ------------------------------------

def _load_segments(path):
    """[(vaddr, memsz, offset)] of the PT_LOAD segments of a 64-bit ELF file."""
    with open(path, "rb") as f:
        head = f.read(64)
        if head[:4] != b"\x7fELF" or head[4] != 2 or head[5] != 1:
            raise OSError(f"{path}: not a 64-bit little-endian ELF file")
        phoff, = struct.unpack_from("<Q", head, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", head, 0x36)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    segments = []
    for i in range(phnum):
        p_type, _flags, p_offset, p_vaddr, _pa, _filesz, p_memsz, _al = \
            struct.unpack_from("<IIQQQQQQ", table, i * phentsize)
        if p_type == 1:  # PT_LOAD
            segments.append((p_vaddr, p_memsz, p_offset))
    return segments


def _file_offset(segments, vaddr):
    for start, size, offset in segments:
        if start <= vaddr < start + size:
            return vaddr - start + offset
    raise OSError(f"address {vaddr:#x} is in no loadable segment")


# ---- Argument readers, generated as BCC would -------------------------------

_ARG_CONSTANT, _ARG_DEREF_OFFSET, _ARG_DEREF_IDENT = 0x1, 0x2, 0x4
_ARG_BASE, _ARG_INDEX, _ARG_SCALE = 0x8, 0x10, 0x20


def _ctype(size, signed):
    return f"{'' if signed else 'u'}int{size * 8}_t"


def _read_expr(arg, ctype):
    """C statements storing one argument into `*(ctype *)dest`."""
    if arg.valid & _ARG_CONSTANT:
        return f"*(({ctype} *)dest) = {arg.constant};"
    if arg.valid & _ARG_DEREF_IDENT:
        raise ValueError("arguments addressed by symbol are not supported")
    base = arg.base_register_name.decode()
    if not arg.valid & _ARG_DEREF_OFFSET:
        return f"*(({ctype} *)dest) = ctx->{base};"
    addr = f"ctx->{base} + ({arg.deref_offset})"
    if arg.valid & _ARG_INDEX:
        scale = arg.scale if arg.valid & _ARG_SCALE else 1
        addr += f" + ctx->{arg.index_register_name.decode()} * {scale}"
    return (f"{{ {ctype} __res = 0; bpf_probe_read_user(&__res, sizeof(__res), "
            f"(void *)({addr})); *(({ctype} *)dest) = __res; }}")


def _reader(fn_name, n, probe):
    """The C function bpf_usdt_readarg(n, ...) becomes in fn_name."""
    locations = [probe.get_location(i) for i in range(probe.num_locations)]
    args = [loc.get_argument(n - 1) for loc in locations]
    widest = max(args, key=lambda a: a.size)
    ctype = _ctype(widest.size, widest.signed)
    head = (f"static __always_inline int _bpf_readarg_{fn_name}_{n}("
            f"struct pt_regs *ctx, void *dest, size_t len) {{\n"
            f"  if (len != sizeof({ctype})) return -1;\n")
    reads = [_read_expr(a, ctype) for a in args]
    if len(set(reads)) == 1:
        return head + f"  {reads[0]}\n  return 0;\n}}\n"
    # Sites differ: pick by the probe address's offset in its page, which
    # needs no load address (BCC does the same).
    cases = {}
    for loc, read in zip(locations, reads):
        page_off = loc.address % 0x1000
        if cases.get(page_off, read) != read:
            raise ValueError(f"two sites of {probe.short_name()} share a page offset")
        cases[page_off] = read
    body = "".join(f"  case {off:#x}ULL: {read} return 0;\n" for off, read in cases.items())
    return head + f"  switch (PT_REGS_IP(ctx) % 0x1000ULL) {{\n{body}  }}\n  return -1;\n}}\n"


# ---- perf_event_open on the uprobe PMU --------------------------------------

_PERF_FLAG_FD_CLOEXEC = 1 << 3
_PERF_EVENT_IOC_ENABLE = 0x2400
_PERF_EVENT_IOC_SET_BPF = 0x40042408
_NR_PERF_EVENT_OPEN = {"x86_64": 298, "aarch64": 241}


class _PerfEventAttr(ctypes.Structure):
    _fields_ = [("type", ctypes.c_uint32), ("size", ctypes.c_uint32),
                ("config", ctypes.c_uint64), ("sample_period", ctypes.c_uint64),
                ("sample_type", ctypes.c_uint64), ("read_format", ctypes.c_uint64),
                ("flags", ctypes.c_uint64), ("wakeup_events", ctypes.c_uint32),
                ("bp_type", ctypes.c_uint32), ("config1", ctypes.c_uint64),
                ("config2", ctypes.c_uint64), ("rest", ctypes.c_uint8 * 56)]


def _uprobe_pmu():
    """(PMU type, bit shift of ref_ctr_offset in config) from sysfs."""
    base = "/sys/bus/event_source/devices/uprobe"
    try:
        with open(f"{base}/type") as f:
            pmu = int(f.read())
        with open(f"{base}/format/ref_ctr_offset") as f:
            shift = int(f.read().split(":")[1].split("-")[0])   # "config:32-63"
    except (OSError, ValueError, IndexError):
        raise OSError("this kernel's uprobe PMU has no ref_ctr_offset "
                      "(Linux 4.20 or later is needed)") from None
    return pmu, shift


_libc = ctypes.CDLL(None, use_errno=True)


def _open_uprobe(path, offset, ref_ctr_offset, pid):
    pmu, shift = _uprobe_pmu()
    path_buf = ctypes.create_string_buffer(path.encode())
    attr = _PerfEventAttr()
    attr.type = pmu
    attr.size = 128
    attr.config = ref_ctr_offset << shift
    attr.config1 = ctypes.addressof(path_buf)   # uprobe_path
    attr.config2 = offset                       # probe_offset
    attr.sample_period = 1
    attr.wakeup_events = 1
    nr = _NR_PERF_EVENT_OPEN[os.uname().machine]
    fd = _libc.syscall(nr, ctypes.byref(attr), pid, -1, -1, _PERF_FLAG_FD_CLOEXEC)
    if fd < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"perf_event_open uprobe {path}+{offset:#x}: {os.strerror(err)}")
    return fd


def _ioctl(fd, request, arg):
    if _libc.ioctl(fd, request, ctypes.c_ulong(arg)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


class KernelRefUSDT:
    """The USDT tracepoints of process `pid` running `binary`, attached with
    the kernel counting their semaphores."""

    def __init__(self, pid, binary):
        from bcc import USDT  # parses the notes; by path it writes nothing
        self.pid = pid
        self.binary = os.path.realpath(binary)
        self._notes = USDT(path=self.binary)
        self._probes = {p.short_name(): p for p in self._notes.enumerate_probes()}
        self._segments = _load_segments(self.binary)
        self._enabled = []      # (probe, fn_name)
        self._fds = []

    def enable_probe(self, probe, fn_name):
        if probe not in self._probes:
            raise ValueError(f"{self.binary} has no tracepoint {probe}")
        self._enabled.append((self._probes[probe], fn_name))

    def program_text(self):
        """The argument readers of the enabled probes' functions."""
        parts = ["#include <uapi/linux/ptrace.h>\n"]
        for probe, fn_name in self._enabled:
            parts += [_reader(fn_name, n, probe) for n in range(1, probe.num_arguments + 1)]
        return "".join(parts)

    def load(self, bpf_class, text, **kw):
        """Compile `text` with the readers, attach every enabled probe, and
        return the bpf_class (bcc.BPF) object."""
        if isinstance(text, bytes):
            text = text.decode()
        bpf = bpf_class(text=(self.program_text() + text).encode(), **kw)
        try:
            self.attach(bpf)
        except BaseException:
            self.close()
            bpf.cleanup()
            raise
        return bpf

    def attach(self, bpf):
        for probe, fn_name in self._enabled:
            prog_fd = bpf.load_func(fn_name.encode(), bpf.KPROBE).fd
            ref = _file_offset(self._segments, probe.semaphore) if probe.semaphore else 0
            for i in range(probe.num_locations):
                offset = _file_offset(self._segments, probe.get_location(i).address)
                fd = _open_uprobe(self.binary, offset, ref, self.pid)
                self._fds.append(fd)
                _ioctl(fd, _PERF_EVENT_IOC_SET_BPF, prog_fd)
                _ioctl(fd, _PERF_EVENT_IOC_ENABLE, 0)

    def close(self):
        """Detach: the kernel lowers the semaphores."""
        while self._fds:
            os.close(self._fds.pop())
