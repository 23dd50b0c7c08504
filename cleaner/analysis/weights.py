"""Which model weight files a configuration needs, whether they are present, and fetching them.

File names and download addresses come from deepface's own modules, and downloads go through
deepface's own download code, so face-clean never disagrees with deepface about a file.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import types
from dataclasses import dataclass
from pathlib import Path

from cleaner.errors import MissingWeights

_COMPRESSED = ("zip", "bz2")
ATTRIBUTE_MODELS = {"gender": "Gender", "age": "Age"}


@dataclass(frozen=True)
class WeightFile:
    model: str  # deepface's model name: Gender, Age, yunet, ...
    file_name: str
    urls: tuple[str, ...]
    compress: str | None = None

    @property
    def target(self) -> Path:
        """Where DeepFace keeps (and downloads) it."""
        return weights_dir() / self.file_name

    @property
    def path(self) -> Path:
        """Where it is: the weights folder, else a copy face-clean ships (cleaner.analysis.builtin_models)."""
        return locate(self.file_name) or self.target

    @property
    def present(self) -> bool:
        return locate(self.file_name) is not None

    @property
    def bundled(self) -> bool:
        return not self.target.is_file() and self.present


def deepface_home() -> Path:
    return Path(os.environ.get("DEEPFACE_HOME") or Path.home())


def weights_dir() -> Path:
    return deepface_home() / ".deepface" / "weights"


def locate(file_name: str) -> Path | None:
    """Where a DeepFace weight file is: its weights folder first, else a file face-clean ships."""
    from cleaner.analysis.builtin_models import FOR_DEEPFACE

    path = weights_dir() / file_name
    if path.is_file():
        return path
    bundled = FOR_DEEPFACE.get(file_name)
    return bundled.path if bundled is not None and bundled.path.is_file() else None


class _LoadedOnFirstUse(types.ModuleType):
    """Stands in for a module until one of its attributes is used.  (importlib's LazyLoader does
    not help here: a second ``import`` statement of a lazy module already loads it.)"""

    def __getattr__(self, attr: str) -> object:
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), attr)


def defer_download_imports() -> None:
    """deepface's weight_utils imports gdown and requests (1.2 s here) only to download; a run
    that downloads nothing should not pay for them."""
    for name in ("gdown", "requests"):
        if name not in sys.modules and importlib.util.find_spec(name) is not None:
            sys.modules[name] = _LoadedOnFirstUse(name)


def files_for(task: str, model_name: str) -> list[WeightFile]:
    """Mirror deepface's download_all_models_in_one_shot naming for one model."""
    defer_download_imports()
    from deepface.commons import backend_utils, weight_utils
    from deepface.modules import modeling

    found: list[WeightFile] = []
    for src_task, src_model, attributes in weight_utils.WEIGHT_SOURCES:
        if (src_task, src_model) != (task, model_name):
            continue
        module = importlib.import_module(modeling.get_model_class(task=task, model_name=model_name).__module__)
        override = weight_utils.WEIGHT_FILE_NAMES.get((task, model_name), {}).get(backend_utils.get_backend_engine())
        for attribute in attributes:
            url = getattr(module, attribute)
            urls = (url,) if isinstance(url, str) else tuple(url)
            name, compress = override or urls[0].split("/")[-1], None
            for ext in _COMPRESSED:
                if not override and name.endswith(f".{ext}"):
                    name, compress = name[: -len(ext) - 1], ext
            found.append(WeightFile(model_name, name, urls, compress))
    return found


def missing_message(files: list[WeightFile]) -> str:
    home = os.environ.get("DEEPFACE_HOME")
    where = f"DEEPFACE_HOME={home}" if home else f"DEEPFACE_HOME is not set, so your home folder {Path.home()}"
    lines = ["Model weights are missing:"]
    lines += [f"  {f.model}: {f.target}" for f in files]
    lines += [
        f"deepface (and so face-clean) looks for weights in $DEEPFACE_HOME/.deepface/weights ({where}).",
        "Fetch them with `face-clean models fetch` where the internet is reachable, or download",
    ]
    lines += [f"  {f.urls[0]}" for f in files]
    lines += [f"into {weights_dir()}/ (keep the file names)."]
    return "\n".join(lines)


def ensure_present(files: list[WeightFile]) -> None:
    absent = [f for f in files if not f.present]
    if absent:
        raise MissingWeights(missing_message(absent))
