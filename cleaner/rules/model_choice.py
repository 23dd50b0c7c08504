"""Which detector, gender model and age model a run uses: rules file, command line, defaults.

A model choice is ``builtin`` (the models that come with face-clean), ``deepface`` (DeepFace's
VGG-Face models, fetched by ``face-clean models fetch``) or the path of a manifest describing
an ONNX classifier (cleaner.analysis.manifest).  Precedence: the command line, then the rules file,
then the environment (``FACE_CLEAN_DETECTOR``, ``FACE_CLEAN_GENDER_MODEL``,
``FACE_CLEAN_AGE_MODEL``: a site-wide default, handy in a container), then the built-in
defaults below.  A manifest is read and checked here, when the rules are read, so a bad one
stops the run (exit code 2) before any photo is touched.
"""

from __future__ import annotations

from pathlib import Path

from cleaner import environment
from cleaner.analysis.builtin_models import BUILTIN, MODEL_CHOICES
from cleaner.analysis.manifest import load as load_manifest
from cleaner.errors import RulesError

DEFAULT_DETECTOR = "yunet"  # measured best on the labelled photos (README, "Evaluating")
DEFAULT_MODEL = BUILTIN
ENV = {"detector": "FACE_CLEAN_DETECTOR", "gender": "FACE_CLEAN_GENDER_MODEL", "age": "FACE_CLEAN_AGE_MODEL"}


def model(value: object, task: str, where: str, base: Path | None) -> str:
    """``builtin``, ``deepface`` or a manifest's absolute path (relative ones start at ``base``)."""
    if not isinstance(value, str) or not value.strip():
        raise RulesError(f"{where}: expected builtin, deepface or the path of a model manifest, got {value!r}")
    if value in MODEL_CHOICES:
        return value
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = (base or Path.cwd()) / path
    if not path.is_file():
        raise RulesError(f"{where}: {value!r} is neither builtin, deepface nor a model manifest file ({path})")
    load_manifest(path, task)  # a ManifestError names the manifest and the field
    return str(path.resolve())


def default_model(task: str) -> str:
    env = environment.read()
    value = env.gender_model if task == "gender" else env.age_model
    return model(value, task, f"${ENV[task]}", None) if value else DEFAULT_MODEL


def default_detector() -> str:
    return environment.read().detector or DEFAULT_DETECTOR
