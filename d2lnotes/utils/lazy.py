"""Lazy package attributes, so that a command's ``--help`` answers before torch loads."""

import difflib
import importlib
import sys


def lazy(package, homes):
    """Return a module ``__getattr__`` for ``package``, importing each name on first use.

    ``homes`` maps a public name to the submodule that defines it (a submodule maps to
    itself), or to ``"submodule:other_name"`` for a second name of the same thing. An
    unknown name is an AttributeError that suggests the closest names; ``dir(package)``
    lists the lazy names too, so that Jupyter completes them.
    """
    module_vars = vars(sys.modules[package])
    module_vars["__dir__"] = lambda: sorted(set(module_vars) | set(homes))

    def __getattr__(name):
        if name not in homes:
            known = set(homes) | {k for k in module_vars if not k.startswith("_")}
            close = difflib.get_close_matches(name, sorted(known), n=3)
            hint = f"; did you mean {' or '.join(close)}?" if close else ""
            # name= without obj=: Python's own "Did you mean" would repeat the hint
            raise AttributeError(f"module {package!r} has no attribute {name!r}{hint}",
                                 name=name)
        home, _, attr = homes[name].partition(":")
        module = importlib.import_module(f"{package}.{home}")
        return module if home == name and not attr else getattr(module, attr or name)

    return __getattr__
