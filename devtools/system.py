"""The Debian packages ``./dev`` needs: installed with apt-get when it runs as root on Debian or
Ubuntu (as ``.ci/run`` did for Chromium), otherwise named in the one command to run."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from .common import SetupError, run, say

# what pip needs to build Odoo's requirements without wheels: psycopg2, python-ldap
ODOO_BUILD_PACKAGES = ("libpq-dev", "libldap2-dev", "libsasl2-dev")
CHROMIUM_COMMANDS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def missing_packages(packages) -> list[str] | None:
    """The packages of ``packages`` dpkg does not have installed (None: not a dpkg system)."""
    dpkg_query = shutil.which("dpkg-query")
    if not dpkg_query:
        return None
    missing = []
    for package in packages:
        proc = subprocess.run(
            [dpkg_query, "-W", "-f=${Status}", package], capture_output=True, text=True
        )
        if proc.returncode or not proc.stdout.endswith(" installed"):
            missing.append(package)
    return missing


def install_command(packages) -> str:
    sudo = "" if os.geteuid() == 0 else "sudo "
    return f"{sudo}apt-get install {shlex.join(packages)}"


def apt_install(packages, why: str) -> str | None:
    """Install the missing ones of ``packages``; return None when they are all installed,
    otherwise the command that installs them (``./dev`` is not root, or has no apt-get)."""
    missing = missing_packages(packages)
    if missing is None:
        return install_command(packages)
    if not missing:
        return None
    apt_get = shutil.which("apt-get")
    if os.geteuid() != 0 or not apt_get:
        return install_command(missing)
    say(f"{why}: apt-get install {' '.join(missing)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        run([apt_get, "update", "-qq"], env=env, capture_output=True)
        run([apt_get, "install", "-y", "-qq", "--no-install-recommends", *missing], env=env)
    except SetupError as exc:
        say(f"apt-get failed: {exc}")
        return install_command(missing)
    return None


def ensure_odoo_build_packages(python: str) -> str | None:
    """Before pip installs Odoo's requirements: the Debian packages that build them. Return
    None when they are there, otherwise the command to run."""
    packages = list(ODOO_BUILD_PACKAGES)
    if not shutil.which("gcc"):
        packages.append("gcc")
    if python == sys.executable and sys.prefix == "/usr":
        # Debian's own Python builds extensions only with its headers
        if not (Path(sysconfig.get_paths()["include"]) / "Python.h").is_file():
            packages.append("python3-dev")
    return apt_install(packages, "Odoo's requirements are built with")


def find_chromium() -> str | None:
    return next(filter(None, map(shutil.which, CHROMIUM_COMMANDS)), None)


def ensure_chromium() -> None:
    """The browser tests need Chromium: install it, or say how (the tests then fail)."""
    if find_chromium():
        return
    command = apt_install(["chromium"], "the browser tests need Chromium")
    if command:
        say(f"the browser tests need Chromium, which is not installed: {command}")
