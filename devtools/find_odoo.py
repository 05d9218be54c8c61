"""Finding Odoo 18.0: the Python that imports it, an ODOO_SRC checkout, or a clone."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .common import MODULE, REPO_DIR, SetupError, run, say
from .system import ensure_odoo_build_packages

ODOO_GIT_URL = "https://github.com/odoo/odoo"
ODOO_BRANCH = "18.0"
ODOO_VERSION = (18, 0)

PROBE_ODOO = r"""
import json, os, sys
try:
    import odoo.release as release
    import odoo
except Exception as exc:
    print(json.dumps({"error": repr(exc)}))
    sys.exit(0)
info = {"version_info": list(release.version_info[:2]), "version": release.version,
        "path": os.path.dirname(os.path.abspath(odoo.__file__))}
try:
    import odoo.cli  # noqa: F401  (imports the server stack: proves the requirements)
except ImportError as exc:
    info["missing"] = getattr(exc, "name", None) or str(exc)
print(json.dumps(info))
"""


@dataclass
class Odoo:
    python: str
    command: list[str]
    addons_paths: list[Path]
    version: str
    origin: str
    pythonpath: list[str] = field(default_factory=list)

    def env(self, **extra) -> dict[str, str]:
        env = dict(os.environ)
        env["TZ"] = "UTC"  # what odoo-bin sets before anything imports time
        env["PYTHONUNBUFFERED"] = "1"
        if self.pythonpath:
            paths = self.pythonpath + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
            env["PYTHONPATH"] = os.pathsep.join(paths)
        env.update(extra)
        return env

    def tool(self, module: str, *args) -> list[str]:
        """The command line of a Python tool run as ``python -m module`` in Odoo's Python."""
        return [self.python, "-m", module, *map(str, args)]

    def python_can_import(self, modules) -> list[str]:
        """Return the modules of ``modules`` that this Odoo's Python cannot import."""
        code = (
            "import importlib.util, sys\n"
            "print(' '.join(m for m in sys.argv[1:] if importlib.util.find_spec(m) is None))"
        )
        proc = run([self.python, "-c", code, *modules], capture_output=True, env=self.env())
        return proc.stdout.split()


