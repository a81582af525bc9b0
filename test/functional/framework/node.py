"""Run moneyrocketd nodes for functional tests.

A TestNode is one moneyrocketd process in its own data directory, listening
on free loopback ports, with an RPC client that authenticates with the
node's cookie file. NodeSet starts several in one temporary base directory,
stops them all, and on failure keeps the directories and prints the tail of
each debug.log.

Build paths come from make (framework/build.py).

Environment (all optional):
  MONEYROCKETD            path of the daemon to run (default: make's
                          MONEYROCKET_DAEMON, src/moneyrocketd)
  MONEYROCKETD_WRAPPER    command line the daemon runs under, e.g.
                          "valgrind --error-exitcode=99 --quiet"
  MONEYROCKETD_SANITIZE=1 run the ASan/UBSan build (make's MONEYROCKET_DAEMON_SAN)
  MONEYROCKET_KEEP_DATADIRS=1  keep data directories even when tests pass
  MONEYROCKET_TIMEOUT_FACTOR   multiply every timeout (slow machines, ASan)
"""
import base64
import http.client
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from framework import build

ROOT = Path(__file__).resolve().parents[3]
DEFAULT_DAEMON = build.path("MONEYROCKET_DAEMON")
DEFAULT_CLI = build.path("MONEYROCKET_CLI")

TIMEOUT_FACTOR = float(os.environ.get("MONEYROCKET_TIMEOUT_FACTOR", "1"))

# What sanitizers print when they find something; a clean run has none.
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                     "runtime error:", "SUMMARY: AddressSanitizer",
                     "SUMMARY: UndefinedBehaviorSanitizer")


class JSONRPCError(Exception):
    """An error reply from the node's RPC server (or an HTTP-level failure).

    `code` is the JSON-RPC error code (None for HTTP failures without a JSON
    body), `message` its text, `http_status` the HTTP status of the reply.
    """

    def __init__(self, code, message, http_status=None, method=None):
        super().__init__(f"{method or 'rpc'}: {message} (code {code}, HTTP {http_status})")
        self.code = code
        self.message = message
        self.http_status = http_status
        self.method = method


def timeout(seconds):
    """A timeout scaled by MONEYROCKET_TIMEOUT_FACTOR."""
    return seconds * TIMEOUT_FACTOR


def wait_until(predicate, timeout_s=30, interval=0.05, what=None):
    """Poll `predicate` until it returns a truthy value, which is returned.

    Raises AssertionError naming `what` (or the predicate) after `timeout_s`
    seconds (scaled by MONEYROCKET_TIMEOUT_FACTOR). Exceptions raised by the
    predicate propagate: a predicate that cannot be evaluated is a bug.
    """
    deadline = time.monotonic() + timeout(timeout_s)
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            name = what or getattr(predicate, "__name__", "condition")
            raise AssertionError(f"timed out after {timeout(timeout_s):.1f}s waiting for {name}")
        time.sleep(interval)


_handed_out_ports = set()


def free_port(host="127.0.0.1"):
    """A TCP port on `host` that nothing listens on right now.

    The kernel picks it (bind to port 0); ports already handed out by this
    process are skipped so two nodes started together never share one.
    """
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        if port not in _handed_out_ports:
            _handed_out_ports.add(port)
            return port
    raise RuntimeError("no free port found")


def sanitizer_binary():
    """Path of the ASan/UBSan build of moneyrocketd (make's MONEYROCKET_DAEMON_SAN)."""
    return build.path("MONEYROCKET_DAEMON_SAN")


def default_binary():
    """The daemon chosen by MONEYROCKETD / MONEYROCKETD_SANITIZE."""
    if os.environ.get("MONEYROCKETD"):
        return Path(os.environ["MONEYROCKETD"])
    if os.environ.get("MONEYROCKETD_SANITIZE") == "1":
        return sanitizer_binary()
    return DEFAULT_DAEMON


def sanitizer_env(env):
    """Add the options that make sanitizer findings loud and fatal."""
    env = dict(env)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:halt_on_error=1:"
                                   "detect_stack_use_after_return=1")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    return env


