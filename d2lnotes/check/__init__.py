"""``check(topic, fn)``: does the learner's own scratch function behave like the book's?

>>> from d2lnotes import check
>>> check("ch3.softmax", my_softmax)        # doctest: +SKIP

The function is called on inputs that Hypothesis draws (and always on the edge cases
that matter), compared with d2lnotes' twin, values and gradients, and held to the book's
conventions. The result is true when every property held; it prints as a short report,
and displays as a table in Jupyter. ``python -m d2lnotes check`` does the same for a
function in a file.
"""

import sys
import types

from .core import DEFAULT_EXAMPLES, DEFAULT_TIME_LIMIT, Result
from .names import CHECKS, lookup

__all__ = ["CHECKS", "Result", "check", "main", "topics"]


def topics():
    """The checkable topics' names, in the book's order."""
    return list(CHECKS)


def check(topic, fn, *, max_examples=DEFAULT_EXAMPLES, time_limit=DEFAULT_TIME_LIMIT):
    """Check the learner's ``fn`` against the book's ``topic`` (e.g. ``"ch3.softmax"``).

    Returns a :class:`Result`: true, and ``.passed``, when every property held.
    ``time_limit`` is in seconds per call of ``fn``; ``max_examples`` is the number of
    random inputs besides the fixed edge cases.
    """
    from .core import run_check
    from .topics import TOPICS

    name = lookup(topic)
    if not callable(fn):
        raise TypeError(f"check: fn must be the function to check, got {type(fn).__name__}")
    return run_check(TOPICS[name], fn, getattr(fn, "__name__", repr(fn)), max_examples,
                     time_limit)


def main(argv=None):
    """``python -m d2lnotes check [TOPIC FILE.py[:FUNCTION]]``; returns the exit status."""
    from .cli import main as cli_main

    return cli_main(sys.argv[1:] if argv is None else argv)


class _CallableModule(types.ModuleType):
    """``from d2lnotes import check`` gives this module; calling it calls :func:`check`."""

    def __call__(self, topic, fn, **kwargs):
        return check(topic, fn, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
