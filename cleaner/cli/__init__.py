"""The ``face-clean`` command line: parse options, turn every expected failure into a message
and an exit code, and hand the work to the job."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import click

from cleaner import __version__
from cleaner.cli.cluster_options import ClusterArgs, cluster_options
from cleaner.cli.options import folder_options
from cleaner.rules import loading as rules
from cleaner.rules.describing import describe

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, EXIT_MODELS, EXIT_CLUSTER, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130
log = logging.getLogger("face-clean")


def fail(message: str, code: int) -> NoReturn:
    click.echo(f"face-clean: {message}", err=True)
    sys.exit(code)


def _setup_logging(verbose: int, quiet: bool) -> None:
    level = (
        logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)
    )
    logging.basicConfig(level=level, format="%(message)s", stream=sys.stderr, force=True)


def load_rules(
    rules_file: Path | None,
    keep: str | None,
    engine: str | None = None,
    detector: str | None = None,
    min_confidence: float | None = None,
    gender_model: str | None = None,
    age_model: str | None = None,
) -> rules.RuleSet:
    try:
        rs = rules.load(rules_file, keep)
        return rules.with_overrides(rs, engine, detector, min_confidence, gender_model, age_model)
    except rules.RulesError as err:
        fail(str(err), EXIT_USAGE)


def model_errors(f: Callable[..., Any]) -> Callable[..., Any]:
    """Missing weights and unloadable models end with one clear message, never a traceback."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from cleaner.errors import EngineError, ManifestError, MissingWeights, ModelError, UnknownDetector

        try:
            return f(*args, **kwargs)
        except (UnknownDetector, ManifestError) as err:
            fail(str(err), EXIT_USAGE)
        except (MissingWeights, ModelError, EngineError) as err:
            fail(str(err), EXIT_MODELS)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="face-clean")
def main() -> None:
    """Sweep a folder of photos: detect faces, decide by rules, quarantine (never delete) rejects.

    \b
    Exit codes: 0 done; 1 done, but some files could not be processed (unreadable, failed
    to move); 2 bad usage or bad rules; 3 model weights missing or unloadable; 4 the Ray
    cluster could not be used or stopped answering (run --cluster); 130 interrupted.
    """


def open_layout(directory: Path, quarantine: Path | None, review_dir: Path | None, audit_log: Path | None) -> Any:
    from cleaner.paths import Layout

    layout = Layout.for_root(directory, quarantine, review_dir, audit_log)
    for name, folder in (("--quarantine", layout.quarantine), ("--review-dir", layout.review)):
        if folder == layout.root or folder in layout.root.parents:
            fail(f"{name} {folder} would contain the folder being cleaned; choose another folder", EXIT_USAGE)
    return layout


def build_analyzer(rs: rules.RuleSet, state: Any, verbose: int, root: Path | None = None) -> Any:
    """The fast analyzer, with the state database's content lookup for renamed and copied photos;
    files are read without following a link below ``root``, within the rules' memory budget."""
    from cleaner.analysis.batch import BatchAnalyzer
    from cleaner.analysis.face_analyzer import FaceAnalyzer
    from cleaner.analysis.reading import read_file
    from cleaner.fs.hashing import sha256_file

    hash_model = functools.partial(state.model_sha256, compute=sha256_file)
    analyzer = FaceAnalyzer(
        rs.engine,
        rs.detector,
        rs.attributes,
        rs.max_pixels,
        verbose > 1,
        hash_model,
        rs.detect_size,
        rs.gender_model,
        rs.age_model,
    )
    analyzer.load()  # every model loaded and run once before the first photo is touched
    key = analyzer.identity.key
    read = functools.partial(read_file, root=root, budget=rs.memory_budget << 20)
    return BatchAnalyzer(
        analyzer, lookup=lambda f: state.lookup(f.path, len(f.data), f.st.st_mtime_ns, f.sha256, key), read=read
    )