class TestNode:
    """One moneyrocketd process in `datadir`.

    Attribute access that is not defined here becomes an RPC call:
    `node.getpeerinfo()` sends {"method": "getpeerinfo", "params": []}.
    """

    __test__ = False  # not a pytest test class

    def __init__(self, index, datadir, extra_args=(), binary=None, wrapper=None,
                 env=None):
        self.index = index
        self.datadir = Path(datadir)
        self.extra_args = list(extra_args)
        self.binary = Path(binary) if binary else default_binary()
        if wrapper is None:
            wrapper = os.environ.get("MONEYROCKETD_WRAPPER", "")
        self.wrapper = shlex.split(wrapper) if isinstance(wrapper, str) else list(wrapper)
        self.env = env
        self.p2p_port = free_port()
        self.rpc_port = free_port()
        self.process = None
        self._stdout = None
        self._stderr = None
        self._rpc_id = 0
        self._auth = None

    # ---- paths ---------------------------------------------------------
    @property
    def debug_log(self):
        return self.datadir / "debug.log"

    @property
    def cookie_file(self):
        return self.datadir / ".cookie"

    @property
    def stderr_file(self):
        return self.datadir / "stderr.txt"

    @property
    def stdout_file(self):
        return self.datadir / "stdout.txt"

    @property
    def p2p_addr(self):
        """The node's listening address as the network sees it: 127.0.0.1:port."""
        return f"127.0.0.1:{self.p2p_port}"

    @property
    def pid(self):
        return self.process.pid if self.process else None

    def args(self):
        """The full command line that starts this node."""
        return self.wrapper + [str(self.binary), f"-datadir={self.datadir}",
                               f"-port={self.p2p_port}", f"-rpcport={self.rpc_port}",
                               "-bind=127.0.0.1", "-listen=1", "-debug=net",
                               "-logmessages"] + self.extra_args

    # ---- lifecycle -----------------------------------------------------
    def start(self, extra_args=None, wait=True):
        """Start the daemon; with `wait`, return once its RPC answers."""
        if extra_args is not None:
            self.extra_args = list(extra_args)
        if not self.binary or not Path(self.binary).exists():
            raise FileNotFoundError(f"daemon not built: {self.binary}")
        self.datadir.mkdir(parents=True, exist_ok=True)
        env = sanitizer_env(self.env if self.env is not None else os.environ)
        self._stdout = open(self.stdout_file, "ab")
        self._stderr = open(self.stderr_file, "ab")
        self._auth = None
        self.process = subprocess.Popen(self.args(), stdout=self._stdout, stderr=self._stderr,
                                        stdin=subprocess.DEVNULL, env=env)
        if wait:
            self.wait_for_rpc()
        return self

    def wait_for_rpc(self, timeout_s=30):
        """Poll until getnetworkinfo answers; raise if the process exits first."""
        deadline = time.monotonic() + timeout(timeout_s)
        last = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"node{self.index} exited with {self.process.returncode} during start-up\n"
                    + self.failure_report())
            try:
                self.call("getnetworkinfo")
                return
            except (OSError, http.client.HTTPException, JSONRPCError, ValueError) as e:
                last = e
            time.sleep(0.05)
        raise AssertionError(f"node{self.index} RPC not ready after {timeout(timeout_s)}s: "
                             f"{last}\n" + self.failure_report())

    def running(self):
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout_s=30):
        """Stop via the `stop` RPC; escalate to SIGTERM, then SIGKILL.

        Returns the exit code. A node killed by a signal returns the negative
        signal number, as subprocess does.
        """
        if self.process is None:
            return None
        if self.process.poll() is None:
            try:
                self.call("stop")
            except (OSError, http.client.HTTPException, JSONRPCError, ValueError):
                pass
            try:
                self.process.wait(timeout(timeout_s))
            except subprocess.TimeoutExpired:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(timeout(10))
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
        self._close_files()
        return self.process.returncode

    def kill(self):
        """SIGKILL the node (cleanup after a failed test)."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._close_files()

    def _close_files(self):
        for f in (self._stdout, self._stderr):
            if f:
                f.close()
        self._stdout = self._stderr = None

    # ---- RPC -----------------------------------------------------------
    def auth_header(self):
        """The Basic auth header built from the cookie file (read once per start)."""
        if self._auth is None:
            cookie = self.cookie_file.read_text().strip()
            self._auth = "Basic " + base64.b64encode(cookie.encode()).decode()
        return self._auth

    def http_post(self, body, headers=None, auth=True, path="/", timeout_s=30):
        """POST raw `body` (bytes) to the RPC port; return (status, body bytes).

        Used by the RPC tests to send what a well-behaved client would not.
        """
        hdrs = {"Content-Type": "application/json"}
        if auth:
            hdrs["Authorization"] = self.auth_header()
        hdrs.update(headers or {})
        conn = http.client.HTTPConnection("127.0.0.1", self.rpc_port, timeout=timeout(timeout_s))
        try:
            conn.request("POST", path, body=body, headers=hdrs)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def call(self, method, *params, timeout_s=60, path="/"):
        """Call `method` with positional `params`; return its result.

        Raises JSONRPCError with the node's code and message on an error
        reply, or with code None when the reply is not JSON (e.g. HTTP 401).
        """
        self._rpc_id += 1
        body = json.dumps({"jsonrpc": "1.0", "id": self._rpc_id, "method": method,
                           "params": list(params)}).encode()
        status, data = self.http_post(body, timeout_s=timeout_s, path=path)
        if status == 401:
            self._auth = None  # cookie may have been rewritten by a restart
        try:
            reply = json.loads(data)
        except ValueError:
            raise JSONRPCError(None, f"non-JSON reply: {data[:200]!r}", status, method)
        if not isinstance(reply, dict):
            raise JSONRPCError(None, f"reply is not an object: {reply!r}", status, method)
        err = reply.get("error")
        if err:
            raise JSONRPCError(err.get("code"), err.get("message"), status, method)
        if status != 200:
            raise JSONRPCError(None, f"HTTP {status} without error object", status, method)
        return reply.get("result")

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *params, **kw: self.call(name, *params, **kw)

    def wallet_rpc(self, name):
        """RPC to the endpoint /wallet/NAME: node.wallet_rpc("w1").getbalance()."""
        return WalletRPC(self, name)

    def cli(self, *args, check=True, cli=None):
        """Run moneyrocket-cli against this node; return CompletedProcess."""
        cmd = [str(cli or DEFAULT_CLI), f"-datadir={self.datadir}",
               f"-rpcport={self.rpc_port}"] + [str(a) for a in args]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout(60))
        if check and proc.returncode != 0:
            raise AssertionError(f"{cmd} exited {proc.returncode}: {proc.stderr}")
        return proc

    # ---- peers ---------------------------------------------------------
    def peer(self, predicate):
        """The first getpeerinfo entry for which `predicate(entry)` is true, or None."""
        for p in self.getpeerinfo():
            if predicate(p):
                return p
        return None

    def peer_by_id(self, peer_id):
        return self.peer(lambda p: p["id"] == peer_id)

    def wait_for_peer(self, predicate, timeout_s=30, what="peer"):
        """Wait until a getpeerinfo entry matches `predicate`; return it."""
        return wait_until(lambda: self.peer(predicate), timeout_s, what=f"node{self.index} {what}")

    # ---- resources (the DoS tests' ceilings) ---------------------------
    def rss_bytes(self):
        """Resident set size of the daemon now, from /proc/PID/status."""
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise AssertionError(f"node{self.index}: no VmRSS in /proc/{self.pid}/status")

    @property
    def sanitized(self):
        """True when this node runs the ASan/UBSan build."""
        san = sanitizer_binary()
        return san is not None and Path(self.binary).resolve() == Path(san).resolve()

    def rss_overhead(self):
        """What the build adds to RSS by itself: ASan keeps up to 256 MiB of
        freed memory in quarantine, plus shadow memory. An RSS ceiling is
        the attack's allowance plus this."""
        return 384 << 20 if self.sanitized else 0

    def cpu_seconds(self):
        """User + system CPU time the daemon has used so far."""
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def open_fds(self):
        """Number of descriptors the daemon holds open."""
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def timed_call(self, method, *params, timeout_s=60):
        """Call `method`; return (result, seconds it took)."""
        start = time.monotonic()
        result = self.call(method, *params, timeout_s=timeout_s)
        return result, time.monotonic() - start

    # ---- logs ----------------------------------------------------------
    def debug_log_size(self):
        """Current size of debug.log, to look only at what comes after."""
        try:
            return self.debug_log.stat().st_size
        except FileNotFoundError:
            return 0

    def debug_log_text(self, since=0):
        try:
            with open(self.debug_log, "rb") as f:
                f.seek(since)
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_for_log(self, needle, since=0, timeout_s=30):
        """Wait until debug.log (from byte offset `since`) contains `needle`.

        `needle` is a string or a compiled regex; returns the matching line.
        """
        def found():
            for line in self.debug_log_text(since).splitlines():
                if (needle.search(line) if hasattr(needle, "search") else needle in line):
                    return line
            return None
        return wait_until(found, timeout_s, what=f"node{self.index} debug.log: {needle!r}")

    def stderr_text(self):
        try:
            return self.stderr_file.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def sanitizer_reports(self):
        """Lines of stderr where a sanitizer reported a problem."""
        return [l for l in self.stderr_text().splitlines()
                if any(m in l for m in SANITIZER_MARKERS)]

    def failure_report(self, lines=40):
        """Tail of debug.log and stderr, for a failed test's output."""
        out = [f"--- node{self.index} datadir {self.datadir} pid {self.pid} "
               f"args {' '.join(self.args())}"]
        for name, path in (("debug.log", self.debug_log), ("stderr", self.stderr_file)):
            try:
                tail = path.read_text(errors="replace").splitlines()[-lines:]
            except FileNotFoundError:
                tail = ["(missing)"]
            out.append(f"--- node{self.index} {name} (last {lines} lines)")
            out.extend(tail)
        return "\n".join(out)


