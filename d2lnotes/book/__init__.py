"""The book's own code on d2lnotes: ``from d2l import torch as d2l`` resolved to ``d2lnotes.d2l``.

The redirect is active only inside :func:`redirect` (used by ``python -m d2lnotes book``) or
in a kernel after ``%load_ext d2lnotes.book``; otherwise an installed ``d2l`` package is left
alone. Outside both, write ``from d2lnotes import d2l`` instead of ``from d2l import torch as d2l``.
"""

import contextlib
import importlib.abc
import sys
import types

# The book's other frameworks: named in the error, so a reader knows what to change.
_OTHER_FRAMEWORKS = ("mxnet", "tensorflow", "paddle", "jax")

_saved = []  # one {module name: previous module or None} per active redirect
REDIRECTED = ("d2l", "d2l.torch", "d2lbook", "d2lbook.tab")


def _fake_package(target):
    """A stand-in ``d2l`` package whose ``torch`` is ``target``."""
    package = types.ModuleType("d2l", "d2lnotes' stand-in for the book's d2l package")
    package.__path__ = []  # a package, so that ``import d2l.torch`` is allowed
    package.torch = target

    def __getattr__(name):
        if name in _OTHER_FRAMEWORKS:
            raise ImportError(_other_framework_hint(name))
        raise AttributeError(f"module 'd2l' has no attribute {name!r}")

    package.__getattr__ = __getattr__
    return package


class _OtherFrameworks(importlib.abc.MetaPathFinder):
    """``import d2l.mxnet`` (and the other frameworks) under the redirect: the hint, not
    "No module named 'd2l.mxnet'"."""

    def find_spec(self, name, path, target=None):
        package, _, framework = name.partition(".")
        if package == "d2l" and framework in _OTHER_FRAMEWORKS and active():
            raise ImportError(_other_framework_hint(framework), name=name)
        return None


_finder = _OtherFrameworks()


def _other_framework_hint(name):
    return (f"d2lnotes runs the book's PyTorch code only, not 'd2l.{name}'; use the pytorch "
            "tab's cells ('from d2l import torch as d2l')")


def activate():
    """Make ``from d2l import torch as d2l`` (and ``import d2l.torch``) give ``d2lnotes.d2l``.

    Undo with :func:`deactivate`; calls nest, and the previous modules come back in order.
    While active, torchvision's ``FashionMNIST(download=True)`` finds d2lnotes' copy
    (:mod:`d2lnotes.book.fashion`).
    """
    from .. import d2l as target
    from . import fashion

    if not _saved:
        fashion.install()
        if _finder not in sys.meta_path:
            sys.meta_path.insert(0, _finder)
    from . import tab

    saved = {name: sys.modules.get(name) for name in REDIRECTED}
    sys.modules["d2l"] = _fake_package(target)
    sys.modules["d2l.torch"] = target
    # the 1.0 sources' `%load_ext d2lbook.tab` loads d2lnotes' tab
    sys.modules["d2lbook"] = types.ModuleType("d2lbook", "d2lnotes' stand-in for d2lbook")
    sys.modules["d2lbook"].__path__, sys.modules["d2lbook"].tab = [], tab
    sys.modules["d2lbook.tab"] = tab
    _saved.append(saved)


def deactivate():
    """Undo the latest :func:`activate`: an installed ``d2l`` imported before comes back."""
    if not _saved:
        return
    for name, module in _saved.pop().items():
        if module is None:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = module
    if not _saved:
        from . import fashion

        fashion.uninstall()
        if _finder in sys.meta_path:
            sys.meta_path.remove(_finder)


def active():
    """True while ``from d2l import torch as d2l`` resolves to ``d2lnotes.d2l``."""
    return bool(_saved)


@contextlib.contextmanager
def redirect():
    """``with redirect():`` the book's import line gives ``d2lnotes.d2l``, and only there."""
    activate()
    try:
        yield
    finally:
        deactivate()


def load_ipython_extension(ip):
    """``%load_ext d2lnotes.book``: the redirect for this kernel, until unloaded, and the 1.0
    sources' ``tab`` and ``%%tab`` (:mod:`d2lnotes.book.tab`)."""
    from . import tab

    activate()
    tab.load_ipython_extension(ip)


def unload_ipython_extension(ip):
    """``%unload_ext d2lnotes.book``: an installed ``d2l`` is importable again."""
    from . import tab

    tab.unload_ipython_extension(ip)
    deactivate()
