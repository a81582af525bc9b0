"""trace.h's semaphore forms, with bpftrace attached, and its build-time switches.

test/header/semaphores.c (+ semaphores_other.c) has an implicit guarded
tracepoint (TRACEPOINT_GUARDED and nothing else), an explicit one
(TRACEPOINT_SEMAPHORE in two files, TRACEPOINT_ACTIVE by hand) and a plain
one; built as C++ it sits in the namespace app::inner. bpftrace attached to
both guarded tracepoints raises both semaphores, sees every guarded argument
evaluated exactly while attached, and leaves both at 0.

TRACE_REQUIRE turns a missing <sys/sdt.h> into a compile error naming the
package; a <sys/sdt.h> without the internals trace.h replaces is an error
whatever the switches.
"""
import pytest

from conftest import BUILD, ROOT, require_built, require_root, require_tool, run
from framework.probes_program import ProbesProgram
from framework.tracers import TracerProcess, bpftrace_errors

SEM_VARIANTS = ["sem-gcc-c", "sem-gcc-cxx", "sem-clang-c", "sem-clang-cxx"]

SCRIPT = r"""
BEGIN { printf("ready\n"); }
usdt:$1:sem:implicit { printf("implicit %lld %lld\n", arg0, arg1); }
usdt:$1:sem:explicit { printf("explicit %lld %lld\n", arg0, arg1); }
"""


def semaphores(prog):
    reply = prog.command("sem")
    assert reply.startswith("sem "), reply
    return tuple(int(v) for v in reply.split()[1:])


def wait_semaphores(prog, predicate, timeout_s=30):
    from framework.node import wait_until
    return wait_until(lambda: predicate(semaphores(prog)), timeout_s,
                      what="semaphores of the test program")


@pytest.mark.parametrize("variant", SEM_VARIANTS)
def test_implicit_explicit_and_namespaced_semaphores_with_bpftrace(variant, tmp_path):
    require_root()
    require_tool("bpftrace")
    binary = require_built(BUILD / "test" / "header" / variant)
    script = tmp_path / "sem.bt"
    script.write_text(SCRIPT)
    with ProbesProgram(binary) as prog:
        assert semaphores(prog) == (0, 0)
        assert prog.fire() == 0, "guarded arguments evaluated with no tracer attached"
        tracer = TracerProcess(["bpftrace", "-p", str(prog.pid), str(script), str(binary)])
        try:
            tracer.wait_for_line(r"^ready$")
            wait_semaphores(prog, lambda s: s[0] > 0 and s[1] > 0)
            assert prog.fire() == 4
            # Site order: this file's implicit and explicit, then the other file's.
            want = ["implicit 1 1", "explicit 2 1", "implicit 3 2", "explicit 4 2"]
            tracer.wait_for_line(r"^explicit 4 2$")
            assert [l for l in tracer.output() if l.startswith(("implicit", "explicit"))] == want
        finally:
            assert tracer.stop() == 0
        assert not bpftrace_errors(tracer.stderr()), tracer.stderr()
        wait_semaphores(prog, lambda s: s == (0, 0))
        assert prog.fire() == 4, "guarded arguments evaluated after detach"


PROGRAM = """#include <trace.h>
int main(void) { TRACEPOINT_GUARDED(req, guarded, 1); return TRACE_ENABLED; }
"""


def compile_with(tmp_path, fake_sdt, *flags):
    """Compile PROGRAM with `fake_sdt` as the first <sys/sdt.h> on the path."""
    inc = tmp_path / "inc"
    (inc / "sys").mkdir(parents=True, exist_ok=True)
    (inc / "sys" / "sdt.h").write_text(fake_sdt)
    src = tmp_path / "prog.c"
    src.write_text(PROGRAM)
    return run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", *flags,
                f"-I{inc}", f"-I{ROOT / 'include'}", "-o", str(tmp_path / "prog"), str(src)],
               check=False)


# A <sys/sdt.h> that provides nothing, as on a system without systemtap's.
NO_SDT = "/* no systemtap here */\n"
# systemtap's header without the semaphore slot trace.h replaces.
# (#include_next is a GCC extension: -pedantic accepts it in a system header.)
SDT = "#pragma GCC system_header\n#include_next <sys/sdt.h>\n"
NO_INTERNALS = SDT + "#undef _SDT_SEMAPHORE\n"


def test_without_sdt_the_probes_compile_away(tmp_path):
    proc = compile_with(tmp_path, NO_SDT)
    assert proc.returncode == 0, proc.stderr
    assert run([str(tmp_path / "prog")], check=False).returncode == 0  # TRACE_ENABLED 0


def test_trace_require_without_sdt_is_an_error_naming_the_package(tmp_path):
    proc = compile_with(tmp_path, NO_SDT, "-DTRACE_REQUIRE")
    assert proc.returncode != 0
    assert "TRACE_REQUIRE" in proc.stderr and "systemtap-sdt-dev" in proc.stderr, proc.stderr


def test_trace_require_with_sdt_builds_probes(tmp_path):
    proc = compile_with(tmp_path, SDT, "-DTRACE_REQUIRE")
    assert proc.returncode == 0, proc.stderr
    assert run([str(tmp_path / "prog")], check=False).returncode == 1  # TRACE_ENABLED 1
    notes = run(["readelf", "-n", str(tmp_path / "prog")]).stdout
    assert "Name: guarded" in notes


def test_trace_require_and_disable_together_is_an_error(tmp_path):
    proc = compile_with(tmp_path, SDT, "-DTRACE_REQUIRE",
                        "-DTRACE_DISABLE")
    assert proc.returncode != 0
    assert "choose one" in proc.stderr, proc.stderr


def test_sdt_without_the_internals_is_an_error(tmp_path):
    proc = compile_with(tmp_path, NO_INTERNALS)
    assert proc.returncode != 0
    assert "_SDT_SEMAPHORE" in proc.stderr, proc.stderr
