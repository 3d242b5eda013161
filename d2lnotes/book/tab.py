"""The tab idiom of the book's source notebooks, with the PyTorch tab selected.

The 1.0 edition's sources write a cell once for several frameworks: ``%load_ext
d2lbook.tab`` first, then cells that start with ``%%tab pytorch`` (or ``%%tab all``, or
``%%tab mxnet, tensorflow``), and ``if tab.selected('pytorch'):`` branches inside cells.
d2lnotes runs the PyTorch code, so here ``%%tab`` runs a cell only when its list names
``pytorch`` or ``all``, and ``tab.selected(...)`` is true only for ``pytorch``.
``%load_ext d2lnotes.book`` loads it with the redirect; so do ``%load_ext d2lnotes.book.tab``
and, while the redirect is active, the sources' own ``%load_ext d2lbook.tab``.
"""

import ast
import sys

SELECTED = "pytorch"


def selected(*tabs):
    """True when ``tabs`` names the PyTorch tab (``tab.selected('pytorch', 'mxnet')``)."""
    return SELECTED in tabs


def interact_select(*tabs, **kwargs):
    """The book's tab chooser; the PyTorch tab is always the one selected."""
    return SELECTED


def runs(line):
    """Whether a ``%%tab`` cell with this argument line runs for the PyTorch tab."""
    names = line.replace(",", " ").split()
    return not names or SELECTED in names or "all" in names


def load_ipython_extension(ip):
    """Define ``tab`` in the namespace and the ``%%tab`` cell magic."""
    module = sys.modules[__name__]

    def tab(line, cell):
        if not runs(line):
            return None
        # as a cell: magics translated, errors raised in this cell, the last expression shown
        tree = ast.parse(ip.transform_cell(cell))
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, "<%%tab cell>", "exec"), ip.user_ns)
        if last is not None:
            return eval(compile(ast.Expression(last.value), "<%%tab cell>", "eval"), ip.user_ns)
        return None

    ip.push({"tab": module})
    ip.register_magic_function(tab, "cell", "tab")


def unload_ipython_extension(ip):
    """``tab`` leaves the namespace (``%%tab`` stays registered, harmless without it)."""
    ip.user_ns.pop("tab", None)
