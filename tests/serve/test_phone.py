"""The review page on a phone and on a desk, in Debian's Chromium (headless, through playwright), with real
photos decided by a real run: what a person sees on a 390x844 screen (two columns, big buttons in reach,
no keyboard hints, a compact header), a keep and a reject by touch that move the files, undo, zoom in
the full view, tiles that stay where they were after a bulk action; and the two screenshots of the docs
(docs/images/review-phone.png, docs/images/review-desktop.png), taken from the page itself."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from ci import unavailable
from conftest import audit_records, invoke
from PIL import Image
from serving import LOG, Q, files_under, served
from test_browser import groups, tile, until

IMAGES = Path(__file__).parents[2] / "docs" / "images"
LABELLED = Path(__file__).parents[2].parent / "shared" / "labelled"  # ../shared/labelled from the repo root
# public-domain portraits (US Senate), under names a phone's camera gives
PICKED = {
    "Man/senate_B001288_Cory_A_Booker.jpg": "DCIM/IMG_0412.jpg",
    "Man/senate_K000377_Mark_Kelly.jpg": "DCIM/IMG_0414.jpg",
    "Man/senate_C001095_Tom_Cotton.jpg": "DCIM/IMG_0413.jpg",
    "Man/senate_S000033_Bernard_Sanders.jpg": "DCIM/IMG_0415.jpg",
    "Woman/senate_B001230_Tammy_Baldwin.jpg": "DCIM/IMG_0420.jpg",
    "Woman/senate_B001319_Katie_Boyd_Britt.jpg": "DCIM/IMG_0421.jpg",
    "Woman/senate_B001303_Lisa_Blunt_Rochester.jpg": "DCIM/IMG_0422.jpg",
    "Woman/senate_A000382_Angela_D_Alsobrooks.jpg": "DCIM/IMG_0423.jpg",
    "Woman/senate_K000367_Amy_Klobuchar.jpg": "DCIM/IMG_0424.jpg",
    "Man/senate_W000779_Ron_Wyden.jpg": "Family/IMG_0101.jpg",
    "Woman/senate_W000817_Elizabeth_Warren.jpg": "Family/IMG_0102.jpg",
}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def decided(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real photos after a real `run` with the built-in models (not the tests' stand-ins), whose threshold sends
    the unsure ones to review."""
    missing = [p for p in PICKED if not (LABELLED / p).is_file()]
    if missing:
        unavailable(f"the labelled photos are not at {LABELLED} ({missing[0]} missing)")
    root = tmp_path_factory.mktemp("phone") / "photos"
    for src, dst in PICKED.items():
        (root / dst).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(LABELLED / src, root / dst)
    models = ("--detector", "yunet", "--gender-model", "builtin", "--age-model", "builtin")
    result = invoke("run", root, "--keep", "Man", "--min-confidence", "0.9995", *models)
    assert result.exit_code == 0, result.output
    return root