def cluster_errors(f: Callable[..., Any]) -> Callable[..., Any]:
    """Ray missing, unreachable or stalled (run --cluster): a message, not a traceback."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return f(*args, **kwargs)
        except Exception as err:
            cluster = sys.modules.get("cleaner.cluster.results")  # imported only with --cluster
            if cluster is None or not isinstance(err, cluster.ClusterError):
                raise
            fail(str(err), EXIT_CLUSTER)

    return wrapper


def state_errors(f: Callable[..., Any]) -> Callable[..., Any]:
    """A folder in use by another face-clean, an unwritable or untrustworthy audit log, state database or
    state folder, a full disk: a message, not a traceback. Mid-run (``at_start`` False) it is exit code 1."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from cleaner.errors import AuditLogError, LockError, StateError, UnsafePath

        try:
            return f(*args, **kwargs)
        except LockError as err:
            fail(str(err), EXIT_USAGE)
        except AuditLogError as err:
            fail(f"{err}; choose another place with --audit-log", EXIT_USAGE if err.at_start else EXIT_PARTIAL)
        except StateError as err:
            where = " (it is kept beside the audit log); choose another place with --audit-log" if err.at_start else ""
            fail(f"{err}{where}", EXIT_USAGE if err.at_start else EXIT_PARTIAL)
        except UnsafePath as err:
            fail(f"cannot use face-clean's state: {err}", EXIT_USAGE)

    return wrapper


def print_record(record: Any) -> None:
    from cleaner.fs.names import shown

    log.info(shown(f"{record.path}: {record.action}" + (f" ({record.reason})" if record.reason else "")))


@dataclass(frozen=True)
class FolderArgs:
    """The options ``folder_options`` adds, as one value (``run`` and ``watch`` share them)."""

    directory: Path
    keep: str | None
    rules_file: Path | None
    engine: str | None
    detector: str | None
    gender_model: str | None
    age_model: str | None
    min_confidence: float | None
    quarantine: Path | None
    review_dir: Path | None
    audit_log: Path | None
    dry_run: bool
    recursive: bool
    verbose: int
    quiet: bool

    def rules(self) -> rules.RuleSet:
        return load_rules(
            self.rules_file,
            self.keep,
            self.engine,
            self.detector,
            self.min_confidence,
            self.gender_model,
            self.age_model,
        )

    def layout(self) -> Any:
        return open_layout(self.directory, self.quarantine, self.review_dir, self.audit_log)


@main.command()
@folder_options
@cluster_options
@model_errors
@state_errors
@cluster_errors
def run(**options: Any) -> None:
    """Analyse every image in DIRECTORY once and apply the rules."""
    cluster = ClusterArgs.pop_from(options)
    args = FolderArgs(**options)
    _setup_logging(args.verbose, args.quiet)
    problem = cluster.problem()
    if problem:
        fail(problem, EXIT_USAGE)
    rs = args.rules()
    from cleaner.pipeline.job import run as run_job
    from cleaner.pipeline.lock import lock_layout
    from cleaner.pipeline.state.db import StateDB
    from cleaner.pipeline.state.folders import prepare

    layout = args.layout()
    log.debug(describe(rs))
    prepare(layout)  # checked before anything is written there (cleaner.pipeline.state.folders)
    with (
        lock_layout(layout, "run", args.dry_run),
        StateDB(layout.state_db) as state,
        cluster.analyzer(build_analyzer(rs, state, args.verbose, layout.root), args.verbose > 0, state) as analyzer,
    ):
        summary = run_job(
            rs,
            layout,
            analyzer,
            state,
            dry_run=args.dry_run,
            recursive=args.recursive,
            progress=False if args.quiet else None,
            on_record=print_record if args.verbose else None,
        )
    if not args.quiet:
        click.echo(summary.render(args.dry_run))
        click.echo(f"  audit log: {layout.audit_log}")
    if summary.interrupted:
        sys.exit(EXIT_INTERRUPTED)
    sys.exit(EXIT_PARTIAL if summary.failed else EXIT_OK)


@main.command()
@click.argument("rules_path", metavar="[RULES]", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--keep", type=click.Choice(rules.KEEP_CHOICES), help="Show the rules --keep would use.")
def check(rules_path: Path | None, keep: str | None) -> None:
    """Validate a rules file and print the rules as the engine understands them."""
    click.echo(describe(load_rules(rules_path, keep)))


from cleaner.cli import eval, models, report, restore, watch  # noqa: E402,F401  (they add their commands)
