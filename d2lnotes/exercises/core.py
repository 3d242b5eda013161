"""The registry of answered exercises: each is a function that returns an :class:`Answer`.

Invariants: an exercise is registered once, under its classic (English 0.17) number; its
answer is data (``values``), computed when asked for, never a stored result; and each one
names the test that recomputes and asserts its claim (``tests/test_exercises_chN.py::
test_<number>_<function name>`` unless it says otherwise).
"""

import importlib
import inspect
import math
import pkgutil
from dataclasses import dataclass, field

KINDS = ("fact", "experiment", "derivation")
EDITIONS = {"classic": "classic", "zh": "zh", "1.0": "edition_1_0"}


@dataclass
class Answer:
    """What an exercise's function returns: the explanation, the values that back it, and
    a figure (a matplotlib ``Figure``) where a picture answers better than numbers."""

    answer: str
    values: dict = field(default_factory=dict)
    figure: object = None


@dataclass(frozen=True)
class Exercise:
    """One exercise: its numbers in the three editions, what kind of answer it has, the
    question in d2lnotes' words, the function that answers it, and the test that proves it."""

    classic: str  # English 0.17, e.g. "3.6.1"
    zh: str | None  # Chinese 2nd edition; None where it lacks the exercise
    edition_1_0: str | None  # d2l.ai's 1.0 edition; None where it lacks the exercise
    kind: str  # one of KINDS
    question: str
    solve: object
    test: str

    @property
    def section(self):
        return self.classic.rsplit(".", 1)[0]

    def number(self, edition="classic"):
        return getattr(self, EDITIONS[edition])

    def answer(self, seed=0):
        """Run the answer; ``seed`` is passed to functions that take one."""
        if "seed" in inspect.signature(self.solve).parameters:
            return self.solve(seed=seed)
        return self.solve()


EXERCISES = {}  # classic number -> Exercise, filled by the sec*.py modules on import


def exercise(classic, *, zh, edition_1_0, kind, question, test=None):
    """Register the decorated function as the answer to exercise ``classic``."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")

    def register(fn):
        if classic in EXERCISES:
            raise ValueError(f"exercise {classic} is registered twice")
        chapter = classic.split(".")[0]
        name = test or (f"tests/test_exercises_ch{chapter}.py::"
                        f"test_{classic.replace('.', '_')}_{fn.__name__}")
        EXERCISES[classic] = Exercise(classic, zh, edition_1_0, kind, question, fn, name)
        return fn

    return register


def _sort_key(number):
    return tuple(int(part) for part in number.split("."))


def load():
    """Import every section module (``sec2_1.py``, ...); return the exercises in book order."""
    from . import __path__ as here

    for info in pkgutil.iter_modules(here):
        if info.name.startswith("sec"):
            importlib.import_module(f"{__package__}.{info.name}")
    return [EXERCISES[k] for k in sorted(EXERCISES, key=_sort_key)]


def select(section=None, edition="classic"):
    """The exercises of ``section`` (e.g. ``"3.6"``, or one exercise ``"3.6.1"``), numbered
    as ``edition`` numbers them (``classic``, ``zh`` or ``1.0``); all of them if None."""
    if edition not in EDITIONS:
        raise ValueError(f"edition must be one of {', '.join(EDITIONS)}, got {edition!r}")
    chosen = []
    for ex in load():
        number = ex.number(edition)
        if number is None:
            continue
        if section is None or number == section or number.startswith(section + "."):
            chosen.append(ex)
    return sorted(chosen, key=lambda ex: _sort_key(ex.number(edition)))


def plain(value):
    """``value`` as JSON can hold it: tensors and NumPy values become lists and numbers, and
    non-finite floats become the strings ``"inf"``, ``"-inf"`` and ``"nan"``."""
    if hasattr(value, "tolist"):  # torch and NumPy
        value = value.tolist()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def record(ex, answer):
    """One exercise and its answer as the JSON of ``python -m d2lnotes exercises --json``."""
    return {"classic": ex.classic, "zh": ex.zh, "edition_1_0": ex.edition_1_0,
            "kind": ex.kind, "question": ex.question, "answer": answer.answer,
            "values": plain(answer.values), "test": ex.test}
