"""`make install` lets other projects build against trace.h, and bpftrace attaches.

The installed tree (header under include/moneyrocket-trace/, a header-only
.pc in share/pkgconfig, a CMake config package), DESTDIR staging, and
`make uninstall` removing exactly what was installed. Consumers are built
against a copy installed in a temporary prefix with CMake
(find_package(moneyrocket-trace CONFIG REQUIRED) -> moneyrocket::trace),
Meson (dependency('moneyrocket-trace'), through pkg-config) and a plain
Makefile (pkg-config), each in C and in C++; bpftrace then runs each one and
reads its plain and its guarded tracepoint.
"""
import os

import pytest

from conftest import ROOT, require_root, require_tool, run

INSTALLED = ["include/moneyrocket-trace/trace.h",
             "share/pkgconfig/moneyrocket-trace.pc",
             "share/pkgconfig/moneyrocket-trace-nop5.pc",
             "share/cmake/moneyrocket-trace/moneyrocket-trace-config.cmake",
             "share/cmake/moneyrocket-trace/moneyrocket-trace-config-version.cmake"]

# C and C++ alike. The string traced is argv[0], on the stack and so in
# memory when the probe fires (see the str() caveat in README.md).
CONSUMER = r"""
#include <trace.h>
#include <stdint.h>
#include <stdio.h>

static int64_t evals;
static int64_t count_evaluation(void) { return ++evals; }

int main(int argc, char **argv)
{
    TRACEPOINT(consumer, hello, (int64_t)argc, argv[0]);
    TRACEPOINT_GUARDED(consumer, guarded, count_evaluation(), argv[0]);
    printf("enabled=%d evals=%lld\n", TRACE_ENABLED, (long long)evals);
    return 0;
}
"""

CMAKELISTS = """cmake_minimum_required(VERSION 3.13)
project(consumer LANGUAGES {lang})
find_package(moneyrocket-trace 0.1 CONFIG REQUIRED)
add_executable(consumer consumer.{ext})
target_compile_options(consumer PRIVATE -Wall -Wextra -Werror -pedantic)
target_link_libraries(consumer PRIVATE moneyrocket::trace{target_suffix})
"""

MESON = """project('consumer', '{lang}', default_options: ['warning_level=3', 'werror=true'])
executable('consumer', 'consumer.{ext}', dependencies: dependency('moneyrocket-trace'))
"""

MAKEFILE = """CFLAGS += -Wall -Wextra -Werror -pedantic $(shell pkg-config --cflags moneyrocket-trace)
CXXFLAGS += -Wall -Wextra -Werror -pedantic $(shell pkg-config --cflags moneyrocket-trace)
consumer: consumer.{ext}
\t$({compiler}) $({flags}) -o $@ $<
"""

LANGS = {"c": ("c", "c", "CC", "CFLAGS"), "cxx": ("cpp", "cpp", "CXX", "CXXFLAGS")}


@pytest.fixture(scope="module")
def prefix(tmp_path_factory):
    prefix = tmp_path_factory.mktemp("prefix")
    run(["make", "-C", str(ROOT), "--no-print-directory", "install", f"PREFIX={prefix}"])
    return prefix


