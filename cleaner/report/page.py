"""``face-clean report``'s page (``report_template.html`` with the data in).

The page is one file that works offline and from anywhere (an e-mail attachment, a NAS share):
thumbnails are data URIs, the data one JSON blob, and a Content-Security-Policy allows exactly the
template's own script and style, by hash, and images from data URIs: nothing is fetched, and text
from the audit log, which the script only ever sets as text, could not run even if it got in.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

from cleaner import __version__
from cleaner.fs.safefs import write_atomically
from cleaner.records import now
from cleaner.report.collect import Report

PAGE_SIZE = 200  # tiles in the DOM at once: 10,000 files are 50 pages, not 10,000 images
CHUNK = 1000  # thumbnails per <script> element after the first page's


def script_json(data: Any) -> str:
    """JSON that cannot end its <script> element or open a comment in it: <, > and & as \\u escapes
    (outside strings JSON has none of them, so it means the same); non-ASCII as escapes too, so a
    file name that is not valid UTF-8 (a lone surrogate) survives."""
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def shared(name: str) -> str:
    """``tiles.js`` (the tiles' drawing code) or ``tiles.css`` (their look): the report inlines them, the
    review page serves them."""
    return resources.files("cleaner.report").joinpath(name).read_text(encoding="utf-8")


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def render(data: dict[str, Any]) -> str:
    """The template with the data in, and a CSP that allows its inline script and style only.

    The first page's thumbnails come with the tiles, before the script; the rest after it, in
    chunks, which the script reads once the page is loaded: 10,000 thumbnails are some 45 MB, and
    the first page appears without waiting for them."""
    files = resources.files("cleaner.report")
    template = files.joinpath("report_template.html").read_text(encoding="utf-8")
    template = template.replace("/*__TILES_JS__*/", shared("tiles.js"), 1)  # the tiles' code, the review page's too
    template = template.replace("/*__TILES_CSS__*/\n", shared("tiles.css"), 1)  # and their look
    [style] = re.findall(r"<style>(.*?)</style>", template, re.S)
    [script] = re.findall(r"<script>(.*?)</script>", template, re.S)
    csp = (
        f"default-src 'none'; img-src data:; style-src {_csp_hash(style)}; script-src {_csp_hash(script)}; "
        "base-uri 'none'; form-action 'none'"
    )
    thumbs = data["thumbs"]
    first = {**data, "thumbs": thumbs[:PAGE_SIZE], "thumbCount": len(thumbs)}
    more = "\n".join(
        f'<script type="application/json" class="thumbs">{script_json(thumbs[i : i + CHUNK])}</script>'
        for i in range(PAGE_SIZE, len(thumbs), CHUNK)
    )
    # the data last: a file name such as "__CSP__.jpg" must stay a name
    page = template.replace("__CSP__", csp, 1).replace("__MORE_THUMBS__", more, 1)
    return page.replace("__DATA__", script_json(first), 1)


def page_data(report: Report, audit_log: Path, thumb_size: int) -> dict[str, Any]:
    """What the page's script reads: the header lines, the outcomes in order, the tiles and thumbnails."""

    def when(t: str) -> str:
        return t[:19].replace("T", " ")

    folder = report.roots[0] if len(report.roots) == 1 else f"{len(report.roots)} folders"
    decided = f"{when(report.decided[0])} to {when(report.decided[1])} UTC" if report.decided else "?"
    meta = [["run", report.run], ["folder", folder], ["decided", decided], ["audit log", str(audit_log)]]
    if report.verdicts:
        meta += [["by a person", ", ".join(f"{n} {what}" for what, n in sorted(report.verdicts.items()))]]
    meta += [["report made", when(now()) + " UTC"], ["face-clean", __version__]]
    return {
        "title": folder if len(report.roots) == 1 else report.run,
        "meta": meta,
        "outcomes": list(report.outcomes),
        "dryRun": report.dry,
        "dryAll": bool(report.tiles) and report.dry == len(report.tiles),
        "pageSize": PAGE_SIZE,
        "thumbSize": thumb_size,
        "items": report.tiles,
        "thumbs": report.thumbs,
    }


def write(html: str, output: Path, chosen: bool) -> None:
    """Written under a fresh temporary name, then renamed: a browser never opens half a report, and a
    link planted where a temporary file went is never written through. Beside the audit log (its
    state folder) no link is followed on the way either; a folder given with -o is the user's choice."""
    if chosen:
        output.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(output, html.encode("utf-8", "surrogateescape"), chosen)
