"""What ``run``, ``watch`` and ``restore`` print: the output objects the pipeline is handed
(cleaner.pipeline.output). Text on a terminal, one JSON object a line with ``--json``, log lines for
the watch daemon. Names are anyone's: every name is printed with its control characters escaped
(text) or as JSON with ASCII escapes, so no escape sequence reaches a terminal raw.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from cleaner.cli import events
from cleaner.cli.events import Decided
from cleaner.fs.names import shown
from cleaner.paths import Layout
from cleaner.pipeline.handled import Done
from cleaner.pipeline.restore.restorer import Kind, RestoreSummary, Result
from cleaner.pipeline.summary import Summary
from cleaner.records import AuditAction, AuditRecord

KEEP, QUARANTINE, REVIEW = AuditAction.KEEP.value, AuditAction.QUARANTINE.value, AuditAction.REVIEW.value

log = logging.getLogger("face-clean")


def decision_line(r: AuditRecord) -> str:
    """``holiday/coffee.jpg: quarantine (no-face)``, and why a move failed."""
    text = f"{r.path}: {r.action}" + (f" ({r.reason})" if r.reason else "")
    return shown(text + (f" - {r.error}" if r.error else ""))


def decision_fields(r: AuditRecord) -> dict[str, Any]:
    """A decision's fields for JSON lines (``run --json -v``, ``watch --log-format json``)."""
    return Decided(r.path, r.action, r.reason, r.moved, r.destination, r.status, r.error).fields()


def file_line(r: AuditRecord, dry_run: bool) -> str:
    """``run -v``'s line for one file: what became of it, and why (the reason an unreadable file has)."""
    if r.status in ("unreadable", "skipped", "error") and r.action == AuditAction.KEEP:
        return shown(f"{r.status} {r.path}: {r.error or r.rule}")
    verb = {KEEP: "keep", QUARANTINE: "quarantine", REVIEW: "send to review"}.get(r.action, r.action)
    why = f" ({r.reason or r.rule})"
    if r.failed_move:
        return shown(f"failed to {verb} {r.path}{why}: {r.error}")
    done = {KEEP: "kept", QUARANTINE: "quarantined", REVIEW: "sent to review"}.get(r.action, r.action)
    return shown(f"{'would ' + verb if dry_run else done} {r.path}{why}")


def problem_lines(s: Summary, audit_log: Path) -> list[str]:
    """The first files that could not be processed, and where the others are."""
    if not s.failed:
        return []
    lines = [f"  could not be processed: {s.failed} (run {s.run_id}):"]
    lines += [shown(f"    {path}: {why}") for path, why in s.problems]
    if s.failed > len(s.problems):
        lines.append(f"    and {s.failed - len(s.problems)} more: their records in {audit_log} say why")
    return lines


def summary_lines(s: Summary, dry_run: bool, audit_log: Path) -> str:
    verb = "would be " if dry_run else ""

    def by_reason(c: Counter[str]) -> str:
        inner = ", ".join(f"{k} {v}" for k, v in sorted(c.items()))
        return f"{sum(c.values())}" + (f" ({inner})" if inner else "")

    lines = [
        f"{'Interrupted after' if s.interrupted else 'Done:'} {s.seen} files in {s.seconds:.1f} s "
        f"({s.images_per_s:.2f} images/s), run {s.run_id}{' (dry run)' if dry_run else ''}",
        f"  kept: {s.kept}",
        f"  {verb}quarantined: {by_reason(s.quarantined)}",
        f"  {verb}sent to review: {by_reason(s.review)}",
        f"  unreadable: {s.unreadable}   skipped: {s.skipped}   errors: {s.errors}   failed moves: {s.move_failures}",
        f"  analysed now: {s.analysed_now}   from cache: {s.cached}   already decided: {s.unchanged} "
        "(unchanged, nothing recorded)",
        *problem_lines(s, audit_log),
    ]
    return "\n".join(lines)


