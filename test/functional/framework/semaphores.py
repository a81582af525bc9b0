"""Read a running process's USDT semaphores, and what tracefs holds of ours.

The notes come from contrib/devtools/check-tracepoints.py's parser; each
semaphore's address in the process is found through /proc/PID/maps from its
file offset (contrib/tracing/usdt_helper.py computes those for the scripts),
then read from /proc/PID/mem. Root only.
"""
import importlib.util
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "contrib" / "tracing"))
import usdt_helper  # noqa: E402


def _checker():
    spec = importlib.util.spec_from_file_location(
        "check_tracepoints", ROOT / "contrib" / "devtools" / "check-tracepoints.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_CHECKER = _checker()


def semaphore_offsets(binary):
    """{tracepoint name: file offset of its semaphore} for guarded tracepoints."""
    sites, _ptr, _probes = _CHECKER.read_sites(str(binary))
    segments = usdt_helper._load_segments(str(binary))
    return {s.name: usdt_helper._file_offset(segments, s.semaphore)
            for s in sites if s.semaphore}


def _mapped_address(pid, binary, file_offset):
    real = str(Path(binary).resolve())
    with open(f"/proc/{pid}/maps") as maps:
        for line in maps:
            fields = line.split()
            if len(fields) < 6 or fields[5] != real:
                continue
            start, end = (int(x, 16) for x in fields[0].split("-"))
            offset = int(fields[2], 16)
            if offset <= file_offset < offset + (end - start):
                return start + file_offset - offset
    raise AssertionError(f"offset {file_offset:#x} of {real} is not mapped in pid {pid}")


def read_semaphores(pid, binary):
    """{tracepoint name: current semaphore value} in process `pid`."""
    values = {}
    with open(f"/proc/{pid}/mem", "rb") as mem:
        for name, offset in semaphore_offsets(binary).items():
            mem.seek(_mapped_address(pid, binary, offset))
            values[name] = struct.unpack("<H", mem.read(2))[0]
    return values


def uprobe_events_of(binary):
    """Lines of tracefs's uprobe_events that probe `binary`."""
    real = str(Path(binary).resolve())
    for tracefs in ("/sys/kernel/tracing", "/sys/kernel/debug/tracing"):
        path = Path(tracefs) / "uprobe_events"
        if path.exists():
            return [l for l in path.read_text().splitlines() if real in l]
    return []
