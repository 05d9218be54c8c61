"""The private PostgreSQL cluster in the cache folder (started once, reused by every command)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import pwd
import re
import shlex
import shutil
import subprocess
from pathlib import Path

from .common import MODULE, SetupError, free_port, port_is_free, run, say
from .postgres import PgServer

PG_PORT_RANGE = range(55432, 55532)


def find_pg_bindir(version: str | None = None) -> Path | None:
    """Folder with initdb/pg_ctl: pg_config --bindir, /usr/lib/postgresql/*/bin, PATH."""
    candidates: list[Path] = []
    if version:
        candidates.append(Path(f"/usr/lib/postgresql/{version}/bin"))
    pg_config = shutil.which("pg_config")
    if pg_config:
        proc = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        if proc.returncode == 0:
            candidates.append(Path(proc.stdout.strip()))

    def numeric(path: Path):
        return [int(x) for x in re.findall(r"\d+", path.parent.name)] or [0]

    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=numeric, reverse=True)
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    for path in candidates:
        if (path / "initdb").is_file() and (path / "pg_ctl").is_file():
            if version and cluster_binary_version(path) != version:
                continue
            return path
    return None


def cluster_binary_version(bindir: Path) -> str | None:
    proc = subprocess.run([bindir / "pg_ctl", "--version"], capture_output=True, text=True)
    match = re.search(r"(\d+)(?:\.\d+)?", proc.stdout)
    return match.group(1) if match else None


class Cluster:
    """A private PostgreSQL cluster in the cache folder: superuser ``odoo``, trust
    authentication, 127.0.0.1 only, on a free port remembered in <cache>/pgport.

    Layout: <cache>/pgdata (the data folder, which also holds the unix socket),
    <cache>/postgresql.log, <cache>/pgport. As root, the server runs as the ``postgres``
    user, who then owns pgdata and the log; when that user cannot reach the cache folder
    (e.g. below /root, mode 0700), pgdata and the log live in the postgres user's home and
    the cache holds symlinks to them.
    """

    USER = "odoo"

    def __init__(self, cache: Path):
        self.cache = cache
        self.data = cache / "pgdata"
        self.logfile = cache / "postgresql.log"
        self.portfile = cache / "pgport"
        self.owner = None
        if os.geteuid() == 0:
            try:
                self.owner = pwd.getpwnam("postgres")
            except KeyError as exc:
                raise SetupError(
                    "as root, PostgreSQL must run as another user, but the 'postgres' user "
                    "does not exist: install PostgreSQL (apt-get install postgresql), or run "
                    "./dev as a normal user"
                ) from exc
            # a minimal PATH (cron, CI, env -i) often lacks the sbin folders
            search_path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
            self.runuser = shutil.which("runuser", path=search_path)
            if not self.runuser:
                raise SetupError("as root, starting PostgreSQL needs runuser (util-linux)")

    def as_owner(self, cmd: list, **kwargs) -> subprocess.CompletedProcess:
        cmd = [str(c) for c in cmd]
        if self.owner:
            cmd = [self.runuser, "-u", self.owner.pw_name, "--", *cmd]
        kwargs.setdefault("cwd", "/")
        kwargs.setdefault("capture_output", True)
        return run(cmd, **kwargs)

    def owner_can_write(self, path: Path) -> bool:
        return self.as_owner(["test", "-w", path], check=False).returncode == 0

    def give_to_owner(self, path: Path) -> None:
        if self.owner:
            os.chown(path, self.owner.pw_uid, self.owner.pw_gid)

    def prepare(self) -> None:
        """Make pgdata and the log file exist and belong to the user running the server."""
        if not self.owner:
            self.data.mkdir(mode=0o700, exist_ok=True)
            return
        if self.owner_can_write(self.data) and self.owner_can_write(self.logfile):
            return
        if not self.data.is_symlink():
            self.data.mkdir(mode=0o700, exist_ok=True)
            self.give_to_owner(self.data)
            self.logfile.touch()
            self.give_to_owner(self.logfile)
            if self.owner_can_write(self.data):
                return
            if any(self.data.iterdir()):
                raise SetupError(
                    f"user postgres cannot reach {self.data}, which holds a cluster already: "
                    "give it access to the cache folder, or delete that folder"
                )
            self.data.rmdir()
            self.logfile.unlink()
        # The postgres user cannot reach the cache folder: keep the cluster in its home.
        digest = hashlib.sha1(str(self.cache).encode()).hexdigest()[:12]
        home = Path(self.owner.pw_dir or "/var/lib/postgresql") / f"{MODULE}-{digest}"
        home.mkdir(parents=True, exist_ok=True)
        self.give_to_owner(home)
        (home / "pgdata").mkdir(mode=0o700, exist_ok=True)
        self.give_to_owner(home / "pgdata")
        (home / "postgresql.log").touch()
        self.give_to_owner(home / "postgresql.log")
        for link, target in ((self.data, home / "pgdata"), (self.logfile, home / "postgresql.log")):
            if link.is_symlink() or link.exists():
                link.unlink()
            link.symlink_to(target)
        if not self.owner_can_write(self.data.resolve()):
            raise SetupError(f"user postgres cannot write to {self.data.resolve()}")

    def ensure(self) -> PgServer:
        version = None
        if (self.data / "PG_VERSION").is_file():
            version = (self.data / "PG_VERSION").read_text().strip()
        bindir = find_pg_bindir(version)
        if not bindir:
            if version:
                raise SetupError(
                    f"the cluster {self.data} is PostgreSQL {version}, whose server binaries "
                    f"are not installed: install them, or delete {self.data} to start afresh"
                )
            raise SetupError(
                "PostgreSQL server binaries (initdb, pg_ctl) not found: install them "
                "(apt-get install postgresql), or set PGHOST/PGPORT/PGUSER/PGPASSWORD to use "
                "a running server"
            )
        self.bindir = bindir
        self.prepare()
        if not (self.data / "PG_VERSION").is_file():
            self.initdb()
        port = self.running_port()
        if port is None:
            port = self.start()
        return PgServer("127.0.0.1", port, self.USER, None, f"private cluster 127.0.0.1:{port}")

    def initdb(self) -> None:
        for leftover in self.data.iterdir():  # of an interrupted initdb
            shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
        say(f"creating a PostgreSQL cluster in {self.data}")
        self.as_owner(
            [
                self.bindir / "initdb",
                "-D",
                self.data.resolve(),
                "-U",
                self.USER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ]
        )

    def running_port(self) -> int | None:
        status = self.as_owner(
            [self.bindir / "pg_ctl", "-D", self.data.resolve(), "status"], check=False
        )
        if status.returncode != 0:
            return None
        with contextlib.suppress(OSError, IndexError, ValueError):
            port = int((self.data / "postmaster.pid").read_text().splitlines()[3])
            if self.ready(port):
                return port
        raise SetupError(
            f"the cluster {self.data} runs but does not answer on 127.0.0.1: stop it with "
            f"pg_ctl -D {self.data} stop"
        )

    def ready(self, port: int) -> bool:
        proc = subprocess.run(
            [self.bindir / "pg_isready", "-q", "-h", "127.0.0.1", "-p", str(port)],
            capture_output=True,
        )
        return proc.returncode == 0

    def choose_port(self) -> int:
        with contextlib.suppress(ValueError, OSError):
            port = int(self.portfile.read_text().strip())
            if port_is_free(port):
                return port
            say(f"port {port} is taken by something else: choosing another")
        for port in PG_PORT_RANGE:
            if port_is_free(port):
                return port
        return free_port()

    def start(self) -> int:
        port = self.choose_port()
        data = self.data.resolve()
        # The unix socket goes into the data folder, unless its path is too long for one.
        socket_dir = str(data) if len(str(data)) < 90 else ""
        options = " ".join(
            [
                f"-p {port}",
                "-c listen_addresses=127.0.0.1",
                f"-c unix_socket_directories={shlex.quote(socket_dir)}",
                # a throw-away development cluster: speed matters, durability does not
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
            ]
        )
        say(f"starting PostgreSQL ({self.bindir}) on 127.0.0.1:{port}, log {self.logfile}")
        cmd = [self.bindir / "pg_ctl", "-D", data, "-l", self.logfile.resolve(), "-o", options]
        # A new session: the server outlives this command and its terminal.
        proc = self.as_owner([*cmd, "-w", "-t", "60", "start"], check=False, start_new_session=True)
        if proc.returncode or not self.ready(port):
            tail = ""
            with contextlib.suppress(OSError):
                tail = "\n".join(self.logfile.read_text().splitlines()[-15:])
            raise SetupError(f"PostgreSQL did not start:\n{proc.stdout}{proc.stderr}{tail}")
        self.portfile.write_text(f"{port}\n")
        return port
