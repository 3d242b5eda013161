"""Lazy package attributes, so that a command's ``--help`` answers before torch loads."""

import importlib


def lazy(package, homes):
    """Return a module ``__getattr__`` for ``package``: ``homes`` maps each public name to
    the submodule that defines it (a submodule maps to itself), imported on first use."""
    def __getattr__(name):
        if name not in homes:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(f"{package}.{homes[name]}")
        return module if homes[name] == name else getattr(module, name)

    return __getattr__
