"""The documentation's generated pages, made from the code at build time (an MkDocs hook).

- ``reference/commands.md``: every command, argument and option, from the click definitions of
  ``face-clean`` (cleaner.cli.main), with each command's examples and exit codes from its --help;
- ``reference/rules.md``: every field of a rules file, from the field sets the rules reader accepts
  (cleaner.rules), with the documented default and its comment from the default rules;
- ``safety/security.md``: SECURITY.md at the top of the repository, as it is.

Each replaces a short file of the same name in docs/ that stands in for it where the Markdown is
read as it is (GitHub), so that links to it work there too.

So a new command, option or rules field appears in the site without anyone writing it there, and
one that has no description stops the build. tests/test_docs.py imports this module to check the
pages name everything.
"""

from __future__ import annotations

import html
import inspect
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

ROOT = Path(__file__).resolve().parents[2]
GENERATED = ("reference/commands.md", "reference/rules.md", "safety/security.md")

# The fields of a rule and of its `when`: what each means (the default rules' comments describe the
# top-level fields). A field the reader accepts without a line here stops the build.
RULE_FIELDS = {
    "name": "unique; written to the audit log (`rule`)",
    "when": "the conditions, which must all hold (none: the rule matches every photo)",
    "action": "`keep`, `quarantine` or `review`",
    "reason": "for quarantine and review: the subfolder the photo goes to (default: the rule's name)",
    "multi_face": "this rule's policy for several faces: `any`, `all`, `largest` or `majority`",
    "min_gender_confidence": "this rule's threshold: below it a face's gender is uncertain",
    "uncertain": "this rule's `{action, reason}` when its answer depends on an uncertain face",
}
WHEN_FIELDS = {
    "faces": "number of faces (after ignoring small or doubtful ones); `faces: 0` means no face",
    "gender": "`Man` or `Woman`, at at least the rule's `min_gender_confidence`",
    "gender_confidence": "probability of the face's dominant gender, 0..1",
    "face_size": "shorter side of the face box, in pixels",
    "detector_confidence": "the detector's confidence, 0..1",
    "age": "apparent age in years (runs the age model: `age_model`)",
    "unreadable": "`true`: the file could not be read as an image (only alone)",
}
# Top-level fields the default rules give no comment of their own to.
TOP_FIELDS = {
    "version": "the rules format: 1",
    "gender_model": "`builtin` (default, comes with face-clean) | `deepface` (VGG-Face: `face-clean models fetch`) "
    "| `path/to/manifest.yaml`: your own ONNX classifier ([Your own model](../ml/models.md))",
    "no_face": "what `--keep` does with photos without a face: `quarantine` (default) or `keep`",
    "rules": "the rules, tried in order; the first that matches decides",
    "uncertain": "what happens when a rule cannot tell because a gender is uncertain: `{action, reason}`",
    "default": "when no rule matches: `{action, reason}`",
}


def cell(text: str) -> str:
    """Text for a Markdown table cell: HTML escaped, pipes and line ends out of the way."""
    return html.escape(" ".join(text.split()), quote=False).replace("|", "\\|")


def commands(group: click.Group | None = None, prefix: str = "face-clean") -> Iterator[tuple[str, click.Command]]:
    """Every command below ``face-clean``, depth first, as (its full name, the command)."""
    if group is None:
        from cleaner.cli import main

        yield prefix, main
        group = main
    ctx = click.Context(group, info_name=prefix)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is None or command.hidden:
            continue
        yield f"{prefix} {name}", command
        if isinstance(command, click.Group):
            yield from commands(command, f"{prefix} {name}")


def option_names(command: click.Command, hidden: bool = True) -> set[str]:
    """Every spelling of every option of a command (``--keep``, ``-v``, ``--no-recursive`` ...);
    ``hidden=False``: only those its --help shows."""
    names = {"--help", "-h"}
    for param in command.params:
        if isinstance(param, click.Option) and (hidden or not param.hidden):
            names.update(param.opts, param.secondary_opts)
    return names


def _kind(param: click.Option) -> str:
    if param.is_flag and not param.secondary_opts:
        return "flag"
    if isinstance(param.type, click.Choice):
        return " \\| ".join(f"`{c}`" for c in param.type.choices)
    return param.type.name.upper() if param.type.name else ""


def _default(param: click.Option) -> str:
    value = param.default
    if (
        param.show_default is False
        or value is None
        or value is False
        or value == ()
        or type(value).__name__ == "Sentinel"
    ):
        return ""
    if callable(value):
        return ""
    return f"`{value}`"


def command_section(name: str, command: click.Command) -> list[str]:
    ctx = click.Context(command, info_name=name)
    pieces = command.collect_usage_pieces(ctx)
    level = "#" * min(name.count(" ") + 1, 4)
    lines = [f"#{level} {name}", "", "```text", f"{name} {' '.join(pieces)}".rstrip(), "```", ""]
    if command.help:
        lines += [html.escape(inspect.cleandoc(command.help).replace("\b\n", ""), quote=False), ""]
    arguments = [p for p in command.params if isinstance(p, click.Argument)]
    options = [p for p in command.params if isinstance(p, click.Option) and not p.hidden]
    if arguments:
        lines += ["Arguments: " + ", ".join(f"`{p.human_readable_name}`" for p in arguments), ""]
    if options:
        lines += ["| option | value | default | what it does |", "| --- | --- | --- | --- |"]
        for p in options:
            spelled = ", ".join(f"`{o}`" for o in (*p.opts, *p.secondary_opts))
            lines.append(f"| {spelled} | {_kind(p)} | {_default(p)} | {cell(p.help or '')} |")
        lines.append("")
    if command.epilog:
        lines += ["```text", command.epilog.replace("\b\n", "").strip("\n"), "```", ""]
    return lines


