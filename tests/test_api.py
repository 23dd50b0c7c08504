"""The Python API (cleaner.api): the example of docs/ml/python-api.md, run as it is written on a real
portrait, and what it promises besides (bytes, arrays, bad input, the package's own names)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from cleaner import api
from cleaner.errors import RulesError
from cleaner.records import Action, Status

PAGE = Path(__file__).parent.parent / "docs" / "ml" / "python-api.md"
MAN = Path(__file__).parent / "data" / "senators" / "man_B001288.jpg"
WOMAN = Path(__file__).parent / "data" / "senators" / "woman_B001230.jpg"


def _example() -> str:
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 1, "the page has one example"
    return blocks[0]


@pytest.fixture(scope="module")
def analyzer() -> api.Analyzer:
    return api.Analyzer(detector="yunet", gender_model="builtin")


def test_the_documented_example_runs_on_a_real_photo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    shutil.copy(MAN, tmp_path / "photo.jpg")
    monkeypatch.chdir(tmp_path)
    seen: dict[str, object] = {}
    exec(compile(_example(), str(PAGE), "exec"), seen)  # the page's code, as a reader would paste it
    analysis = seen["analysis"]
    assert isinstance(analysis, api.ImageAnalysis)
    assert analysis.status is Status.ANALYSED and len(analysis.faces) == 1
    assert analysis.faces[0].dominant_gender == "Man"
    assert seen["decision"] == api.Decision(Action.KEEP, "keep-man", faces_considered=1)
    assert [a.status for a in seen["analyses"]] == [Status.ANALYSED, Status.SKIPPED]  # type: ignore[attr-defined]
    for other in ("from_bytes", "from_array"):
        faces = seen[other].faces  # type: ignore[attr-defined]
        assert [f.dominant_gender for f in faces] == ["Man"], other


def test_a_woman_s_portrait_is_quarantined_by_keep_man(analyzer: api.Analyzer):
    analysis = analyzer.analyze(WOMAN)
    assert analysis.faces[0].dominant_gender == "Woman"
    decision = api.decide(api.load_rules(keep="Man"), analysis)
    assert (decision.action, decision.rule, decision.reason) == (Action.QUARANTINE, "not-man", "not-man")


def test_bad_input_is_an_analysis_that_says_why_not_an_exception(analyzer: api.Analyzer, tmp_path: Path):
    truncated = MAN.read_bytes()[:2000]
    missing, cut = analyzer.analyze_many([tmp_path / "gone.jpg", truncated])
    assert missing.status is Status.UNREADABLE and missing.path == tmp_path / "gone.jpg"
    assert cut.status is Status.UNREADABLE and cut.error
    assert str(cut.path).startswith(api.IN_MEMORY)


def test_a_photo_reached_through_a_link_is_read_and_keeps_its_given_path(analyzer: api.Analyzer, tmp_path: Path):
    (tmp_path / "album").symlink_to(MAN.parent)
    given = tmp_path / "album" / MAN.name
    analysis = analyzer.analyze(str(given))
    assert analysis.status is Status.ANALYSED and analysis.path == given


def test_a_wrong_array_or_rules_text_raises_with_the_reason(analyzer: api.Analyzer):
    import numpy as np

    with pytest.raises(ValueError, match="3 channels"):
        analyzer.analyze(np.zeros((10, 10, 4), np.uint8))
    with pytest.raises(RulesError, match="min_face_size"):
        api.load_rules("version: 1\nmin_face_size: -3\nrules: []\n")