def files_under(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_install_layout_and_pkg_config(prefix):
    assert files_under(prefix) == sorted(INSTALLED)
    assert (prefix / INSTALLED[0]).read_bytes() == (ROOT / "include" / "trace.h").read_bytes()
    env = dict(os.environ, PKG_CONFIG_PATH=str(prefix / "share" / "pkgconfig"))
    cflags = run(["pkg-config", "--cflags", "moneyrocket-trace"], env=env).stdout.split()
    assert cflags == [f"-I{prefix}/include/moneyrocket-trace"]
    assert run(["pkg-config", "--variable=sdt_package_debian", "moneyrocket-trace"],
               env=env).stdout.strip() == "systemtap-sdt-dev"


def test_destdir_stages_the_same_tree_naming_prefix(tmp_path):
    stage = tmp_path / "stage"
    run(["make", "-C", str(ROOT), "--no-print-directory", "install", "PREFIX=/opt/mr",
         f"DESTDIR={stage}"])
    assert files_under(stage) == sorted(f"opt/mr/{f}" for f in INSTALLED)
    pc = (stage / "opt/mr/share/pkgconfig/moneyrocket-trace.pc").read_text()
    assert "prefix=/opt/mr\n" in pc and str(stage) not in pc
    run(["make", "-C", str(ROOT), "--no-print-directory", "uninstall", "PREFIX=/opt/mr",
         f"DESTDIR={stage}"])
    assert files_under(stage) == []


def test_uninstall_removes_exactly_what_was_installed(tmp_path):
    prefix = tmp_path / "p"
    other = prefix / "include" / "trace.h"      # someone else's trace.h
    other.parent.mkdir(parents=True)
    other.write_text("/* not ours */\n")
    run(["make", "-C", str(ROOT), "--no-print-directory", "install", f"PREFIX={prefix}"])
    assert other.read_text() == "/* not ours */\n"
    run(["make", "-C", str(ROOT), "--no-print-directory", "uninstall", f"PREFIX={prefix}"])
    assert files_under(prefix) == ["include/trace.h"]
    assert not (prefix / "include" / "moneyrocket-trace").exists()
    assert not (prefix / "share" / "cmake" / "moneyrocket-trace").exists()


def build_consumer(kind, lang, prefix, tmp_path):
    ext, meson_lang, compiler, flags = LANGS[lang]
    src = tmp_path / "src"
    src.mkdir()
    (src / f"consumer.{ext}").write_text(CONSUMER)
    env = dict(os.environ, PKG_CONFIG_PATH=str(prefix / "share" / "pkgconfig"))
    build = tmp_path / "build"
    if kind == "cmake":
        require_tool("cmake")
        (src / "CMakeLists.txt").write_text(CMAKELISTS.format(
            lang="C" if lang == "c" else "CXX", ext=ext, target_suffix=""))
        run(["cmake", "-S", str(src), "-B", str(build), f"-DCMAKE_PREFIX_PATH={prefix}"],
            env=env)
        run(["cmake", "--build", str(build)], env=env)
    elif kind == "meson":
        require_tool("meson")
        require_tool("ninja")
        (src / "meson.build").write_text(MESON.format(lang=meson_lang, ext=ext))
        run(["meson", "setup", str(build), str(src)], env=env)
        run(["ninja", "-C", str(build)], env=env)
    else:
        (src / "Makefile").write_text(MAKEFILE.format(ext=ext, compiler=compiler, flags=flags))
        run(["make", "-C", str(src)], env=env)
        build = src
    return build / "consumer"


@pytest.mark.parametrize("lang", ["c", "cxx"])
@pytest.mark.parametrize("kind", ["cmake", "meson", "make"])
def test_consumer_builds_and_bpftrace_attaches(prefix, kind, lang, tmp_path):
    exe = build_consumer(kind, lang, prefix, tmp_path)
    assert run([str(exe)]).stdout == "enabled=1 evals=0\n"
    notes = run(["readelf", "-n", str(exe)]).stdout
    assert "Name: hello" in notes and "Name: guarded" in notes
    require_root()
    require_tool("bpftrace")
    script = (f'usdt:{exe}:consumer:hello {{ printf("hello %d %s\\n", arg0, str(arg1)); }}'
              f'usdt:{exe}:consumer:guarded {{ printf("guarded %d %s\\n", arg0, str(arg1)); }}')
    # The path can be longer than bpftrace's default 64-byte strings.
    out = run(["bpftrace", "-e", script, "-c", str(exe)],
              env=dict(os.environ, BPFTRACE_STRLEN="200")).stdout.splitlines()
    assert f"hello 1 {exe}" in out, out
    assert f"guarded 1 {exe}" in out, out
    assert "enabled=1 evals=1" in out, out


def test_cmake_require_fails_without_sdt(prefix, tmp_path):
    """MONEYROCKET_TRACE_REQUIRE=ON and no sys/sdt.h found: configure fails."""
    require_tool("cmake")
    src = tmp_path / "src"
    src.mkdir()
    (src / "consumer.c").write_text(CONSUMER)
    (src / "CMakeLists.txt").write_text(CMAKELISTS.format(lang="C", ext="c", target_suffix=""))
    proc = run(["cmake", "-S", str(src), "-B", str(tmp_path / "b"),
                f"-DCMAKE_PREFIX_PATH={prefix}", "-DMONEYROCKET_TRACE_REQUIRE=ON",
                "-DMONEYROCKET_TRACE_SDT_INCLUDE_DIR=MONEYROCKET_TRACE_SDT_INCLUDE_DIR-NOTFOUND",
                "-DCMAKE_FIND_ROOT_PATH_MODE_INCLUDE=ONLY", f"-DCMAKE_FIND_ROOT_PATH={tmp_path}"],
               check=False)
    assert proc.returncode != 0
    assert "systemtap-sdt-dev" in proc.stderr, proc.stderr


def test_nop5_form_through_pkg_config_and_cmake(prefix, tmp_path):
    """moneyrocket-trace-nop5 (.pc) and moneyrocket::trace_nop5 (CMake) build 5-byte sites
    with -mno-red-zone."""
    env = dict(os.environ, PKG_CONFIG_PATH=str(prefix / "share" / "pkgconfig"))
    cflags = run(["pkg-config", "--cflags", "moneyrocket-trace-nop5"], env=env).stdout.split()
    assert sorted(cflags) == sorted(["-DTRACE_NOP5", "-DTRACE_NO_RED_ZONE", "-mno-red-zone",
                                     f"-I{prefix}/include/moneyrocket-trace"])
    require_tool("cmake")
    src = tmp_path / "src"
    src.mkdir()
    (src / "consumer.c").write_text(CONSUMER)
    (src / "CMakeLists.txt").write_text(CMAKELISTS.format(lang="C", ext="c",
                                                          target_suffix="_nop5"))
    build = tmp_path / "build"
    run(["cmake", "-S", str(src), "-B", str(build), f"-DCMAKE_PREFIX_PATH={prefix}"])
    verbose = run(["cmake", "--build", str(build), "--verbose"]).stdout
    assert "-mno-red-zone" in verbose and "-DTRACE_NOP5" in verbose, verbose
    from test_header_nop5 import site_bytes
    assert site_bytes(build / "consumer", "hello") == "0f 1f 44 00 00"
    assert site_bytes(build / "consumer", "guarded") == "0f 1f 44 00 00"