class WalletRPC:
    """Calls to one wallet's endpoint, /wallet/NAME."""

    def __init__(self, node, name):
        self.node = node
        self.name = name

    def __getattr__(self, method):
        if method.startswith("_"):
            raise AttributeError(method)
        return lambda *params, **kw: self.node.call(method, *params,
                                                    path=f"/wallet/{self.name}", **kw)


class NodeSet:
    """Several nodes in one temporary base directory.

    `start(n, extra_args=[[...], ...])` starts n nodes; `stop(failed)` stops
    them, printing their logs and keeping the directory if `failed`.
    """

    def __init__(self, prefix="moneyrocket_test_", binary=None, wrapper=None):
        self.basedir = Path(tempfile.mkdtemp(prefix=prefix))
        self.binary = binary
        self.wrapper = wrapper
        self.nodes = []

    def add(self, extra_args=(), binary=None, start=True, **kw):
        """Create (and by default start) one more node; return it."""
        index = len(self.nodes)
        node = TestNode(index, self.basedir / f"node{index}", extra_args,
                        binary=binary or self.binary, wrapper=self.wrapper, **kw)
        self.nodes.append(node)
        if start:
            node.start(wait=False)
        return node

    def start(self, n, extra_args=None):
        """Start n nodes (all launched, then waited for); return them."""
        extra_args = extra_args or [[] for _ in range(n)]
        new = [self.add(extra_args[i]) for i in range(n)]
        for node in new:
            node.wait_for_rpc()
        return new

    def stop(self, failed=False):
        """Stop every node; keep the directory and print logs if `failed`."""
        codes = []
        for node in self.nodes:
            try:
                codes.append(node.stop())
            except Exception as e:  # keep stopping the others
                print(f"node{node.index}: stop failed: {e}", file=sys.stderr)
                node.kill()
                failed = True
        keep = failed or os.environ.get("MONEYROCKET_KEEP_DATADIRS") == "1"
        if failed:
            for node in self.nodes:
                print(node.failure_report(), file=sys.stderr)
        if keep:
            print(f"test data kept in {self.basedir}", file=sys.stderr)
        else:
            shutil.rmtree(self.basedir, ignore_errors=True)
        return codes


def connect_nodes(a, b, timeout_s=30):
    """Make `a` connect to `b` (addnode onetry) and wait until both see the
    other with the version handshake done. Returns (peer entry on a, on b).
    """
    before = {p["id"] for p in a.getpeerinfo()}
    a.addnode(b.p2p_addr, "onetry")

    def handshaken(p):
        return p.get("version", 0) and "verack" in p.get("msgsrecv_per_msg", {})

    on_a = wait_until(lambda: a.peer(lambda p: p["id"] not in before and p["addr"] == b.p2p_addr
                                     and handshaken(p)),
                      timeout_s, what=f"node{a.index} -> node{b.index} handshake")
    on_b = b.wait_for_peer(lambda p: p["inbound"] and p["addr"] == on_a["addrbind"]
                           and handshaken(p), timeout_s,
                           what=f"inbound from node{a.index} ({on_a['addrbind']})")
    return on_a, on_b


def disconnect_all(node, timeout_s=30):
    """Disconnect every peer of `node` and wait until it has none."""
    for p in node.getpeerinfo():
        try:
            node.disconnectnode("", p["id"])
        except JSONRPCError:
            pass  # already gone
    wait_until(lambda: not node.getpeerinfo(), timeout_s, what="no peers")
