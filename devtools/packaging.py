"""``./dev wheel``: the wheel ``odoo-addon-marketing_automation_community``, built as OCA builds
its addons (the ``whool`` backend named in pyproject.toml), without the developer tooling.

whool names the distribution after the addon's folder and packs every file git tracks. The
command copies the tracked files, less the tooling below, into a folder named after the module
and builds the wheel there with ``pip wheel``, whatever the clone's folder is called.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from .common import MODULE, REPO_DIR, SetupError, run, say

# the repository's files that are not part of the addon (first path component)
DEV_ONLY = {
    ".ci",
    ".gitignore",
    ".pre-commit-config.yaml",
    ".pylintrc-mandatory",
    "bench",
    "dev",
    "devtools",
    "requirements-dev.txt",
}


def addon_files() -> list[str]:
    """The files git tracks, less the developer tooling (all files outside a git clone)."""
    try:
        proc = subprocess.run(
            ["git", "ls-files", "-z"], cwd=REPO_DIR, capture_output=True, text=True, check=True
        )
        files = [f for f in proc.stdout.split("\0") if f]
    except (OSError, subprocess.CalledProcessError):
        files = [
            str(p.relative_to(REPO_DIR))
            for p in REPO_DIR.rglob("*")
            if p.is_file() and ".git" not in p.parts and "__pycache__" not in p.parts
        ]
    return sorted(f for f in files if Path(f).parts[0] not in DEV_ONLY and (REPO_DIR / f).is_file())


def check_wheel(wheel: Path) -> list[str]:
    """What is wrong with the wheel's contents (nothing: an empty list)."""
    prefix = f"odoo/addons/{MODULE}/"
    names = zipfile.ZipFile(wheel).namelist()
    addon = [name[len(prefix) :] for name in names if name.startswith(prefix)]
    problems = [] if "__manifest__.py" in addon else [f"{prefix}__manifest__.py is missing"]
    problems += [
        f"{name} is outside {prefix}"
        for name in names
        if not name.startswith(prefix) and ".dist-info/" not in name
    ]
    problems += [
        f"{prefix}{name} is developer tooling" for name in addon if name.split("/")[0] in DEV_ONLY
    ]
    return problems


def cmd_wheel(args, extra: list[str]) -> int:
    dist = Path(args.dist).absolute()
    dist.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mac-wheel-") as tmp:
        stage = Path(tmp) / MODULE
        for name in addon_files():
            (stage / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO_DIR / name, stage / name)
        say(f"building the wheel of {stage} with whool (pip wheel --no-deps)")
        out = Path(tmp) / "dist"
        try:
            run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", out, stage, *extra])
        except SetupError as exc:
            raise SetupError(f"{exc}\npip could not build the wheel (whool is on PyPI)") from exc
        [built] = out.glob("*.whl")
        problems = check_wheel(built)
        if problems:
            say("the wheel is wrong:\n  " + "\n  ".join(problems))
            return 1
        wheel = dist / built.name
        shutil.move(built, wheel)
    say(f"wrote {wheel}")
    return 0
