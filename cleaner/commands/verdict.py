"""``face-clean verdict``: verdicts on the FILEs named, under the folder's locks; and the list of them."""

from __future__ import annotations

from contextlib import nullcontext

from cleaner.commands.verdict_session import open_tools
from cleaner.paths import Layout
from cleaner.pipeline.verdicts.apply import Applied, apply
from cleaner.pipeline.verdicts.targets import Finder
from cleaner.store.db import StateDB
from cleaner.store.verdicts import Verdict


def give(
    layout: Layout, names: list[str], action: str, who: str, dry_run: bool, command: str = ""
) -> list[Applied | str]:
    """Each name's result: what was done (or would be), or why the name names no file of the folder;
    ``command``: the command line, for the list of runs."""
    # a dry run reads only: no lock, no state, no record; a real one reads the log under the lock: nobody
    # moves a file meanwhile
    with nullcontext(None) if dry_run else open_tools(layout, invocation=command) as tools:
        finder = Finder.of(layout)
        found = [finder.find(n) for n in names]
        return [t if isinstance(t, str) else apply(tools, layout, t, action, who) for t in found]


def listing(layout: Layout) -> list[tuple[Verdict, list[str]]]:
    """Every verdict, oldest first, with where the files of its bytes are now."""
    if not layout.state_db.is_file():
        return []
    with StateDB(layout.state_db) as state:
        verdicts = state.all_verdicts()
    finder = Finder.of(layout)
    root = str(layout.root) + "/"
    return [(v, [p.removeprefix(root) for p in finder.everywhere(v.sha256)]) for v in verdicts]
