"""contrib/devtools/check-names.py: src/NAME.c exports only NAME_* symbols.

The real tree passes (its objects, from make). Tiny trees built in a
temporary folder, one src/foo.c each compiled with the system compiler,
must fail with the right line: a symbol without the file's prefix, one no
header declares, a source without its object; and a file that holds
main() is not checked.
"""
import os
import subprocess
import sys

from conftest import BUILD, ROOT, require_built, require_tool, run

CHECKER = ROOT / "contrib" / "devtools" / "check-names.py"


def check(root, objdir=None):
    cmd = [sys.executable, str(CHECKER), "--root", str(root)]
    if objdir:
        cmd += ["--objdir", str(objdir)]
    return run(cmd, check=False)


def tiny_tree(tmp_path, c_text, h_text, name="foo", build=True):
    """tmp_path/src/NAME.[ch], and build/src/NAME.o compiled from them."""
    src, obj = tmp_path / "src", tmp_path / "build" / "src"
    src.mkdir(exist_ok=True)
    obj.mkdir(parents=True, exist_ok=True)
    (src / f"{name}.c").write_text(c_text)
    (src / f"{name}.h").write_text(h_text)
    if build:
        cc = os.environ.get("CC") or require_tool("cc")
        subprocess.run([cc, "-c", "-o", str(obj / f"{name}.o"), str(src / f"{name}.c")],
                       check=True)
    return tmp_path


def test_the_tree_passes():
    require_built(BUILD / "src" / "moneyrocketd.o")
    proc = check(ROOT, BUILD / "src")
    assert proc.returncode == 0, proc.stderr
    assert "starts with NAME_" in proc.stdout


def test_a_clean_file_passes(tmp_path):
    root = tiny_tree(tmp_path, "int foo(void) { return 0; }\n"
                               "int foo_ok(void) { return 1; }\n"
                               "static int helper(void) { return 2; }\n"
                               "int foo_uses(void) { return helper(); }\n",
                     "int foo(void);\nint foo_ok(void);\nint foo_uses(void);\n")
    proc = check(root)
    assert proc.returncode == 0, proc.stderr


def test_a_name_without_the_prefix_fails(tmp_path):
    root = tiny_tree(tmp_path, "int foo_ok(void) { return 1; }\n"
                               "int bar_get(void) { return 2; }\n"
                               "int foobar(void) { return 3; }\n"
                               "const int FOO_TABLE[2] = { 1, 2 };\n",
                     "int foo_ok(void);\nint bar_get(void);\nint foobar(void);\n"
                     "extern const int FOO_TABLE[2];\n")
    proc = check(root)
    assert proc.returncode == 1
    assert "src/foo.c: bar_get: does not start with foo_" in proc.stderr, proc.stderr
    assert "src/foo.c: foobar: does not start with foo_" in proc.stderr, proc.stderr
    assert "src/foo.c: FOO_TABLE: does not start with foo_" in proc.stderr, proc.stderr
    assert "foo_ok" not in proc.stderr


def test_a_symbol_no_header_declares_fails(tmp_path):
    root = tiny_tree(tmp_path, "int foo_ok(void) { return 1; }\n"
                               "int foo_helper(void) { return 2; }\n",
                     "int foo_ok(void);\n")
    proc = check(root)
    assert proc.returncode == 1
    assert ("src/foo.c: foo_helper: declared in no header of src/: make it static"
            in proc.stderr), proc.stderr


def test_a_source_without_its_object_fails(tmp_path):
    root = tiny_tree(tmp_path, "int foo_ok(void) { return 1; }\n", "int foo_ok(void);\n",
                     build=False)
    proc = check(root)
    assert proc.returncode == 1
    assert "src/foo.c: no object" in proc.stderr, proc.stderr


def test_a_program_with_main_is_not_checked(tmp_path):
    root = tiny_tree(tmp_path, "int anything(void) { return 0; }\n"
                               "int main(void) { return anything(); }\n", "",
                     name="footool")
    proc = check(root)
    assert proc.returncode == 0, proc.stderr
