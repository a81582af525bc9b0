"""Drive the header test program (test/header/probes.c) over its stdin protocol."""
import subprocess
import threading
import queue
import time


class ProbesProgram:
    """A running probes binary: `sem`, `fire` and `quit` commands, one reply line each."""

    def __init__(self, path):
        self.path = str(path)
        self.proc = None
        self.pid = None
        self._lines = queue.Queue()

    def start(self, timeout=10):
        self.proc = subprocess.Popen([self.path], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, bufsize=1)
        threading.Thread(target=self._read, daemon=True).start()
        line = self._next_line(timeout)
        assert line.startswith("ready pid="), line
        self.pid = int(line.split("=", 1)[1])
        return self

    def _read(self):
        for line in self.proc.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def _next_line(self, timeout):
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"{self.path}: no reply within {timeout}s")
        if line is None:
            raise AssertionError(f"{self.path}: exited ({self.proc.poll()})")
        return line

    def command(self, cmd, timeout=10):
        self.proc.stdin.write(cmd + "\n")
        self.proc.stdin.flush()
        return self._next_line(timeout)

    def sem(self):
        reply = self.command("sem")
        assert reply.startswith("sem "), reply
        return int(reply.split()[1])

    def fire(self):
        """Fire every probe once; returns the guarded-argument evaluation count."""
        reply = self.command("fire")
        assert reply.startswith("fired evals="), reply
        return int(reply.split("=", 1)[1])

    def wait_sem(self, predicate, timeout=30):
        """Poll the semaphore until predicate(value) holds; returns the value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.sem()
            if predicate(value):
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"semaphore stayed {value} for {timeout}s")
            time.sleep(0.05)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=5)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# The argument table of test/header/tracepoints.md: (type, size, signed, value).
ARGS = [
    ("int64", 8, True, -1234567890123),
    ("char*", 8, False, "hello, tracer"),
    ("uint32", 4, False, 4000000000),
    ("u8*", 8, False, bytes(range(32))),
    ("bool", 1, False, 1),
    ("int32", 4, True, -42),
    ("uint64", 8, False, 18446744073709551615),
    ("int16", 2, True, -1234),
    ("uint16", 2, False, 65000),
    ("int8", 1, True, -7),
    ("uint8", 1, False, 200),
    ("char*", 8, False, "the twelfth argument"),
]

PROBE_NAMES = ([f"args{n}" for n in range(13)] + [f"vargs{n}" for n in range(13)]
               + ["guarded"])
ENABLED_VARIANTS = ["probes-gcc-c", "probes-gcc-cxx", "probes-clang-c", "probes-clang-cxx"]


def expected_args(name):
    """The argument list (type, size, signed, value) a probe carries, guarded excluded."""
    n = int(name.lstrip("varsg"))
    return ARGS[:n]
