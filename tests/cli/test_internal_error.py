"""The catch-all: an exception outside the error table (a bug) ends with "internal error", the version
and platform, the traceback only under -v, and its own exit code, which every --help lists."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from cleaner import __version__
from cleaner.cli import main
from cleaner.cli.exits import EXIT_INTERNAL, EXIT_USAGE

# A bug planted where `runs` lists the runs: an error no table entry names
FORCE = """
import sys
import cleaner.cli.runs
def broken(*args, **kwargs):
    raise KeyError("planted bug")
cleaner.cli.runs.runs = broken
from cleaner.cli import main
sys.exit(main())
"""


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", FORCE, *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_a_bug_prints_internal_error_version_and_platform_and_exits_with_its_code(tmp_path: Path):
    proc = _run("runs", str(tmp_path))
    assert proc.returncode == EXIT_INTERNAL == 70
    lines = proc.stderr.splitlines()
    assert lines[0] == "face-clean: internal error: KeyError: 'planted bug'"
    assert lines[1] == f"face-clean {__version__}, Python {platform.python_version()}, {platform.platform(terse=True)}"
    assert "Traceback" not in proc.stderr
    assert "-v" in lines[2]
    assert proc.stdout == ""


def test_with_v_the_traceback_follows(tmp_path: Path):
    proc = _run("-v", "runs", str(tmp_path))
    assert proc.returncode == EXIT_INTERNAL
    assert proc.stderr.startswith("face-clean: internal error: KeyError: 'planted bug'\n")
    assert "Traceback (most recent call last):" in proc.stderr
    assert ", in broken\n" in proc.stderr  # the frame that raised


def test_errors_the_user_can_fix_are_not_internal(tmp_path: Path):
    result = CliRunner().invoke(main, ["serve", str(tmp_path), "--bind", "127.0.0.1:80²"])
    assert result.exit_code == EXIT_USAGE
    assert "'127.0.0.1:80²' is not an address to listen on" in result.output
    assert "internal error" not in result.output


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += _commands(command, (*path, name))
        else:
            found.append((*path, name))
    return found


@pytest.mark.parametrize("command", _commands(main), ids=lambda c: " ".join(c) or "face-clean")
def test_every_help_lists_the_internal_error_code(command: tuple[str, ...]):
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0
    assert f"  {EXIT_INTERNAL}  internal error: a bug in face-clean" in result.output


def test_a_command_s_own_v_shows_the_traceback_too(tmp_path: Path):
    planted = FORCE.replace("cleaner.cli.runs.runs = broken", "cleaner.cli.run.never_matching = broken")
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            planted.replace("import cleaner.cli.runs", "import cleaner.cli.run"),
            "run",
            str(tmp_path),
            "--keep",
            "Man",
            "-v",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == EXIT_INTERNAL, proc.stderr
    assert "Traceback (most recent call last):" in proc.stderr
