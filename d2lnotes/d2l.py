"""The book's helper package on d2lnotes: ``from d2lnotes import d2l`` in place of
``from d2l import torch as d2l``. The names live in ``d2lnotes.book.classic``."""

from .book.classic import *  # noqa: F403
from .book.classic import __all__ as _classic_all
from .book.classic import lazy_attribute as _lazy_attribute

__all__ = list(_classic_all) + ["plt"]  # noqa: F405 (plt: see __getattr__)


def __getattr__(name):
    # d2l.plt: pyplot is imported on first use, so that importing d2lnotes changes nothing
    return _lazy_attribute(name)
