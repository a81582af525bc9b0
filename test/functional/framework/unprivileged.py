"""Run programs as an unprivileged user, wherever the checkout lives.

The user must be able to read what it runs: a checkout in a directory only
root can enter (a clone into `mktemp -d`, mode 0700) would make a program
fail with "Permission denied" before it ever checks for root. So programs
are copied into a world-readable directory first (`readable_copy`), and
only the copy is run. `as_user` is the command prefix that switches user
(through util-linux's setpriv); run as anybody but root, it is empty.
"""
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

NOBODY = "nobody"


def as_user(user=NOBODY):
    """The command prefix that runs a program as `user` (when we are root)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        raise FileNotFoundError("setpriv (util-linux) missing")
    return [setpriv, f"--reuid={user}", f"--regid={pwd.getpwnam(user).pw_gid}",
            "--clear-groups", "--"]


def user_ids(user):
    p = pwd.getpwnam(user)
    return p.pw_uid, p.pw_gid


def readable_copy(src, directory):
    """Copy `src` into `directory` (made world-readable), executable by
    anybody; the copy's Path."""
    os.chmod(directory, 0o755)
    dst = Path(directory) / Path(src).name
    shutil.copy2(src, dst)
    os.chmod(dst, 0o755)
    return dst


def run_as_nobody(argv, script, timeout_s=60):
    """Run argv, in which `script` (a Path) is replaced by a readable copy,
    as nobody. Returns the CompletedProcess (text output)."""
    tmp = tempfile.mkdtemp(prefix="mr_unpriv_")
    try:
        copy = readable_copy(script, tmp)
        # The BCC scripts import their shared helper from beside them.
        helper = Path(script).parent / "usdt_helper.py"
        if helper.exists():
            readable_copy(helper, tmp)
        cmd = [str(copy) if str(a) == str(script) else str(a) for a in argv]
        return subprocess.run(as_user(NOBODY) + cmd, capture_output=True, text=True,
                              timeout=timeout_s, cwd=tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
