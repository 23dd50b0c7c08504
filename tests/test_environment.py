"""The FACE_CLEAN_* variables: read in one place (cleaner.environment), each documented, bad values a
usage error naming the variable, and `face-clean config` printing each with its origin."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cleaner import environment
from cleaner.errors import ConfigError

REPO = Path(__file__).parent.parent
PAGE = REPO / "docs" / "reference" / "environment.md"
NOT_VARIABLES = {"FACE_CLEAN_HOSTS"}  # a key of the review page's flask config, not the environment's


def test_every_variable_the_package_or_image_names_is_read_in_one_place_and_documented():
    named = set()
    for path in [*(REPO / "cleaner").rglob("*.py"), *(REPO / "docker").glob("*.sh")]:
        named |= set(re.findall(r"FACE_CLEAN_[A-Z_]+[A-Z]", path.read_text(encoding="utf-8")))
    page = PAGE.read_text(encoding="utf-8")
    read_here = {v.name for v in environment.VARIABLES}
    in_package = set()
    for path in (REPO / "cleaner").rglob("*.py"):
        in_package |= set(re.findall(r"FACE_CLEAN_[A-Z_]+[A-Z]", path.read_text(encoding="utf-8")))
    assert in_package - NOT_VARIABLES <= read_here, "a FACE_CLEAN_* variable read outside cleaner.environment"
    assert sorted(n for n in named - NOT_VARIABLES if f"`{n}`" not in page) == []


def test_each_variable_is_typed_and_unset_or_empty_means_the_default():
    env = environment.read(
        {"FACE_CLEAN_BATCH": "8", "FACE_CLEAN_DEVICE": " CPU ", "FACE_CLEAN_CONFIG": "~/x", "FACE_CLEAN_WORKERS": ""}
    )
    assert (env.batch, env.device, env.workers, env.threads) == (8, "cpu", None, None)
    assert env.config == Path("~/x").expanduser()
    assert env.origin("batch") == "env FACE_CLEAN_BATCH" and env.origin("workers") == "default"
    assert environment.read({}) == environment.Environment()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("FACE_CLEAN_BATCH", "0", "$FACE_CLEAN_BATCH is '0': expected a whole number of at least 1"),
        ("FACE_CLEAN_THREADS", "4²", "$FACE_CLEAN_THREADS is '4²': expected a whole number of at least 1"),
        ("FACE_CLEAN_DEVICE", "tpu", "$FACE_CLEAN_DEVICE is 'tpu'; choose one of auto, cpu, cuda"),
    ],
)
def test_a_bad_value_names_the_variable(name: str, value: str, message: str):
    with pytest.raises(ConfigError) as caught:
        environment.read({name: value})
    assert str(caught.value) == message


def test_a_bad_value_stops_a_run_before_anything_moves(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import photos

    photos.save(photos.data.coffee(), tmp_path / "coffee.jpg", quality=90)
    monkeypatch.setenv("FACE_CLEAN_WORKERS", "many")
    result = cli("run", tmp_path, "--keep", "Man")
    assert result.exit_code == 2
    assert "$FACE_CLEAN_WORKERS is 'many'" in result.output
    assert (tmp_path / "coffee.jpg").exists() and not (tmp_path / ".face-clean" / "audit.jsonl").exists()


def test_config_prints_every_variable_with_its_origin_and_never_the_password(cli, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("FACE_CLEAN_DEVICE", "cpu")
    monkeypatch.setenv("FACE_CLEAN_PASSWORD", "hunter2hunter2")
    monkeypatch.delenv("FACE_CLEAN_BATCH", raising=False)
    result = cli("config")
    assert result.exit_code == 0
    listed = result.output.split("Environment:\n")[1].splitlines()
    rows = {line.split()[0]: line for line in listed if line.startswith("  FACE_CLEAN_")}
    assert list(rows) == [v.name for v in environment.VARIABLES]
    assert re.fullmatch(r"  FACE_CLEAN_DEVICE +cpu +env FACE_CLEAN_DEVICE", rows["FACE_CLEAN_DEVICE"])
    assert re.fullmatch(r"  FACE_CLEAN_BATCH +- \(measured\) +default", rows["FACE_CLEAN_BATCH"])
    assert "(set, not shown)" in rows["FACE_CLEAN_PASSWORD"] and "hunter2" not in result.output