def probe_python(python: str, pythonpath: list[str] | None = None) -> dict | None:
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(pythonpath + [env.get("PYTHONPATH", "")]).rstrip(
            os.pathsep
        )
    try:
        proc = subprocess.run(
            [python, "-c", PROBE_ODOO],
            capture_output=True,
            text=True,
            env=env,
            cwd="/",
            timeout=120,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None


def odoo_addons_paths(package_dir: Path) -> list[Path]:
    """Odoo's own addons folders: the checkout's ``addons`` and ``odoo/addons``."""
    paths = []
    checkout_addons = package_dir.parent / "addons"
    if (checkout_addons / "web" / "__manifest__.py").is_file():
        paths.append(checkout_addons)
    paths.append(package_dir / "addons")
    return paths


def release_version(checkout: Path) -> tuple[int, int] | None:
    """Read odoo/release.py of a checkout without importing Odoo."""
    scope: dict = {}
    try:
        exec(compile((checkout / "odoo" / "release.py").read_text(), "release.py", "exec"), scope)
        return tuple(scope["version_info"][:2])
    except Exception:
        return None


def odoo_from_checkout(checkout: Path, origin: str) -> Odoo:
    if not (checkout / "odoo-bin").is_file() or not (checkout / "odoo" / "release.py").is_file():
        raise SetupError(f"{checkout} is not an Odoo checkout (no odoo-bin / odoo/release.py)")
    version = release_version(checkout)
    if version != ODOO_VERSION:
        raise SetupError(f"{checkout} is Odoo {version}, not 18.0")
    python = sys.executable or shutil.which("python3") or "python3"
    odoo = Odoo(
        python=python,
        command=[python, str(checkout / "odoo-bin")],
        addons_paths=odoo_addons_paths(checkout / "odoo"),
        version="18.0",
        origin=origin,
        pythonpath=[str(checkout)],
    )
    info = probe_python(python, odoo.pythonpath) or {}
    if "error" in info or info.get("missing"):
        say(f"Odoo's Python requirements are missing ({info.get('error') or info['missing']})")
        install_odoo_requirements(python, checkout)
        info = probe_python(python, odoo.pythonpath) or {}
        if "error" in info or info.get("missing") or not info:
            raise SetupError(
                f"Odoo at {checkout} still cannot be imported by {python}: "
                f"{info.get('error') or info.get('missing')}"
            )
    return odoo


def install_odoo_requirements(python: str, checkout: Path) -> None:
    build_command = ensure_odoo_build_packages(python)
    say(f"installing Odoo's requirements from {checkout}/requirements.txt with {python}")
    try:
        run([python, "-m", "pip", "install", "setuptools<70", "wheel", "setuptools_scm"])
        run(
            [
                python,
                "-m",
                "pip",
                "install",
                "--no-build-isolation",
                "-r",
                str(checkout / "requirements.txt"),
            ]
        )
    except SetupError as exc:
        if not build_command:
            raise
        raise SetupError(
            f"{exc}\nInstalling Odoo's requirements failed. First install the packages that "
            f"build them: {build_command}"
        ) from exc


def find_odoo(cache: Path) -> Odoo:
    # An explicit ODOO_SRC wins over whatever Odoo the Python happens to import.
    if os.environ.get("ODOO_SRC"):
        checkout = Path(os.environ["ODOO_SRC"]).expanduser().absolute()
        return odoo_from_checkout(checkout, f"ODOO_SRC={checkout}")

    # (a) the Python running this script, or python3, imports Odoo 18.0
    candidates = []
    for python in (sys.executable, shutil.which("python3")):
        if python and os.path.realpath(python) not in {os.path.realpath(c) for c in candidates}:
            candidates.append(python)
    for python in candidates:
        info = probe_python(python)
        if not info or "error" in info:
            continue
        if tuple(info["version_info"]) != ODOO_VERSION:
            say(f"{python} imports Odoo {info['version']}, not 18.0: ignored")
            continue
        if info.get("missing"):
            raise SetupError(
                f"{python} imports Odoo 18.0 from {info['path']} but its requirements are "
                f"missing ({info['missing']}): pip install -r <odoo checkout>/requirements.txt"
            )
        package_dir = Path(info["path"])
        odoo_bin = package_dir.parent / "odoo-bin"
        command = [python, str(odoo_bin)] if odoo_bin.is_file() else [python, "-m", "odoo"]
        return Odoo(
            python=python,
            command=command,
            addons_paths=odoo_addons_paths(package_dir),
            version=info["version"],
            origin=f"installed in {python} ({package_dir})",
        )

    # (c) a checkout cloned earlier into the cache, or a new shallow clone
    clone = cache / "odoo"
    if (clone / "odoo-bin").is_file():
        return odoo_from_checkout(clone, f"clone in {clone}")
    if clone_odoo(clone):
        return odoo_from_checkout(clone, f"clone in {clone}")

    raise SetupError(
        "Odoo 18.0 not found. Either install it into this Python:\n"
        "    git clone --depth 1 --branch 18.0 https://github.com/odoo/odoo /opt/odoo18\n"
        '    python3 -m pip install "setuptools<70" wheel setuptools_scm\n'
        "    python3 -m pip install --no-build-isolation -r /opt/odoo18/requirements.txt\n"
        "    python3 -m pip install -e /opt/odoo18\n"
        "(Debian packages needed for that: libpq-dev libldap2-dev libsasl2-dev), or point\n"
        "ODOO_SRC at an Odoo 18.0 checkout: ODOO_SRC=/path/to/odoo ./dev test\n"
        f"Cloning {ODOO_GIT_URL} (branch {ODOO_BRANCH}) automatically was not possible."
    )


def clone_odoo(target: Path) -> bool:
    """Shallow-clone Odoo 18.0 into the cache when git can reach it; False otherwise."""
    git = shutil.which("git")
    if not git:
        say("git is not installed: cannot clone Odoo")
        return False
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0")
    try:
        probe = subprocess.run(
            [git, "ls-remote", "--heads", ODOO_GIT_URL, ODOO_BRANCH],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
    except subprocess.TimeoutExpired:
        say(f"git cannot reach {ODOO_GIT_URL} (timed out)")
        return False
    if probe.returncode or not probe.stdout.strip():
        reason = (probe.stderr.strip().splitlines() or ["no such branch"])[-1]
        say(f"git cannot reach {ODOO_GIT_URL}: {reason}")
        return False
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    say(f"cloning {ODOO_GIT_URL} branch {ODOO_BRANCH} into {target} (a few minutes)")
    proc = subprocess.run(
        [git, "clone", "--depth", "1", "--branch", ODOO_BRANCH, ODOO_GIT_URL, str(partial)],
        env=env,
    )
    if proc.returncode:
        shutil.rmtree(partial, ignore_errors=True)
        raise SetupError(f"git clone of {ODOO_GIT_URL} failed (exit {proc.returncode})")
    partial.rename(target)
    return True


def check_dependencies(odoo: Odoo, addons_dir: Path) -> list[str]:
    """The modules the manifest depends on; each must be in the addons path."""
    manifest = ast.literal_eval((addons_dir / MODULE / "__manifest__.py").read_text())
    missing = [
        dep
        for dep in manifest.get("depends", [])
        if not any((path / dep / "__manifest__.py").is_file() for path in odoo.addons_paths)
    ]
    if missing:
        paths = ", ".join(map(str, odoo.addons_paths))
        raise SetupError(f"Odoo's addons path ({paths}) lacks {', '.join(missing)}")
    return list(manifest.get("depends", []))


def ensure_requirements(odoo: Odoo, modules) -> None:
    """Install requirements-dev.txt into Odoo's Python when one of ``modules`` is missing."""
    missing = odoo.python_can_import(modules)
    if not missing:
        return
    requirements = REPO_DIR / "requirements-dev.txt"
    say(f"missing {', '.join(missing)}: pip install -r {requirements}")
    proc = subprocess.run([odoo.python, "-m", "pip", "install", "-r", str(requirements)])
    still = odoo.python_can_import(modules)
    if proc.returncode or still:
        raise SetupError(
            f"could not install the development requirements ({', '.join(still or missing)}): "
            f"run {odoo.python} -m pip install -r {requirements}"
        )
