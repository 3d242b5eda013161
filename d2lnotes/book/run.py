"""``python -m d2lnotes book PATH.ipynb|PATH.py``: run the book's cells on d2lnotes.

The cells run in order, in one namespace, in an IPython shell (so ``%matplotlib inline``
and the other magics parse), with the working directory set to the file's folder, as
Jupyter does. Within the run only, ``from d2l import torch as d2l`` gives ``d2lnotes.d2l``.
After each cell every open pyplot figure is written to ``--out`` as a PNG and closed, as
Jupyter's inline backend shows and closes it.
"""

import os
import re
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..utils.errors import D2LError, UsageError

DESCRIPTION = """\
Run a notebook (.ipynb) or a script split into cells at '# %%' lines (.py) cell by cell,
in one namespace, in the file's folder, with 'from d2l import torch as d2l' resolved to
d2lnotes.d2l. Prints each cell's status and seconds, writes every figure as a PNG into
--out, and exits 1 naming the first failed cell. Several files run one after the other,
each in a fresh namespace. pyplot uses the Agg backend unless MPLBACKEND is set."""

CELL_MARK = re.compile(r"^# ?%%")

# (pattern in the error, the fix): the book's pandas lines that pandas 2 and 3 refuse
PANDAS_HINTS = [
    (re.compile(r"Cannot perform reduction 'mean'|Could not convert .* to numeric"),
     "pandas >= 2 no longer skips text columns in mean(), and pandas 3 keeps text as 'str', "
     "not 'object': write df.mean(numeric_only=True), or pick the numeric columns with "
     "df.select_dtypes('number').columns"),
    (re.compile(r"can't convert np\.ndarray of type numpy\.object_"),
     "pandas >= 2 get_dummies makes bool columns, which torch.tensor refuses next to floats: "
     "write pd.get_dummies(..., dtype=float)"),
]


@dataclass
class Cell:
    number: int     # 1, 2, ... over the code cells
    source: str
    line: int | None = None  # first line in a .py file


@dataclass
class CellResult:
    cell: Cell
    ok: bool
    seconds: float
    error: str | None = None
    hint: str | None = None
    figures: list = field(default_factory=list)


def read_cells(path):
    """The code cells of a notebook (nbformat) or of a ``.py`` file split at ``# %%``."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{path} is not a file; give a .ipynb notebook or a .py script")
    if path.suffix == ".ipynb":
        import nbformat

        try:
            nb = nbformat.read(path, as_version=4)
        except Exception as e:  # nbformat raises several types for a broken file
            raise D2LError(f"{path} is not a readable notebook ({type(e).__name__}: "
                           f"{str(e).splitlines()[0] if str(e) else ''}); check the file") from None
        sources = [c.source for c in nb.cells if c.cell_type == "code"]
        return [Cell(i, s) for i, s in enumerate((s for s in sources if s.strip()), 1)]
    if path.suffix == ".py":
        cells, lines, start = [], [], 1
        for n, text in enumerate(path.read_text().splitlines(), 1):
            if CELL_MARK.match(text):
                if "".join(lines).strip():
                    cells.append(Cell(len(cells) + 1, "\n".join(lines), start))
                lines, start = [], n + 1
            else:
                lines.append(text)
        if "".join(lines).strip():
            cells.append(Cell(len(cells) + 1, "\n".join(lines), start))
        return cells
    raise UsageError(f"{path} is neither a .ipynb notebook nor a .py script")


def hint_for(error_text):
    """The fix for a known pandas-2/3 failure of the book's code, or ``None``."""
    for pattern, hint in PANDAS_HINTS:
        if pattern.search(error_text):
            return hint
    return None


def one_line(exc):
    text = " ".join(str(exc).split())
    if len(text) > 300:
        text = text[:297] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class CellTimeout(Exception):
    pass


def _make_shell(debug=False):
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False  # no history database in ~/.ipython
    shell = InteractiveShell.instance(config=config, colors="nocolor")
    if not debug:  # the runner reports errors itself, in one line
        shell.showtraceback = lambda *args, **kwargs: None

    def matplotlib_magic(line):
        """%matplotlib: figures are written as PNGs after each cell instead."""

    shell.register_magic_function(matplotlib_magic, "line", "matplotlib")
    return shell


def save_figures(out, prefix):
    """Write every open pyplot figure to ``out/prefix-N.png`` and close it; return the paths."""
    if "matplotlib.pyplot" not in sys.modules:
        return []
    import matplotlib.pyplot as plt

    from ..utils.io import atomic_path

    paths = []
    for k, num in enumerate(plt.get_fignums(), 1):
        path = Path(out) / f"{prefix}-{k}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            # bbox "tight", as Jupyter's inline backend shows it (titles above small axes)
            plt.figure(num).savefig(tmp, format="png", dpi=120, bbox_inches="tight")
        paths.append(path)
    plt.close("all")
    return paths


