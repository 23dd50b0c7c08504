"""The folders are the data flow, and the import contracts (setup.cfg, `lint-imports`) say so: an arrow
against it, planted in a copy of the package, breaks them. (Without this, a contract that lists the
layers wrongly would keep passing.)"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).parent.parent
LINT = Path(sys.executable).with_name("lint-imports")


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("architecture")
    shutil.copytree(REPO / "cleaner", root / "cleaner", ignore=shutil.ignore_patterns("__pycache__", "*.onnx"))
    shutil.copy(REPO / "setup.cfg", root / "setup.cfg")
    return root


def lint(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT), "--no-cache", "--config", str(root / "setup.cfg")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def plant(root: Path, module: str, line: str) -> str:
    path = root / (module.replace(".", "/") + ".py")
    before = path.read_text(encoding="utf-8")
    path.write_text(before + f"\n{line}  # planted by tests/test_architecture.py\n", encoding="utf-8")
    return before


def test_the_package_as_it_is_keeps_every_contract(copy: Path):
    proc = lint(copy)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Contracts: 5 kept, 0 broken." in proc.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        (
            "cleaner.pipeline.job",
            "from cleaner.commands import run as _planted",
            "cleaner.pipeline is not allowed to import cleaner.commands",
        ),
        (
            "cleaner.moves.mover",
            "from cleaner.pipeline import job as _planted",
            "cleaner.moves is not allowed to import cleaner.pipeline",
        ),
        (
            "cleaner.audit.log",
            "from cleaner.store import db as _planted",
            "cleaner.audit is not allowed to import cleaner.store",
        ),
    ],
)
def test_an_arrow_against_the_data_flow_breaks_the_contracts(copy: Path, module: str, line: str, broken: str):
    before = plant(copy, module, line)
    try:
        proc = lint(copy)
    finally:
        (copy / (module.replace(".", "/") + ".py")).write_text(before, encoding="utf-8")
    assert proc.returncode != 0
    assert broken in " ".join(proc.stdout.split()), proc.stdout
