"""Lesson packs: a teacher's own sequence of lessons for predict mode, as one JSON file.

    {
      "format": "bpviz-lesson-pack",
      "version": 1,
      "title": "Week 3: the chain rule",
      "lessons": [
        {"title": "Warm-up", "scenario": "lesson:square"},
        {"title": "Three links", "scenario": "chain.py", "ask": [5, 6], "locked": ["training"]},
        {"title": "A built net", "scenario": "net.bpviz", "ask": "backward"}
      ]
    }

``scenario`` is a built-in lesson, or a path (relative to the pack) of a scenario file or a
``.bpviz`` network. ``ask`` chooses the backward steps predict mode asks about: ``"backward"``
(every one, the default) or a list of step numbers. ``locked`` lists controls the learner does
not get while the lesson is open: ``"training"``, ``"inspector"``, ``"predict"`` (predict mode
cannot be switched off). Nothing in a pack is executed; its scenarios run as any scenario does.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from bpviz.core.errors import BpvizError
from bpviz.core.scenario import LESSON_PREFIX, lesson_names

FORMAT = "bpviz-lesson-pack"
VERSION = 1
CONTROLS = ("training", "inspector", "predict")


class PackError(BpvizError):
    """A lesson pack that cannot be read, with one sentence saying where and what to do."""


@dataclass(frozen=True)
class PackLesson:
    """One lesson of a pack: its title, the scenario spec (absolute path or lesson:NAME), the
    steps to ask about (None: every backward step) and the locked controls."""

    title: str
    scenario: str
    ask: tuple[int, ...] | None
    locked: frozenset[str]


@dataclass(frozen=True)
class LessonPack:
    """A titled list of lessons."""

    title: str
    lessons: tuple[PackLesson, ...]


def load_pack(path: str | os.PathLike[str]) -> LessonPack:
    """Read and check a pack; raises PackError with one sentence."""
    shown = os.path.basename(os.fspath(path))
    try:
        with open(path, encoding="utf-8-sig") as fh:  # a byte-order mark is no JSON error
            data = json.load(fh)
    except FileNotFoundError:
        raise PackError(f"No lesson pack at '{path}'; check the path.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PackError(f"Cannot read '{shown}' ({exc}); check that it is a readable text file.") from None
    except json.JSONDecodeError as exc:
        raise PackError(f"{shown} line {exc.lineno}: not valid JSON ({exc.msg}); fix the file.") from None
    return parse_pack(data, shown, os.path.dirname(os.path.abspath(path)))


def parse_pack(data: object, shown: str, folder: str) -> LessonPack:
    """A pack from its parsed JSON (``folder`` resolves relative scenario paths)."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise PackError(f'{shown} is not a lesson pack: its top level needs "format": "{FORMAT}".')
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise PackError(f'{shown}: "version" must be a whole number (this bpviz reads version {VERSION}).')
    if version > VERSION:
        raise PackError(f"{shown} is version {version}, newer than this bpviz reads ({VERSION}); update bpviz.")
    title = data.get("title", "")
    lessons = data.get("lessons")
    if not isinstance(title, str):
        raise PackError(f'{shown}: "title" must be text.')
    if not isinstance(lessons, list) or not lessons:
        raise PackError(f'{shown}: "lessons" must be a non-empty list of lessons.')
    return LessonPack(
        title or shown, tuple(_lesson(item, f"{shown} lesson {i + 1}", folder) for i, item in enumerate(lessons))
    )


def _lesson(item: object, where: str, folder: str) -> PackLesson:
    if not isinstance(item, dict):
        raise PackError(f'{where}: a lesson is an object with "title" and "scenario".')
    title, scenario = item.get("title"), item.get("scenario")
    if not isinstance(title, str) or not title.strip():
        raise PackError(f'{where}: give it a "title" (text).')
    if not isinstance(scenario, str) or not scenario.strip():
        raise PackError(f'{where}: give it a "scenario": lesson:NAME, or a .py or .bpviz file.')
    if scenario.startswith(LESSON_PREFIX):
        if scenario[len(LESSON_PREFIX) :] not in lesson_names():
            raise PackError(f"{where}: there is no built-in {scenario}; run `bpviz lessons` to list them.")
        spec = scenario
    else:
        spec = os.path.normpath(os.path.join(folder, scenario))
        if os.path.splitext(spec)[1].lower() not in (".py", ".bpviz"):
            raise PackError(f'{where}: "{scenario}" must be a .py scenario or a .bpviz network.')
    ask = item.get("ask", "backward")
    if ask == "backward":
        steps = None
    elif isinstance(ask, list) and all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in ask):
        steps = tuple(sorted(set(ask)))
    else:
        raise PackError(f'{where}: "ask" must be "backward" or a list of step numbers (1 or more).')
    locked = item.get("locked", [])
    if not isinstance(locked, list) or any(c not in CONTROLS for c in locked):
        raise PackError(f'{where}: "locked" lists controls among {", ".join(CONTROLS)}.')
    return PackLesson(title.strip(), spec, steps, frozenset(locked))
