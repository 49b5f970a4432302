"""Lesson packs: a teacher's JSON file read, checked, and refused in one sentence."""

from __future__ import annotations

import json

import pytest

from bpviz.core.lesson_pack import PackError, load_pack

GOOD = {
    "format": "bpviz-lesson-pack",
    "version": 1,
    "title": "Week 3",
    "lessons": [
        {"title": "Warm-up", "scenario": "lesson:square"},
        {"title": "Three links", "scenario": "chain.py", "ask": [5, 4, 5], "locked": ["training"]},
        {"title": "Built", "scenario": "sub/net.bpviz", "ask": "backward"},
    ],
}


def write(tmp_path, data) -> str:
    path = tmp_path / "pack.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def test_a_pack_reads_with_paths_relative_to_it(tmp_path):
    pack = load_pack(write(tmp_path, GOOD))
    assert pack.title == "Week 3" and [lesson.title for lesson in pack.lessons] == ["Warm-up", "Three links", "Built"]
    warm, links, built = pack.lessons
    assert warm.scenario == "lesson:square" and warm.ask is None and not warm.locked
    assert links.scenario == str(tmp_path / "chain.py") and links.ask == (4, 5) and links.locked == {"training"}
    assert built.scenario == str(tmp_path / "sub" / "net.bpviz")


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"format": "other"}, "is not a lesson pack"),
        ({"version": 9}, "newer than this bpviz reads"),
        ({"version": "1"}, "must be a whole number"),
        ({"lessons": []}, "non-empty list"),
        ({"lessons": [{"title": "x", "scenario": "lesson:nope"}]}, "no built-in lesson:nope"),
        ({"lessons": [{"title": "x", "scenario": "notes.txt"}]}, "must be a .py scenario or a .bpviz network"),
        ({"lessons": [{"title": "x", "scenario": "lesson:square", "ask": [0]}]}, "list of step numbers"),
        ({"lessons": [{"title": "x", "scenario": "lesson:square", "locked": ["everything"]}]}, "controls among"),
        ({"lessons": [{"scenario": "lesson:square"}]}, 'give it a "title"'),
    ],
)
def test_a_bad_pack_is_one_sentence(tmp_path, change, says):
    with pytest.raises(PackError, match=says) as info:
        load_pack(write(tmp_path, {**GOOD, **change}))
    assert "\n" not in str(info.value)


def test_broken_json_says_where(tmp_path):
    with pytest.raises(PackError, match="line 2: not valid JSON"):
        load_pack(write(tmp_path, '{"format": "bpviz-lesson-pack",\n "version": }'))
