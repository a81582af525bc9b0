"""Run a tracing script as an unprivileged user (nobody), wherever the
checkout lives.

The user must be able to read the script: a checkout in a directory only
root can enter (a clone into `mktemp -d`, mode 0700) would make the script
fail with "Permission denied" before it ever checks for root. So the script
is copied into a fresh world-readable directory first, and only that copy
is run.
"""
import os
import shutil
import subprocess
import tempfile

NOBODY = 65534


def run_as_nobody(argv, script, timeout_s=60):
    """Run argv, in which `script` (a Path) is replaced by a readable copy,
    as uid/gid 65534. Returns the CompletedProcess (text output)."""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        raise FileNotFoundError("setpriv (util-linux) missing")
    tmp = tempfile.mkdtemp(prefix="mr_unpriv_")
    try:
        os.chmod(tmp, 0o755)
        copy = os.path.join(tmp, script.name)
        shutil.copyfile(script, copy)
        os.chmod(copy, 0o755)
        # The BCC scripts import their shared helper from beside them.
        helper = script.parent / "usdt_helper.py"
        if helper.exists():
            shutil.copyfile(helper, os.path.join(tmp, helper.name))
        cmd = [copy if str(a) == str(script) else str(a) for a in argv]
        return subprocess.run([setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}",
                               "--clear-groups"] + cmd,
                              capture_output=True, text=True, timeout=timeout_s, cwd=tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
