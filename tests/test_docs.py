"""The README and the documentation site (docs/, mkdocs.yml): what they show still works.

Every rules, config and manifest example is read by face-clean's own parsers; every ``face-clean``
command line in them names existing commands and options; the reference generated from the code
(docs/hooks/reference.py) names every command, option and rules field, and the exit-code page every
code a ``--help`` lists; the site builds with ``mkdocs build --strict``; the README stays short,
with the install command and CI's test command at its top.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import click
import pytest
import yaml

from cleaner.analysis import manifest
from cleaner.rules import loading
from cleaner.settings import config_files

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.md"


def _hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_reference_hook", DOCS / "hooks" / "reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


reference = _hooks()


@dataclass(frozen=True)
class Block:
    where: str  # file:line
    info: str  # the fence's info string: 'yaml title="rules.yaml"'
    text: str


def pages() -> dict[str, str]:
    """README.md, every Markdown file under docs/, and the generated pages, by name."""
    found = {"README.md": README.read_text(encoding="utf-8")}
    found.update({str(p.relative_to(ROOT)): p.read_text(encoding="utf-8") for p in sorted(DOCS.rglob("*.md"))})
    found.update({f"docs/{path} (generated)": make() for path, make in reference.PAGES.items()})
    return found


def blocks(name: str, text: str) -> list[Block]:
    """The fenced code blocks of a Markdown text."""
    out: list[Block] = []
    info: str | None = None
    start, body = 0, list[str]()
    for number, line in enumerate(text.splitlines(), 1):
        fence = re.match(r"^\s*```(.*)$", line)
        if info is None and fence:
            info, start, body = fence.group(1).strip(), number, []
        elif info is not None and fence and not fence.group(1).strip():
            out.append(Block(f"{name}:{start}", info, "\n".join(body)))
            info = None
        elif info is not None:
            body.append(line)
    return out


ALL_BLOCKS = [b for name, text in pages().items() for b in blocks(name, text)]
YAML_BLOCKS = [b for b in ALL_BLOCKS if b.info.split(" ")[0] == "yaml"]


def _title(block: Block) -> str:
    match = re.search(r'title="([^"]+)"', block.info)
    return match.group(1) if match else ""


def check_yaml(block: Block, tmp: Path) -> None:
    """Read one YAML example with the parser of what its title says it is."""
    data = yaml.safe_load(block.text)
    title = _title(block)
    if title == "rules.yaml":
        loading.parse(data, block.where)
    elif title == "config.yaml":
        config_files.parse(data, tmp / "config.yaml")
    elif title == "manifest.yaml":
        manifest.parse(data, tmp / "manifest.yaml")
    elif title == "docker-compose.yml":
        assert isinstance(data, dict) and "services" in data, block.where
    else:
        pytest.fail(
            f'{block.where}: a YAML example says what it is: title="rules.yaml", "config.yaml", "manifest.yaml"'
        )


@pytest.mark.parametrize("block", YAML_BLOCKS, ids=[b.where for b in YAML_BLOCKS])
def test_every_yaml_example_reads_with_face_cleans_own_parser(block: Block, tmp_path: Path) -> None:
    check_yaml(block, tmp_path)


def test_the_examples_include_rules_config_and_manifest_blocks() -> None:
    titles = {_title(b) for b in YAML_BLOCKS}
    assert {"rules.yaml", "config.yaml", "manifest.yaml"} <= titles


def test_a_broken_rules_example_fails_the_check(tmp_path: Path) -> None:
    bad = Block(
        "planted.md:1", 'yaml title="rules.yaml"', "rules:\n  - name: x\n    when: {gendr: Man}\n    action: keep"
    )
    with pytest.raises(Exception, match="gendr"):
        check_yaml(bad, tmp_path)
    with pytest.raises(pytest.fail.Exception):
        check_yaml(Block("planted.md:1", "yaml", "a: 1"), tmp_path)


# --- command lines -------------------------------------------------------------------------------

COMMANDS = dict(reference.commands())
SHELL_BREAKS = re.compile(r"\s(?:\||&&|;|#|>|2>&1)\s|\s#$")


def _options(token: str) -> list[str]:
    """The option names a token of a command line or synopsis holds (``[--a/--no-a]`` -> both)."""
    token = token.strip("[]()")
    names = []
    for part in token.split("/") if token.startswith("-") else []:
        name = part.split("=", 1)[0].strip("[]()")
        if re.fullmatch(r"--?[A-Za-z][\w-]*", name):
            names.append(name)
    return names


def command_problems(line: str) -> list[str]:
    """What is wrong with the face-clean command lines in one line of a shell example or a synopsis."""
    problems = []
    for segment in SHELL_BREAKS.split(f" {line} "):
        try:
            tokens = shlex.split(segment)
        except ValueError:
            tokens = segment.split()
        for at, token in enumerate(tokens):
            if token not in ("face-clean", "cleaner") or (token == "cleaner" and tokens[at - 1 : at] != ["-m"]):
                continue
            rest = tokens[at + 1 :]
            if not rest or rest[0] in ("face-clean", ".") or (rest[0].startswith("-") and at > 0):
                continue  # an image or container named face-clean, not the command
            name, used = "face-clean", rest
            while used and isinstance(COMMANDS[name], click.Group) and re.fullmatch(r"[a-z][a-z|-]*", used[0]):
                chosen = used[0].split("|")
                unknown = [c for c in chosen if f"{name} {c}" not in COMMANDS]
                if unknown:
                    problems.append(f"unknown command {name} {unknown[0]!r}")
                    break
                name, used = f"{name} {chosen[0]}", used[1:]
            known = reference.option_names(COMMANDS[name])
            for opt in (o for t in used for o in _options(t)):
                short = re.fullmatch(r"-([A-Za-z])\1*", opt)  # -vv
                if opt not in known and not (short and f"-{short.group(1)}" in known):
                    problems.append(f"{name}: no option {opt}")
    return problems


def command_lines() -> list[tuple[str, str]]:
    """(where, line) of every line of a code block or inline code span that runs face-clean."""
    found = []
    for name, text in pages().items():
        for block in blocks(name, text):
            if block.info.split(" ")[0] in ("yaml", "json", "python"):
                continue
            joined = re.sub(r"\\\n\s*", " ", block.text)
            shell = block.info.split(" ")[0] in ("bash", "sh", "console")
            for line in joined.splitlines():
                if shell or re.match(r"^\s*(\$ )?(face-clean |python3? -m cleaner )", line):
                    found += [(block.where, line)] if "face-clean" in line or "-m cleaner" in line else []
        prose = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
        found += [(name, span) for span in re.findall(r"`([^`\n]*)`", prose) if span.startswith("face-clean ")]
    return found


def test_every_command_line_in_the_docs_uses_existing_commands_and_options() -> None:
    lines = command_lines()
    assert len(lines) > 100, "the README and the site show face-clean command lines"
    problems = [f"{where}: {p}: {line.strip()}" for where, line in lines for p in command_problems(line)]
    assert not problems, "\n".join(problems)


def test_a_wrong_command_or_option_is_caught() -> None:
    assert command_problems("face-clean run ./photos --kep Man") == ["face-clean run: no option --kep"]
    assert command_problems("$ face-clean sweep ./photos") == ["unknown command face-clean 'sweep'"]
    assert command_problems("face-clean verdict keep|reject|forget DIR") == [
        "unknown command face-clean verdict 'forget'"
    ]
    assert command_problems("face-clean watch DIR [--polling] [--recursive/--no-recursive] -vv") == []
    assert command_problems("docker exec --user 1026:100 face-clean face-clean report /photos --bogus") == [
        "face-clean report: no option --bogus"
    ]


# --- the generated reference ---------------------------------------------------------------------


def test_the_command_reference_names_every_command_and_option() -> None:
    page = reference.commands_page()
    for name, command in COMMANDS.items():
        assert re.search(rf"^#+ {re.escape(name)}$", page, re.MULTILINE), f"no section for {name}"
        for opt in reference.option_names(command, hidden=False) - {"-h", "--help"}:
            assert f"`{opt}`" in page, f"{name} {opt} missing from the command reference"


def test_the_rules_reference_names_every_rules_field() -> None:
    page = reference.rules_page()
    top, rule, when = reference.rules_fields()
    assert {"min_face_size", "rules", "exclude"} <= top and "action" in rule and "gender" in when
    rows: dict[str, list[str]] = {}
    for line in page.splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if cells and re.fullmatch(r"`\w+`", cells[0]):
            rows.setdefault(cells[0].strip("`"), []).append(cells[-1])
    for key in top | rule | when:
        assert all(rows.get(key, [""])), f"rules field {key} has no entry with a description"


def test_every_exit_code_of_a_help_has_an_entry_in_the_exit_codes_page() -> None:
    page = (DOCS / "reference" / "exit-codes.md").read_text(encoding="utf-8")
    documented = {int(c) for c in re.findall(r"^\| (\d+) \|", page, re.MULTILINE)}
    codes = reference.help_exit_codes()
    assert {0, 1, 2, 5} <= set(codes)
    missing = {code: names for code, names in codes.items() if code not in documented}
    assert not missing, f"exit codes listed by --help without a row in docs/reference/exit-codes.md: {missing}"


# --- the site and the README ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    mkdocs = shutil.which("mkdocs", path=str(Path(sys.executable).parent)) or shutil.which("mkdocs")
    assert mkdocs, "mkdocs is installed with the test extra"
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [mkdocs, "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**__import__("os").environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def test_the_site_builds_strict_with_the_generated_reference(site: Path) -> None:
    commands = (site / "reference" / "commands" / "index.html").read_text(encoding="utf-8")
    assert "face-clean restore" in commands and "--cluster-timeout" in commands
    exits = (site / "reference" / "exit-codes" / "index.html").read_text(encoding="utf-8")
    assert "Which command ends with which code" in exits and "face-clean verdict keep" in exits
    assert "min_gender_confidence" in (site / "reference" / "rules" / "index.html").read_text(encoding="utf-8")
    security = (site / "safety" / "security" / "index.html").read_text(encoding="utf-8")
    assert "threat model" in security, "SECURITY.md itself, not its stand-in"
    html = [p.read_text(encoding="utf-8") for p in site.rglob("*.html")]
    assert not [h for h in html if "fonts.googleapis" in h or "fonts.gstatic" in h], "the site fetches no fonts"
    for page in ("nas/docker", "nas/synology", "nas/truenas", "nas/unraid", "ml/python-api", "development"):
        assert (site / page / "index.html").is_file(), page


def ci_test_line() -> str:
    (line,) = [x for x in (ROOT / ".ci" / "run").read_text().splitlines() if "pip install -e" in x]
    return line


def test_the_readme_is_short_and_starts_with_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 200
    first, second = [b.text for b in blocks("README.md", text)[:2]]
    assert first.startswith("python3 -m venv .venv && . .venv/bin/activate && pip install . && face-clean run ")
    assert second == ci_test_line(), "the README's test command is CI's, verbatim"
    assert "mkdocs build --strict" in second


def test_the_readme_links_to_files_that_exist() -> None:
    text = README.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#\s]+)", text) + re.findall(r'<img src="([^"]+)"', text)
    local = [t for t in targets if not re.match(r"[a-z]+://", t)]
    assert "docs/images/review-phone.png" in local and "docs/ml/accuracy.md" in local
    missing = [t for t in local if not (ROOT / t).exists()]
    assert not missing, missing
