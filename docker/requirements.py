"""Print what the image's first build stage installs, one requirement a line: the pinned
install_requires of setup.cfg, the extras named, and the build requirements of pyproject.toml
(so that the package itself then builds offline).

    python docker/requirements.py SRC [EXTRA,EXTRA...]

Read from these two files alone, so that a change to the source reuses the (large) dependency
layer; setuptools reads setup.cfg with configparser too.
"""

from __future__ import annotations

import configparser
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pip's own copy of the same parser
    from pip._vendor import tomli as tomllib  # type: ignore[no-redef]


def requirements(src: Path, extras: list[str]) -> list[str]:
    cfg = configparser.ConfigParser()
    if not cfg.read(src / "setup.cfg", encoding="utf-8"):
        raise SystemExit(f"requirements.py: cannot read {src / 'setup.cfg'}")
    found = cfg["options"]["install_requires"].split("\n")
    known = cfg["options.extras_require"] if cfg.has_section("options.extras_require") else {}
    for extra in extras:
        if extra not in known:
            raise SystemExit(f"requirements.py: setup.cfg has no extra {extra!r} (it has: {', '.join(known)})")
        found += known[extra].split("\n")
    found += tomllib.loads((src / "pyproject.toml").read_text(encoding="utf-8"))["build-system"]["requires"]
    return [line.strip() for line in found if line.strip()]


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        raise SystemExit(__doc__)
    wanted = [e.strip() for e in (sys.argv[2] if len(sys.argv) == 3 else "").split(",") if e.strip()]
    print("\n".join(requirements(Path(sys.argv[1]), wanted)))
