"""A command in a detached tmux session, for testing curses monitors: the
screen as text, keys sent, and the command's exit status."""
import re
import subprocess

from framework.node import wait_until


class Tmux:
    """A detached tmux session, on a server of its own, running one command.

    The command's exit status is written to a file by the shell that runs
    it: tmux's own pane_dead_status proved unreliable when sessions on a
    shared server come and go quickly (the pane showed dead with no status
    while the child stayed an unreaped zombie)."""

    def __init__(self, name, cmd, tmp_path, width=160, height=40):
        self.base = ["tmux", "-L", name]
        self.status_file = tmp_path / f"{name}.status"
        subprocess.run(self.base + ["kill-server"], capture_output=True)
        wrapped = f"{cmd}; echo $? > {self.status_file}; sleep 600"
        subprocess.run(self.base + ["new-session", "-d", "-s", name, "-x", str(width),
                                    "-y", str(height), wrapped], check=True)

    def screen(self):
        return subprocess.run(self.base + ["capture-pane", "-p"],
                              capture_output=True, text=True).stdout

    def keys(self, *keys):
        subprocess.run(self.base + ["send-keys"] + list(keys), check=True)

    def wait_screen(self, pattern, timeout_s=60):
        rx = re.compile(pattern, re.M)
        return wait_until(lambda: rx.search(self.screen()), timeout_s,
                          what=f"tmux screen showing {pattern!r}")

    def exit_status(self):
        """The command's exit status once it has exited, else None."""
        try:
            text = self.status_file.read_text().strip()
        except FileNotFoundError:
            return None
        return text or None

    def kill(self):
        subprocess.run(self.base + ["kill-server"], capture_output=True)