def run_cells(cells, out, stem, timeout=None, say=print, debug=False):
    """Run ``cells`` in one IPython namespace; return a :class:`CellResult` per cell.

    With ``debug``, IPython prints each failed cell's full traceback as well.
    """
    from . import classic, redirect

    shell = _make_shell(debug)
    if shell.execution_count > 1:  # a file before this one in the same process
        import matplotlib

        shell.reset(new_session=False)  # a fresh namespace, as a new kernel would have
        matplotlib.rc_file_defaults()
    results = []

    def on_alarm(signum, frame):
        raise CellTimeout(f"the cell ran past --timeout {timeout:g} s")

    old_handler = signal.signal(signal.SIGALRM, on_alarm) if timeout else None
    try:
        classic.written_pngs.clear()
        with redirect():
            for cell in cells:
                prefix = f"{stem}-cell{cell.number:02d}"
                classic.png_prefix["value"] = prefix
                start = time.perf_counter()
                if timeout:
                    signal.setitimer(signal.ITIMER_REAL, timeout)
                try:
                    result = shell.run_cell(cell.source, store_history=True)
                finally:
                    if timeout:
                        signal.setitimer(signal.ITIMER_REAL, 0)
                seconds = time.perf_counter() - start
                error = result.error_before_exec or result.error_in_exec
                if isinstance(error, KeyboardInterrupt):
                    raise error
                figures = save_figures(out, prefix)
                classic.save_unfinished_animators(out, prefix)
                figures += classic.written_pngs
                classic.written_pngs.clear()
                r = CellResult(cell, error is None, seconds, figures=figures)
                if error is not None:
                    r.error = one_line(error)
                    r.hint = hint_for(r.error)
                results.append(r)
                where = f" (line {cell.line})" if cell.line else ""
                status = "ok" if r.ok else "FAILED"
                say(f"cell {cell.number}/{len(cells)}{where}: {status} {seconds:.2f} s"
                    + "".join(f", {p}" for p in figures)
                    + (f"\n  {r.error}" if r.error else "")
                    + (f"\n  hint: {r.hint}" if r.hint else ""))
    finally:
        classic.png_prefix["value"] = None
        if timeout:
            signal.signal(signal.SIGALRM, old_handler)
    return results


def run_file(path, out, timeout=None, say=print, debug=False):
    """Run a notebook or script from its own folder; return the per-cell results."""
    from ..utils.data import data_root

    path, out = Path(path).resolve(), Path(out).resolve()
    cells = read_cells(path)
    if not cells:
        raise UsageError(f"{path} has no code cells")
    if "MPLBACKEND" not in os.environ:
        import matplotlib

        matplotlib.use("Agg")
    old_env = {k: os.environ.get(k) for k in ("D2LNOTES_DATA", "D2LNOTES_BOOK_OUT")}
    # The data folder is resolved before the move into the file's folder.
    os.environ["D2LNOTES_DATA"] = str(data_root().resolve())
    os.environ["D2LNOTES_BOOK_OUT"] = str(out)
    old_cwd, old_path0 = os.getcwd(), list(sys.path)
    os.chdir(path.parent)
    sys.path.insert(0, str(path.parent))
    try:
        return run_cells(cells, out, path.stem, timeout, say, debug)
    finally:
        os.chdir(old_cwd)
        sys.path[:] = old_path0
        for k, v in old_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def main(argv):
    from ..utils import cli

    parser = cli.Parser(prog="python -m d2lnotes book", description=DESCRIPTION,
                        formatter_class=cli.argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", type=Path, nargs="+",
                        help="a .ipynb notebook, or a .py file split into cells at '# %%%%' "
                             "lines; several run one after the other, each in a fresh "
                             "namespace, in one process")
    parser.add_argument("--out", type=Path, default=Path("d2lnotes-out") / "book",
                        help="folder for the PNG figures (default d2lnotes-out/book)")
    parser.add_argument("--timeout", type=cli.positive_float, default=None, metavar="S",
                        help="stop a cell that runs longer than S seconds (default: no limit)")
    parser.add_argument("--debug", action="store_true",
                        help="also print each failed cell's full traceback")
    cli.add_threads_option(parser)
    args = parser.parse_args(argv)
    cli.apply_threads(args)
    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"--out {args.out} is a file, not a folder; choose another path")
    cli._check_writable_dir(args.out, "--out")

    for path in args.path:
        read_cells(path)  # every file readable before anything runs
    start = time.perf_counter()
    failed, totals = [], [0, 0, 0]  # cells, failed, figures
    for path in args.path:
        if len(args.path) > 1:
            print(f"== {path}", flush=True)
        file_start = time.perf_counter()
        results = run_file(path, args.out, args.timeout,
                           say=lambda *a: print(*a, flush=True), debug=args.debug)
        bad = [r for r in results if not r.ok]
        failed += [(path, r) for r in bad]
        figures = sum(len(r.figures) for r in results)
        totals = [totals[0] + len(results), totals[1] + len(bad), totals[2] + figures]
        print(f"{len(results)} cells, {len(results) - len(bad)} ok, {len(bad)} failed; "
              f"{figures} figures in {args.out}; {time.perf_counter() - file_start:.1f} s",
              flush=True)
    if len(args.path) > 1:
        cells, bad, figures = totals
        print(f"{len(args.path)} files: {cells} cells, {cells - bad} ok, {bad} failed; "
              f"{figures} figures in {args.out}; {time.perf_counter() - start:.1f} s", flush=True)
    if failed:
        path, first = failed[0]
        where = f" (line {first.cell.line})" if first.cell.line else ""
        more = f" ({len(failed) - 1} more failed after it)" if len(failed) > 1 else ""
        hint = f"; hint: {first.hint}" if first.hint else ""
        raise D2LError(f"{path}: cell {first.cell.number}{where} failed: "
                       f"{first.error}{hint}{more}")
    return 0
