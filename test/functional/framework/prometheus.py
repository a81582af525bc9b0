"""A real Prometheus and moneyrocket-exporter for the exporter's tests.

Exporter runs build/contrib/tracing/libbpf/moneyrocket-exporter on a free
loopback port and reads its /metrics. Prometheus runs Debian's
`prometheus` with a generated configuration (1 s scrape and evaluation)
in a temporary directory, on a free loopback port, and answers queries
through its HTTP API.
"""
import json
import re
import shutil
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path

from framework.node import ROOT, free_port, timeout, wait_until
from framework.tracers import TracerProcess

EXPORTER = ROOT / "build" / "contrib" / "tracing" / "libbpf" / "moneyrocket-exporter"
RULES = ROOT / "contrib" / "tracing" / "prometheus" / "moneyrocket.rules.yml"
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"')


def http_get(url, timeout_s=10):
    with urllib.request.urlopen(url, timeout=timeout(timeout_s)) as r:
        return r.status, r.read().decode()


def parse_metrics(text):
    """[(name, {label: value}, float)] of an exposition, comments skipped."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        out.append((m.group(1), dict(LABEL.findall(m.group(2) or "")), float(m.group(3))))
    return out


class Exporter:
    """moneyrocket-exporter with `args` (e.g. ["-p", pid]) on a free port."""

    def __init__(self, *args):
        self.port = free_port()
        self.addr = f"127.0.0.1:{self.port}"
        self.proc = TracerProcess([EXPORTER, "--listen", self.addr, *args])
        self.proc.wait_for_line(r"^serving http://")

    def wait_traced(self, pid, timeout_s=30):
        self.proc.wait_for_line(rf"^node {pid}: tracing ", timeout_s)

    def metrics_text(self):
        status, body = http_get(f"http://{self.addr}/metrics")
        assert status == 200
        return body

    def samples(self, name, **labels):
        """{frozenset(labels): value} of metric `name` whose labels include `labels`."""
        want = {k: str(v) for k, v in labels.items()}
        return {frozenset(l.items()): v for n, l, v in parse_metrics(self.metrics_text())
                if n == name and all(l.get(k) == v for k, v in want.items())}

    def stop(self):
        code = self.proc.stop(timeout_s=30)
        return code

    def kill(self):
        self.proc.kill()


class Prometheus:
    """A Prometheus server scraping `targets` (ADDR:PORT) as job
    "moneyrocket", with `rule_files`, its data in `workdir`."""

    def __init__(self, workdir, targets, rule_files=()):
        self.binary = shutil.which("prometheus")
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = self.workdir / "prometheus.yml"
        config.write_text(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
            "  evaluation_interval: 1s\n"
            "rule_files:\n" + "".join(f"  - {json.dumps(str(r))}\n" for r in rule_files) +
            "scrape_configs:\n  - job_name: moneyrocket\n    static_configs:\n"
            f"      - targets: {json.dumps(list(targets))}\n")
        self.log = open(self.workdir / "prometheus.log", "wb")
        self.proc = subprocess.Popen(
            [self.binary, f"--config.file={config}",
             f"--storage.tsdb.path={self.workdir / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        wait_until(self._ready, 90, interval=0.2, what="prometheus ready")

    def _ready(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"prometheus exited {self.proc.returncode}:\n" + self.log_text())
        try:
            return http_get(f"{self.url}/-/ready", 2)[0] == 200
        except OSError:
            return False

    def log_text(self):
        return (self.workdir / "prometheus.log").read_text(errors="replace")

    def api(self, path, **params):
        status, body = http_get(f"{self.url}/api/v1/{path}?{urllib.parse.urlencode(params)}")
        reply = json.loads(body)
        assert reply["status"] == "success", reply
        return reply["data"]

    def query(self, expr):
        """An instant query: [({labels}, float)]."""
        return [(r["metric"], float(r["value"][1]))
                for r in self.api("query", query=expr)["result"]]

    def targets_up(self):
        """{scrape url: health} of the active targets."""
        return {t["scrapeUrl"]: t["health"] for t in self.api("targets")["activeTargets"]}

    def alerts(self):
        return self.api("alerts")["alerts"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout(30))
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
