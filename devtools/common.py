"""What every part of ``./dev`` shares: names, errors, messages, commands, ports, locks."""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shlex
import socket
import subprocess
from pathlib import Path

MODULE = "marketing_automation_community"
# Optional companions installed next to the addon in the test and development databases,
# never dependencies: CRM brings the lead templates, which the tests and demo users need.
COMPANION_MODULES = ("crm",)
REPO_DIR = Path(__file__).resolve().parent.parent
DB_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,62}$")


class SetupError(Exception):
    """A problem of the environment (not of the addon): exit code 2."""


def say(message: str) -> None:
    print(f"dev: {message}", flush=True)


def run(cmd, *, check=True, **kwargs) -> subprocess.CompletedProcess:
    """Run a command; on failure raise SetupError with its output."""
    kwargs.setdefault("text", True)
    try:
        proc = subprocess.run(cmd, **kwargs)
    except FileNotFoundError as exc:
        raise SetupError(f"command not found: {cmd[0]}") from exc
    if check and proc.returncode:
        output = "\n".join(x for x in (proc.stdout, proc.stderr) if isinstance(x, str) and x)
        raise SetupError(f"{shlex.join(map(str, cmd))} exited {proc.returncode}\n{output.strip()}")
    return proc


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now, chosen by the kernel."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def check_db_name(name: str) -> str:
    if not DB_NAME_RE.match(name):
        raise SetupError(
            f"invalid database name {name!r}: a letter first, then letters, digits, '_', '.', '-'"
        )
    return name


@contextlib.contextmanager
def file_lock(path: Path, what: str):
    """Serialize set-ups and test runs that share one cache folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(f"waiting for another {what} using {path.parent} ...")
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def cache_dir() -> Path:
    """$MAC_CACHE_DIR, by default ${XDG_CACHE_HOME:-~/.cache}/marketing_automation_community."""
    if os.environ.get("MAC_CACHE_DIR"):
        path = Path(os.environ["MAC_CACHE_DIR"]).expanduser()
    else:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        path = Path(base).expanduser() / MODULE
    path = path.absolute()
    path.mkdir(parents=True, exist_ok=True)
    return path
