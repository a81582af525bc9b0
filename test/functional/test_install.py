"""`make install PREFIX=...` lets another project build against trace.h via pkg-config."""
import os

from conftest import ROOT, run

CONSUMER = r"""
#include <trace.h>
#include <stdio.h>
TRACEPOINT_SEMAPHORE(consumer, guarded);
int main(void) {
    TRACEPOINT(consumer, hello, 42, "installed");
    TRACEPOINT_GUARDED(consumer, guarded, 7);
    printf("enabled=%d\n", TRACE_ENABLED);
    return 0;
}
"""


def test_install_then_build_with_pkg_config(tmp_path):
    prefix = tmp_path / "prefix"
    run(["make", "-C", str(ROOT), "--no-print-directory", "install", f"PREFIX={prefix}"])
    assert (prefix / "include" / "trace.h").read_bytes() == (ROOT / "include" / "trace.h").read_bytes()
    pc_dir = prefix / "lib" / "pkgconfig"
    env = dict(os.environ, PKG_CONFIG_PATH=str(pc_dir))
    cflags = run(["pkg-config", "--cflags", "moneyrocket-trace"], env=env).stdout.split()
    assert f"-I{prefix}/include" in cflags

    src = tmp_path / "consumer.c"
    src.write_text(CONSUMER)
    exe = tmp_path / "consumer"
    run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", *cflags, "-o", str(exe), str(src)],
        cwd=tmp_path)
    assert run([str(exe)]).stdout == "enabled=1\n"
    notes = run(["readelf", "-n", str(exe)]).stdout
    assert "Name: hello" in notes and "Name: guarded" in notes