class Terminal:
    """Text: a progress bar on a terminal, each decision with -v, the summary unless -q; restore's lines."""

    def __init__(self, layout: Layout, verbose: int = 0, quiet: bool = False, dry_run: bool = False) -> None:
        self.layout, self.verbose, self.quiet, self.dry_run = layout, verbose, quiet, dry_run
        self._bar: Any = None

    def planned(self, total: int) -> None:
        from tqdm import tqdm

        # shown on a terminal only (disable=None), never in a pipe or a log
        self._bar = tqdm(total=total, unit="img", disable=True if self.quiet else None, dynamic_ncols=True)

    def handled(self, done: Done) -> None:
        if self.verbose and done.record is not None:
            line = file_line(done.record, self.dry_run)
            if self._bar is not None and not self._bar.disable:
                self._bar.write(line)  # above the bar, on stdout, which keeps it whole
            else:
                click.echo(line)
        if self._bar is not None:
            self._bar.update()

    def finished(self, summary: Summary, dry_run: bool) -> None:
        self.close()
        if not self.quiet:
            click.echo(summary_lines(summary, dry_run, self.layout.audit_log))
            click.echo(f"  audit log: {self.layout.audit_log}")
        else:  # problems only, but those always: which files, and where the rest are
            for line in problem_lines(summary, self.layout.audit_log):
                click.echo(line, err=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    # -- restore ----------------------------------------------------------------------------
    def recovered(self, src: Path, outcome: str) -> None:
        click.echo(shown(f"settled an interrupted restore of {src}: {outcome}"))

    def restored(self, r: Result) -> None:
        """One line per file: restored ones unless -q, problems always."""
        from cleaner.fs.move import free_name

        c = r.candidate
        if r.kind is Kind.RESTORED:
            if not self.quiet:
                where = r.destination.relative_to(self.layout.root).as_posix() if r.destination else c.relpath
                as_ = "" if where == c.relpath else f" as {where!r}"
                why = f" ({c.reason})" if c.reason else ""
                line = f"{'would restore' if self.dry_run else 'restored'} {c.relpath}{as_}{why}"
                click.echo(shown(line + (f" from {c.source}" if self.verbose else "")))
            return
        hint = ""
        if r.kind is Kind.CONFLICT and r.destination is not None:
            hint = f" (--rename puts it back as {free_name(r.destination).name!r})"
        click.echo(shown(f"{r.kind.value}: {c.relpath or c.source}: {r.detail}{hint}"))

    def summary(self, s: RestoreSummary) -> None:
        for text in s.unknown:
            click.echo(
                shown(f"not found: {text}: the audit log has no file moved out of {self.layout.root} by that name")
            )
        if self.quiet:
            return
        for text, to in s.already:
            click.echo(shown(f"already restored: {text} (to {to})"))
        kinds, by_reason = s.counts, s.by_reason
        detail = ", ".join(f"{k} {n}" for k, n in sorted(by_reason.items()))
        verb = "Would restore" if s.dry_run else "Restored"
        click.echo(f"{verb}: {kinds[Kind.RESTORED]}" + (f" ({detail})" if detail else ""))
        skipped = [f"{k.value}{'s' * (k is Kind.CONFLICT)} {kinds[k]}" for k in Kind if k is not Kind.RESTORED]
        click.echo(f"  skipped: {', '.join(skipped)}")
        if s.other_roots:
            n, roots = s.other_roots.total(), ", ".join(sorted(s.other_roots))
            click.echo(f"  left alone: {n} file{'s' * (n != 1)} moved out of other folders ({roots})")
        if s.interrupted:
            click.echo("  interrupted: the files not listed above were not looked at")
        click.echo(f"  audit log: {self.layout.audit_log}")


class JsonLines:
    """``--json``: one JSON object a line on stdout, ASCII only; each decision with -v, and a summary."""

    def __init__(self, layout: Layout, verbose: int = 0) -> None:
        self.layout, self.verbose = layout, verbose

    @staticmethod
    def emit(event: events.Event) -> None:
        click.echo(event.line())

    def planned(self, total: int) -> None:
        self.emit(events.Planned(total))

    def handled(self, done: Done) -> None:
        r = done.record
        if self.verbose and r is not None:
            self.emit(Decided(r.path, r.action, r.reason, r.moved, r.destination, r.status, r.error))

    def finished(self, s: Summary, dry_run: bool) -> None:
        self.emit(
            events.RunSummary(
                dry_run=dry_run,
                interrupted=s.interrupted,
                files=s.seen,
                kept=s.kept,
                quarantined=dict(s.quarantined),
                review=dict(s.review),
                unreadable=s.unreadable,
                skipped=s.skipped,
                errors=s.errors,
                failed_moves=s.move_failures,
                analysed_now=s.analysed_now,
                from_cache=s.cached,
                already_decided=s.unchanged,
                run_id=s.run_id,
                problems=[events.Problem(p, why) for p, why in s.problems],
                seconds=round(s.seconds, 3),
                audit_log=str(self.layout.audit_log),
            )
        )

    def close(self) -> None:
        pass

    def recovered(self, src: Path, outcome: str) -> None:
        self.emit(events.Recovered(str(src), outcome))

    def restored(self, r: Result) -> None:
        c = r.candidate
        where = None if r.destination is None else str(r.destination)
        self.emit(events.Restored(r.kind.value, c.relpath, c.reason, c.source, where, r.detail or None))

    def summary(self, s: RestoreSummary) -> None:
        kinds = s.counts
        self.emit(
            events.RestoreSummary(
                dry_run=s.dry_run,
                interrupted=s.interrupted,
                restored=kinds[Kind.RESTORED],
                by_reason=dict(s.by_reason),
                skipped={k.value: kinds[k] for k in Kind if k is not Kind.RESTORED},
                not_found=list(s.unknown),
                already_restored=[events.AlreadyRestored(f, str(to)) for f, to in s.already],
                left_alone=dict(s.other_roots),
                audit_log=str(self.layout.audit_log),
            )
        )


class LogLines:
    """``watch``: each decision and the counters as log lines (text, or JSON with ``--log-format json``)."""

    def planned(self, total: int) -> None:
        pass

    def handled(self, done: Done) -> None:
        r = done.record
        if r is None:
            return
        if r.failed_move:  # once per file and failure: the retries are quiet until one succeeds
            log.warning(decision_line(r) + "; will try again", extra=decision_fields(r))
        else:
            log.info(decision_line(r), extra=decision_fields(r))

    def finished(self, summary: Summary, dry_run: bool) -> None:
        pass

    def counts(self, counts: Mapping[str, int], stopped: bool) -> None:
        text = ", ".join(f"{k} {v}" for k, v in counts.items())
        if stopped:
            log.info("stopped: %s", text)
        else:
            log.info("summary: %s", text, extra={"event": "summary", "counts": dict(counts)})
