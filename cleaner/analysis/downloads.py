"""No download during a run, and the one way to download: ``face-clean models fetch``.

DeepFace builds a detector or model on first use and downloads whatever weight file is missing.
During a run its download function (and retina-face's) is replaced by one that only *finds*
files: in the weights folder, or among the files face-clean ships (cleaner.analysis.builtin_models);
a missing one is MissingWeights, naming the file. ``fetch`` downloads through DeepFace's own code.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cleaner.analysis.weights import WeightFile, defer_download_imports, locate, missing_message
from cleaner.errors import MissingWeights


def _finder(file_name: str, source_url: Any = (), compress_type: Any = None, **_: Any) -> str:
    """Stands in for DeepFace's and retina-face's download functions during a run."""
    path = locate(file_name)
    if path is None:
        urls = (source_url,) if isinstance(source_url, str) else tuple(source_url or ())
        raise MissingWeights(missing_message([WeightFile("model", file_name, urls or ("(unknown)",))]))
    return str(path)


def _finder_retinaface(file_name: str, source_urls: Any = ()) -> str:
    return _finder(file_name, source_urls)


_GUARDED = (
    ("deepface.commons.weight_utils", _finder),
    ("retinaface.commons.weight_utils", _finder_retinaface),
)
_ORIGINALS: dict[str, Callable[..., str]] = {}
DOWNLOAD = "download_weights_if_necessary"  # the function DeepFace and retina-face download with


def forbid_downloads() -> None:
    """From now on in this process, DeepFace and retina-face find weight files, never download them."""
    for module_name, finder in _GUARDED:
        if module_name.startswith("retinaface") and importlib.util.find_spec("retinaface") is None:
            continue
        defer_download_imports()
        module = importlib.import_module(module_name)
        current = getattr(module, DOWNLOAD)
        if current is not finder:
            _ORIGINALS.setdefault(module_name, current)
            setattr(module, DOWNLOAD, finder)


@contextmanager
def downloads_allowed() -> Iterator[None]:
    """``models fetch``: DeepFace's own download code, whatever a run in this process did."""
    saved = {}
    for module_name, original in _ORIGINALS.items():
        module = sys.modules[module_name]
        saved[module_name] = getattr(module, DOWNLOAD)
        setattr(module, DOWNLOAD, original)
    try:
        yield
    finally:
        for module_name, current in saved.items():
            setattr(sys.modules[module_name], DOWNLOAD, current)


def fetch(files: list[WeightFile]) -> list[Path]:
    """Download what is absent through deepface's own download code."""
    from deepface.commons import folder_utils, weight_utils

    folder_utils.initialize_folder()
    done = []
    with downloads_allowed():
        for f in files:
            path = weight_utils.download_weights_if_necessary(
                file_name=f.file_name, source_url=list(f.urls), compress_type=f.compress
            )
            done.append(Path(path))
    return done
