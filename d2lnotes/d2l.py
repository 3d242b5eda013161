"""The book's helper package on d2lnotes: ``from d2lnotes import d2l`` in place of
``from d2l import torch as d2l``. The classic edition's names live in ``d2lnotes.book.classic``,
the 1.0 edition's (``Module``, ``DataModule``, ``Trainer``, ...) in ``d2lnotes.book.modern``;
a name in both (``download``) takes both editions' calls."""

from .book.classic import *  # noqa: F403
from .book.classic import __all__ as _classic_all
from .book.classic import lazy_attribute as _lazy_attribute
from .book.modern import *  # noqa: F403
from .book.modern import __all__ as _modern_all

# plt: see __getattr__
__all__ = sorted(set(_classic_all) | set(_modern_all)) + ["plt"]  # noqa: F405


def __getattr__(name):
    # d2l.plt: pyplot is imported on first use, so that importing d2lnotes changes nothing
    return _lazy_attribute(name)