def commands_page() -> str:
    lines = [
        "# Commands and options",
        "",
        "Generated from face-clean's own command definitions when the site is built: every command,",
        "argument and option, with the examples and exit codes each command's `--help` ends with.",
        "The exit codes are explained in [Exit codes](exit-codes.md).",
        "",
    ]
    for name, command in commands():
        lines += command_section(name, command)
    return "\n".join(lines)


def _default_comments() -> dict[str, str]:
    """The comment beside each top-level field of the default rules (commented-out fields too)."""
    from cleaner.rules.loading import default_text

    comments: dict[str, str] = {}
    for line in default_text().splitlines():
        match = re.match(r"^#?\s?([a-z_]+):(.*)$", line)
        if match is None or match.group(1) in comments:
            continue
        # the comment starts at the first '#' outside a quoted string ("#recycle" is a value)
        masked = re.sub(r'"[^"]*"', lambda m: "x" * len(m.group(0)), match.group(2))
        if "#" in masked:
            comments[match.group(1)] = match.group(2)[masked.index("#") + 1 :].strip()
    return comments


def rules_fields() -> tuple[set[str], set[str], set[str]]:
    """The fields a rules file may have: at its top, in a rule, in a rule's ``when``."""
    from cleaner.rules.loading import TOP_KEYS
    from cleaner.rules.parsing import RULE_KEYS, WHEN_KEYS

    return set(TOP_KEYS), set(RULE_KEYS), set(WHEN_KEYS)


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return "`" + cell(re.sub(r"'", "", str(value))) + "`"
    return f"`{value}`"


def rules_page() -> str:
    from cleaner.rules.loading import documented_defaults

    top, rule, when = rules_fields()
    comments, defaults = _default_comments(), documented_defaults()
    lines = [
        "# Rules fields",
        "",
        "Generated from the fields face-clean's rules reader accepts when the site is built. A field a",
        "rules file leaves out takes the default shown (the documented default rules, `rules.yaml`);",
        "[Rules](../guide/rules.md) explains how rules are tried and what they decide.",
        "",
        "## Top-level fields",
        "",
        "| field | default | what it is |",
        "| --- | --- | --- |",
    ]
    missing = []
    for key in sorted(top):
        text = TOP_FIELDS.get(key) or comments.get(key)
        missing += [key] if text is None else []
        lines.append(f"| `{key}` | {_shown(defaults.get(key))} | {cell(text or '')} |")
    for title, fields, texts in (("A rule's fields", rule, RULE_FIELDS), ("A rule's `when`", when, WHEN_FIELDS)):
        lines += ["", f"## {title}", "", "| field | what it is |", "| --- | --- |"]
        for key in sorted(fields):
            missing += [key] if key not in texts else []
            lines.append(f"| `{key}` | {cell(texts.get(key, ''))} |")
    lines += ["", "## The default rules", "", '```yaml title="rules.yaml"', _default_text().rstrip(), "```", ""]
    if missing:
        raise ValueError(f"rules fields without a description in docs/hooks/reference.py: {', '.join(missing)}")
    return "\n".join(lines)


def _default_text() -> str:
    from cleaner.rules.loading import default_text

    return default_text()


def help_exit_codes() -> dict[int, list[str]]:
    """Every exit code a command's --help lists, with the commands that list it."""
    codes: dict[int, list[str]] = {}
    for name, command in commands():
        epilog = (command.epilog or "").split("Exit codes:", 1)
        for code in re.findall(r"^\s+(\d+)\s", epilog[1] if len(epilog) == 2 else "", re.MULTILINE):
            codes.setdefault(int(code), []).append(name)
    return codes


def exit_codes_by_command() -> str:
    """The end of the exit-codes page: which commands can end with each code (from their --help)."""
    lines = ["", "## Which command ends with which code", "", "Generated from each command's `--help`.", ""]
    lines += ["| code | commands |", "| --- | --- |"]
    for code, names in sorted(help_exit_codes().items()):
        lines.append(f"| {code} | {', '.join(f'`{n}`' for n in names if n != 'face-clean')} |")
    return "\n".join(lines) + "\n"


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """MkDocs: the exit-codes page ends with the codes of each command, from their --help."""
    if page.file.src_uri == "reference/exit-codes.md":
        return markdown.rstrip("\n") + "\n" + exit_codes_by_command()
    return markdown


def security_page() -> str:
    """SECURITY.md as it is, its links into docs/ made relative to safety/, where the page lands."""
    return (ROOT / "SECURITY.md").read_text(encoding="utf-8").replace("](docs/", "](../")


PAGES = {
    "reference/commands.md": commands_page,
    "reference/rules.md": rules_page,
    "safety/security.md": security_page,
}


def on_files(files: Any, config: Any) -> Any:
    """MkDocs: the generated pages replace the files standing in for them in docs/."""
    from mkdocs.structure.files import File

    for path, make in PAGES.items():
        stand_in = files.get_file_from_path(path)
        if stand_in is not None:
            files.remove(stand_in)
        files.append(File.generated(config, path, content=make()))
    return files
