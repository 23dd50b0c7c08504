"""The --json events have a schema: every line a command prints is one of its typed events
(cleaner.cli.events), with exactly that event's fields in that order, and docs/reference/json-events.md
shows an example of every event, checked the same way."""

from __future__ import annotations

import json
import re
from dataclasses import fields
from pathlib import Path
from typing import Any

import photos

from cleaner.cli.events import BY_COMMAND, Event

PAGE = Path(__file__).parents[2] / "docs" / "reference" / "json-events.md"
R = Path(".face-clean/review")


def _kind(line: dict[str, Any], command: str) -> type[Event]:
    """The one event of ``command`` this line is: its name and its keys, in order."""
    keys = list(line)
    found = [e for e in BY_COMMAND[command] if keys == ["event", *(f.name for f in fields(e))]]
    found = [e for e in found if e.EVENT == line["event"]]
    assert len(found) == 1, f"{command}: {keys} is no event of {[e.__name__ for e in BY_COMMAND[command]]}"
    return found[0]


def _lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def test_the_page_shows_every_event_with_its_fields():
    page = PAGE.read_text(encoding="utf-8")
    shown: set[type[Event]] = set()
    for command, block in re.findall(r"^## `(.+?) --json`\n.*?```json\n(.*?)```", page, re.S | re.M):
        shown |= {_kind(line, command) for line in _lines(block)}
    assert shown == {e for events in BY_COMMAND.values() for e in events}


def test_what_the_commands_print_is_their_events(cli, tmp_path: Path):
    root = tmp_path / "photos"
    photos.make_folder(root)
    printed: dict[str, list[dict[str, Any]]] = {}
    printed["run"] = _lines(cli("run", root, "--keep", "Man", "--json", "-v").stdout)
    given = cli("verdict", "keep", root, root / R / "uncertain/grey.jpg", root / "nothing.jpg", "--json")
    printed["verdict keep|reject|withdraw"] = _lines(given.stdout)
    printed["verdict list"] = _lines(cli("verdict", "list", root, "--json").stdout)
    printed["restore"] = _lines(cli("restore", root, "--all", "--json").stdout)
    printed["runs"] = _lines(cli("runs", root, "--json").stdout)

    kinds = {command: [_kind(line, command).__name__ for line in lines] for command, lines in printed.items()}
    assert kinds["run"][0] == "Planned" and kinds["run"][-1] == "RunSummary"
    assert set(kinds["run"][1:-1]) == {"Decided"} and len(kinds["run"]) == 2 + 11
    assert sorted(kinds["verdict keep|reject|withdraw"]) == ["VerdictGiven", "VerdictUnknown"]
    assert kinds["verdict list"] == ["VerdictListed"]
    assert kinds["restore"][-1] == "RestoreSummary" and set(kinds["restore"][:-1]) == {"Restored"}
    assert set(kinds["runs"]) == {"RunListed"} and len(kinds["runs"]) == 3  # run, verdict, restore