def on_phone(browser, url: str, errors: list[str]):
    tab = browser.new_page(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    tab.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.goto(url)
    tab.wait_for_selector("body[data-ready]")
    return tab


def pictures_shown(tab) -> None:
    until(tab, "[...document.images].every(i => i.complete && i.naturalWidth > 0)")


def screenshot(tab, name: str) -> Path:
    """The page as it is, quantized (a small PNG), written where the docs show it."""
    png = Image.open(io.BytesIO(tab.screenshot(full_page=False))).convert("RGB")
    assert len(png.getcolors(1 << 20) or []) > 500  # a page with photos, not a blank one
    IMAGES.mkdir(parents=True, exist_ok=True)
    png.quantize(256).save(IMAGES / name, optimize=True)
    return IMAGES / name


def box(tab, selector: str) -> dict:
    found = tab.query_selector(selector)
    assert found is not None, selector
    rect = found.bounding_box()
    assert rect is not None, selector
    return rect


def test_on_a_phone_two_columns_big_buttons_undo_zoom_and_the_files_move(browser, decided: Path, tmp_path: Path):
    root = tmp_path / "photos"
    shutil.copytree(decided, root, symlinks=True)
    log = root / LOG
    log.write_text(log.read_text(encoding="utf-8").replace(str(decided), str(root)), encoding="utf-8")
    errors: list[str] = []
    with served(root) as running:
        tab = on_phone(browser, running.url, errors)
        review = [name for group, names in groups(tab).items() if group.startswith("review") for name in names]
        assert len(review) >= 2, groups(tab)
        assert not tab.is_visible("#keys") and not tab.is_visible("#controls")  # no keyboard hints, filters folded
        assert box(tab, "header")["height"] < 0.25 * PHONE["height"]
        lefts = tab.evaluate(
            "[...new Set([...document.querySelector('.grid').querySelectorAll('figure.tile')]"
            ".map(f => Math.round(f.getBoundingClientRect().left)))].length"
        )
        assert lefts == 2  # two columns
        first = tile(tab, review[0])
        keep = box(tab, first + " button.keep")
        assert keep["height"] >= 40 and keep["x"] >= 0 and keep["x"] + keep["width"] <= PHONE["width"]
        pictures_shown(tab)
        screenshot(tab, "review-phone.png")

        tab.tap(first + " button.keep")  # back from the review folder, by a thumb
        until(tab, "faceCleanServe().done === 1")
        assert (root / review[0]).exists()
        assert tab.is_visible("#undo-bar") and "kept " + review[0] in tab.inner_text("#undo-bar")
        tab.tap("#undo")  # the verdict withdrawn: the rules decide that photo again
        until(tab, "faceCleanServe().done === 2")
        assert audit_records(log)[-1]["action"] == "withdraw" and audit_records(log)[-1]["path"] == review[0]
        assert tab.evaluate("faceCleanServe().undoable") == 0

        second = tile(tab, review[1])
        tab.tap(second + " button.reject")
        until(tab, "faceCleanServe().done === 3")
        assert files_under(root / Q / "rejected") == {review[1]}
        assert review[1] in [n for g, names in groups(tab).items() if g.startswith("review") for n in names]
        tab.tap("#undo")  # a reject undone: back from the quarantine, and left to the rules
        until(tab, "faceCleanServe().done === 5")
        assert (root / review[1]).exists() and files_under(root / Q / "rejected") == set()
        assert [r["action"] for r in audit_records(log)[-3:]] == ["reject", "keep", "withdraw"]

        tab.tap(tile(tab, review[0]) + " .well")  # the full view, then zoom in where it was tapped
        until(tab, "!document.getElementById('viewer').hidden")
        until(tab, "document.querySelector('#viewer img').naturalWidth > 0")
        before = box(tab, "#viewer .frame")["width"]
        tab.tap('#viewer-bar [data-view="zoom"]')
        until(tab, "document.getElementById('viewer').classList.contains('zoomed')")
        assert box(tab, "#viewer .frame")["width"] > 1.5 * before
        tab.tap('#viewer-bar [data-view="close"]')
        until(tab, "document.getElementById('viewer').hidden")
        assert errors == []


def test_on_a_desk_a_bulk_keep_leaves_the_tiles_in_place_until_a_filter_changes(browser, decided: Path, tmp_path):
    root = tmp_path / "photos"
    shutil.copytree(decided, root, symlinks=True)
    log = root / LOG
    log.write_text(log.read_text(encoding="utf-8").replace(str(decided), str(root)), encoding="utf-8")
    errors: list[str] = []
    with served(root) as running:
        tab = browser.new_page(viewport={"width": 1280, "height": 860})
        tab.on("pageerror", lambda e: errors.append(str(e)))
        tab.goto(running.url)
        tab.wait_for_selector("body[data-ready]")
        assert tab.is_visible("#keys") and tab.is_visible("#controls")
        pictures_shown(tab)
        screenshot(tab, "review-desktop.png")
        before = groups(tab)
        [quarantined] = [g for g in before if g.startswith("quarantined")][:1] or [None]
        assert quarantined is not None, before
        names = before[quarantined]
        for name in names:
            tab.click(tile(tab, name) + " .pick")
        tab.click('[data-bulk="keep"]')
        until(tab, f"faceCleanServe().done === {len(names)}")
        assert all((root / n).exists() for n in names)
        tab.click("#boxes")  # not a filter: nothing moves on the page
        tab.click("#select-page")  # nor does selecting (the page is drawn again)
        tab.evaluate("new Promise(r => setTimeout(r, 2500))")  # a poll of the server comes and goes
        assert groups(tab)[quarantined] == names  # where they were: a person sees what was done
        tab.click('#counts button[data-outcome=""]')  # a filter change lays the page out afresh
        assert quarantined not in groups(tab) and set(names) <= set(groups(tab)["kept"])
        tab.click("h1")  # the keyboard's, not a button's
        tab.keyboard.press("u")  # undo the bulk keep, by its key: every one of its verdicts withdrawn
        until(tab, f"faceCleanServe().done === {2 * len(names)}")
        withdrawn = audit_records(log)[-len(names) :]
        assert {r["action"] for r in withdrawn} == {"withdraw"} and {r["path"] for r in withdrawn} == set(names)
        assert errors == []
