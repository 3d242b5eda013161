"""``python -m d2lnotes book PATH.ipynb|PATH.py``: run the book's cells on d2lnotes.

The cells run in order, in one namespace, in an IPython shell (so ``%matplotlib inline``
and the other magics parse), with the working directory set to the file's folder, as
Jupyter does. Within the run only, ``from d2l import torch as d2l`` gives ``d2lnotes.d2l``.
After each cell every open pyplot figure (and every figure passed to ``display()``) is written
to ``--out`` as a PNG and closed, as Jupyter's inline backend shows and closes it
(:mod:`d2lnotes.book.figures` keeps the names and the list). A :class:`Watchdog` thread holds
``--timeout`` and the stop signals against cells that catch every exception.
"""

import contextlib
import os
import re
import signal
import sys
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from ..utils.errors import D2LError, UsageError

DESCRIPTION = """\
Run a notebook (.ipynb) or a script split into cells at '# %%' lines (.py) cell by cell,
in one namespace, in the file's folder, with 'from d2l import torch as d2l' resolved to
d2lnotes.d2l. Prints each cell's status and seconds (cells numbered as the file's '# %%'
markers number them; code before the first one is cell 0), writes every figure as a PNG
into --out, and exits 1 naming the first failed cell. Several files run one after the
other, each in a fresh namespace, with the modules of its own folder. pyplot uses the Agg
backend unless MPLBACKEND is set. torchvision's FashionMNIST(root, download=True) finds
d2lnotes' own verified copy (linked into root) instead of downloading."""

CELL_MARK = re.compile(r"^# ?%%")

# (pattern in the error, the fix): the book's pandas lines that pandas 2 and 3 refuse, and the
# 1.0 edition's source cells without their first line
HINTS = [
    (re.compile(r"NameError: name 'tab' is not defined"),
     "the 1.0 edition's source cells use tab.selected(...) and %%tab: start the file with "
     "'%load_ext d2lnotes.book' (or the sources' own '%load_ext d2lbook.tab')"),
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
    number: int     # as the file numbers it: the markers of a .py file (0 before the first)
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
    """The code cells of a notebook (nbformat) or of a ``.py`` file split at ``# %%``.

    A ``.py`` file's cells are numbered as its markers number them: the code before the first
    marker is cell 0 (a block of comments there is no cell), and a file without markers is
    cell 1. A notebook's code cells are numbered in order, empty ones included.
    """
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{path} is not a file; give a .ipynb notebook or a .py script")
    if path.suffix == ".ipynb":
        return _notebook_cells(path)
    if path.suffix == ".py":
        return _py_cells(path)
    raise UsageError(f"{path} is neither a .ipynb notebook nor a .py script")


def _notebook_cells(path):
    import json

    import nbformat

    try:
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
        if not isinstance(raw, dict) or "nbformat" not in raw:
            raise ValueError("no 'nbformat' version field")
        nb = nbformat.from_dict(raw)
        nb = nbformat.convert(nb, 4) if nb.nbformat != 4 else nb
    except OSError as e:
        raise D2LError(f"cannot read {path}: {e.strerror or e}; check its permissions") from None
    except Exception as e:  # json and nbformat raise several types for a broken file
        raise D2LError(f"{path} is not a readable notebook ({type(e).__name__}: "
                       f"{str(e).splitlines()[0] if str(e) else ''}); check the file") from None
    kernel = nb.metadata.get("kernelspec") or {}
    language = kernel.get("language") or (nb.metadata.get("language_info") or {}).get("name")
    if isinstance(language, str) and language.lower() != "python":
        raise D2LError(f"{path} is a notebook in {language} (kernel {kernel.get('name')!r}); "
                       "d2lnotes runs the book's Python code")
    cells = []
    for number, cell in enumerate((c for c in nb.cells if c.get("cell_type") == "code"), 1):
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(line, str) for line in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise D2LError(f"{path}: code cell {number}'s source is a {type(source).__name__}, "
                           "not text or a list of lines; check the file")
        if source.strip():
            cells.append(Cell(number, source))
    return cells


def _py_cells(path):
    import tokenize

    try:
        with tokenize.open(path) as f:  # what python reads: a coding line, a BOM, else UTF-8
            text = f.read()
    except (SyntaxError, UnicodeDecodeError) as e:
        reason = e.msg if isinstance(e, SyntaxError) else str(e)
        raise D2LError(f"{path} is not readable as Python source ({reason}); save it as "
                       "UTF-8, or declare its encoding in a '# -*- coding: ... -*-' line") from None
    except OSError as e:
        raise D2LError(f"cannot read {path}: {e.strerror or e}; check its permissions") from None
    lines = text.splitlines()
    marks = [n for n, line in enumerate(lines) if CELL_MARK.match(line)]
    if not marks:
        return [Cell(1, text, 1)] if text.strip() else []
    cells = []
    lead = lines[:marks[0]]
    if any(line.strip() and not line.lstrip().startswith("#") for line in lead):
        cells.append(Cell(0, "\n".join(lead), 1))
    for number, (mark, end) in enumerate(zip(marks, marks[1:] + [len(lines)]), 1):
        body = lines[mark + 1:end]
        if "".join(body).strip():
            cells.append(Cell(number, "\n".join(body), mark + 2))
    return cells


def hint_for(error_text):
    """The fix for a known failure of the book's code (pandas 2/3, ``tab``), or ``None``."""
    for pattern, hint in HINTS:
        if pattern.search(error_text):
            return hint
    return None


def one_line(exc):
    text = " ".join(str(exc).split())
    if len(text) > 300:
        text = text[:297] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# How long a cell has to end after its --timeout or a stop signal, before the run ends without it
GRACE_S = 2.0
# How often the stop is raised again in a cell that caught it
REPEAT_S = 0.1
# --timeout's range: 10 ms to 11 days; beyond it the clocks and timers overflow
TIMEOUT_RANGE = (0.01, 1e6)


def timeout_seconds(text):
    """argparse type for ``--timeout``: a number of seconds in :data:`TIMEOUT_RANGE`."""
    import argparse

    low, high = TIMEOUT_RANGE
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not low <= value <= high:  # nan included
        raise argparse.ArgumentTypeError(f"must be from {low:g} to {high:g} seconds, got {text}")
    return value


class CellTimeout(BaseException):
    """A cell ran past ``--timeout``: a ``BaseException``, so ``except Exception`` passes it on."""


class Watchdog:
    """Stops the running cell at its ``--timeout``, or on SIGTERM, SIGHUP or a second Ctrl-C.

    The stop is raised in the cell, and again every ``REPEAT_S`` while the cell runs, so a cell
    that catches it or turns a timer off still ends. A cell still running ``GRACE_S`` after the
    first raise ends the run: one line on stderr, and exit status 1 (timeout), 143 (SIGTERM),
    129 (SIGHUP) or 130 (Ctrl-C). A thread keeps the time: a cell cannot disarm it.
    """

    def __init__(self, timeout=None):
        self.timeout = timeout
        self.cond = threading.Condition()
        self.where = None  # "path: cell N (line L)" while a cell runs
        self.deadline = None
        self.stop = None  # (make the exception, exit status, what happened) once it must end
        self.since = None
        self.interrupts = 0
        self.closed = False
        self.on_alarm = self._on_alarm  # one bound method, so that the thread can recognise it
        self.thread = threading.Thread(target=self._watch, name="d2lnotes-watchdog", daemon=True)

    def __enter__(self):
        self.saved = {sig: signal.signal(sig, handler) for sig, handler in (
            (signal.SIGALRM, self.on_alarm), (signal.SIGTERM, self._on_signal),
            (signal.SIGHUP, self._on_signal), (signal.SIGINT, self._on_signal))}
        self.thread.start()
        return self

    def __exit__(self, *exc):
        with self.cond:
            self.closed = True
            self.cond.notify()
        for sig, handler in self.saved.items():
            signal.signal(sig, handler)
        return False

    def arm(self, where):
        """A cell starts: its clock starts."""
        with self.cond:
            self.where, self.stop, self.since = where, None, None
            self.deadline = time.monotonic() + self.timeout if self.timeout else None
            self.cond.notify()

    def disarm(self):
        """The cell ended; return the stop it was given, or ``None``."""
        self.where = None
        with self.cond:
            stop, self.stop = self.stop, None
            self.cond.notify()
        return stop

    def _watch(self):
        with self.cond:
            while not self.closed:
                now = time.monotonic()
                if self.where is None or (self.stop is None and (
                        self.deadline is None or now < self.deadline)):
                    wait = None if self.where is None or self.deadline is None else \
                        self.deadline - now
                    self.cond.wait(wait)
                    continue
                if self.stop is None:
                    self.stop = (lambda: CellTimeout(
                        f"the cell ran past --timeout {self.timeout:g} s"), 1,
                        f"ran past --timeout {self.timeout:g} s")
                    self.since = now
                elif now - self.since > GRACE_S:
                    self._end_the_run()
                # a cell that replaced the handler gets no signal (SIGALRM's default would
                # kill the process without a word); the grace period still ends it
                if signal.getsignal(signal.SIGALRM) is self.on_alarm:
                    signal.pthread_kill(threading.main_thread().ident, signal.SIGALRM)
                self.cond.wait(REPEAT_S)

    def _end_the_run(self):
        _, status, what = self.stop
        with_flush(sys.stdout)
        print(f"error: {self.where} {what} and did not stop within {GRACE_S:g} s; the run "
              "ends here", file=sys.stderr, flush=True)
        os._exit(status)

    def _on_alarm(self, signum, frame):
        stop = self.stop
        if self.where is not None and stop is not None:
            raise stop[0]()

    def _on_signal(self, signum, frame):
        from ..utils.cli import Terminated

        if signum == signal.SIGINT:
            self.interrupts += 1
            make, status, what = KeyboardInterrupt, 130, "was interrupted"
            if self.interrupts == 1 or self.where is None:
                raise make()  # the first Ctrl-C is the cell's to handle, as in Jupyter
        else:
            status, what = 128 + signum, f"was stopped by {signal.Signals(signum).name}"

            def make():
                return Terminated(signum)
        if self.where is None:
            raise make()
        with self.cond:
            if self.stop is None or self.stop[1] == 1:  # a signal outranks a timeout
                self.stop, self.since = (make, status, what), time.monotonic()
            self.cond.notify()
        raise make()


def with_flush(stream):
    """Flush ``stream``, ignoring a closed or broken one."""
    try:
        stream.flush()
    except (OSError, ValueError):
        pass


def _make_shell(debug=False):
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    from . import figures

    config = Config()
    config.HistoryManager.enabled = False  # no history database in ~/.ipython
    shell = InteractiveShell.instance(config=config, colors="nocolor")
    if not debug:  # the runner reports errors itself, in one line
        shell.showtraceback = lambda *args, **kwargs: None
        shell.showsyntaxerror = lambda *args, **kwargs: None
    # IPython 9 formats every failed cell's traceback for its history, with stack_data reading
    # each frame's source: 8 s for one pandas error on a busy machine. Nothing reads it here.
    shell._format_exception_for_storage = lambda exception, *args, **kwargs: {
        "ename": type(exception).__name__, "evalue": str(exception), "traceback": []}

    def matplotlib_magic(line):
        """%matplotlib: figures are written as PNGs after each cell instead."""

    shell.register_magic_function(matplotlib_magic, "line", "matplotlib")
    # display(fig) in a terminal: the figure becomes a PNG after the cell, not its repr
    # ("<Figure size 350x250 with 1 Axes>"); clear_output(wait=True) after it, the book's
    # animation idiom, prints the points just drawn instead of terminal codes
    shell.display_formatter.ipython_display_formatter.for_type_by_name(
        "matplotlib.figure", "Figure", figures.shown)
    shell.display_pub.clear_output = lambda wait=False: figures.frame_done()
    return shell


def run_cells(cells, out, stem, timeout=None, say=print, debug=False, label=None):
    """Run ``cells`` in one IPython namespace; return a :class:`CellResult` per cell.

    With ``debug``, IPython prints each failed cell's full traceback as well.
    ``label`` names the file in the line that ends a run whose cell will not stop.
    """
    from . import figures, redirect

    label = label or stem
    shell = _make_shell(debug)
    if shell.execution_count > 1:  # a file before this one in the same process
        import matplotlib

        shell.reset(new_session=False)  # a fresh namespace, as a new kernel would have
        matplotlib.rc_file_defaults()
    # exit() and quit(n) end the cell as sys.exit(n) does (IPython's own need a kernel)
    shell.user_ns.update(exit=_exit, quit=_exit)
    results = []
    watchdog = Watchdog(timeout) if threading.current_thread() is threading.main_thread() \
        else contextlib.nullcontext()
    try:
        figures.take_written()
        with redirect(), watchdog, _extensions_of_this_file(shell), warnings.catch_warnings():
            # IPython's advice after SystemExit ("To exit: use 'exit', ...") is for a console
            warnings.filterwarnings("ignore", message="To exit: use")
            for cell in cells:
                prefix = f"{stem}-cell{cell.number:02d}"
                figures.set_cell(prefix)
                where = f" (line {cell.line})" if cell.line else ""
                start = time.perf_counter()
                result, stop = _run_one(shell, cell.source, watchdog, f"{label}: cell "
                                        f"{cell.number}{where}")
                seconds = time.perf_counter() - start
                error = result.error_before_exec or result.error_in_exec if result else None
                if stop is not None and stop[1] != 1:  # a stop signal the cell swallowed
                    raise stop[0]()
                if isinstance(error, KeyboardInterrupt):
                    raise error
                if stop is not None and not isinstance(error, CellTimeout):
                    error = stop[0]()  # the cell caught its timeout, and ended late
                if isinstance(error, BrokenPipeError):  # nobody reads the output any more
                    raise error
                save_error = _save_figures(out)
                pngs = figures.take_written()
                r = CellResult(cell, error is None and save_error is None, seconds, figures=pngs)
                if error is not None:
                    r.error = one_line(error)
                    r.hint = hint_for(r.error)
                elif save_error is not None:
                    r.error = f"its figure could not be saved: {one_line(save_error)}"
                results.append(r)
                status = "ok" if r.ok else "FAILED"
                say(f"cell {cell.number}/{cells[-1].number}{where}: {status} {seconds:.2f} s"
                    + "".join(f", {p}" for p in pngs)
                    + (f"\n  {r.error}" if r.error else "")
                    + (f"\n  hint: {r.hint}" if r.hint else ""))
    finally:
        figures.set_cell(None)
    return results


def _save_figures(out):
    """Save the cell's figures (recorded in ``figures``); return the first failure, or None.

    Saving belongs to the cell: bad mathtext, a huge figure or an ``--out`` made a file
    fails the cell, not the run.
    """
    from . import figures

    first = None
    for save in (lambda: figures.save_pyplot(out), figures.save_unsaved):
        try:
            save()
        except Exception as e:  # noqa: PERF203
            first = first or e
    return first


@contextlib.contextmanager
def _extensions_of_this_file(shell):
    """Unload the extensions a file's cells loaded when it ends, as a new kernel would not
    have them: the next file's ``%load_ext`` loads them again (``tab`` in every file)."""
    manager = shell.extension_manager
    before = set(manager.loaded)
    try:
        yield
    finally:
        for name in sorted(set(manager.loaded) - before, reverse=True):
            with contextlib.suppress(Exception):  # a broken unload must not hide the results
                manager.unload_extension(name)
            manager.loaded.discard(name)


def _exit(code=None):
    """``exit()``/``quit(n)`` in a cell: ``SystemExit``, which fails the cell."""
    raise SystemExit() if code is None else SystemExit(code)


def _run_one(shell, source, watchdog, where):
    """Run one cell under ``watchdog``; return IPython's result (``None`` if the stop escaped
    IPython itself) and the stop the watchdog gave the cell, if any."""
    result = None
    try:
        try:
            if isinstance(watchdog, Watchdog):
                watchdog.arm(where)
            result = shell.run_cell(source, store_history=True)
        finally:
            stop = watchdog.disarm() if isinstance(watchdog, Watchdog) else None
    except CellTimeout:  # raised between the cell's end and the disarm
        pass
    return result, stop


def run_file(path, out, timeout=None, say=print, debug=False, stem=None):
    """Run a notebook or script from its own folder; return the per-cell results.

    Its PNGs are named ``<stem>-cellNN-...`` (default: the file's stem). The modules that its
    folder provided are forgotten after it, so the next file imports its own.
    """
    from ..utils.data import data_root

    path, out = Path(path).resolve(), Path(out).resolve()
    cells = read_cells(path)
    if not cells:
        raise UsageError(f"{path} has no code cells")
    if "MPLBACKEND" not in os.environ:
        import matplotlib

        matplotlib.use("Agg")
    _import_the_runners_own_modules(debug)  # before the file's folder can shadow them
    old_env = {k: os.environ.get(k) for k in ("D2LNOTES_DATA", "D2LNOTES_BOOK_OUT")}
    # The data folder is resolved before the move into the file's folder.
    os.environ["D2LNOTES_DATA"] = str(data_root().resolve())
    os.environ["D2LNOTES_BOOK_OUT"] = str(out)
    old_cwd, old_path0, old_modules = os.getcwd(), list(sys.path), set(sys.modules)
    os.chdir(path.parent)
    sys.path.insert(0, str(path.parent))
    try:
        return run_cells(cells, out, stem or path.stem, timeout, say, debug, label=str(path))
    finally:
        os.chdir(old_cwd)
        sys.path[:] = old_path0
        _forget_modules_from(path.parent, old_modules)
        for k, v in old_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _import_the_runners_own_modules(debug):
    """IPython, traitlets and the book layer, imported while ``sys.path`` is still the
    runner's: a ``traitlets.py`` or ``bdb.py`` beside a notebook must not replace them."""
    import bdb  # noqa: F401  (IPython imports it in every run_cell)

    from .. import d2l  # noqa: F401  (the redirect's target, and torch)
    from . import fashion, figures, tab  # noqa: F401

    _make_shell(debug).run_cell("pass", store_history=False)  # and what running a cell imports


def _forget_modules_from(folder, old_modules):
    """Drop the modules first imported during the run from ``folder`` (not from a package
    imported before it), as a new kernel would not have them."""
    folder = Path(folder).resolve()
    for name in set(sys.modules) - old_modules:
        if name.partition(".")[0] in old_modules:
            continue
        file = getattr(sys.modules.get(name), "__file__", None)
        if file and Path(file).resolve().is_relative_to(folder):
            sys.modules.pop(name, None)


def png_stems(paths):
    """The PNG name prefix of each file: its stem, ``<folder>-<stem>`` where two files of the
    run share a stem (``a/x.py``, ``b/x.py``), and numbered if that is still not enough."""
    paths = [Path(p).resolve() for p in paths]
    stems = [p.stem for p in paths]
    named = [f"{p.parent.name}-{p.stem}" if stems.count(p.stem) > 1 else p.stem for p in paths]
    return [f"{n}-{k}" if named.count(n) > 1 else n for k, n in enumerate(named, 1)]


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
    parser.add_argument("--timeout", type=timeout_seconds, default=None, metavar="S",
                        help="stop a cell that runs longer than S seconds, 0.01 to 1e6 "
                             "(default: no limit); a cell that will not stop within "
                             f"{GRACE_S:g} s more ends the run")
    parser.add_argument("--debug", action="store_true",
                        help="also print each failed cell's full traceback")
    cli.add_threads_option(parser)
    args = parser.parse_args(argv)
    cli.prepare_outputs(args, out_used=True)  # --out: a writable folder, before anything runs

    for path in args.path:
        read_cells(path)  # every file readable before anything runs
    try:
        status, error = _run_files(args), None
    except BrokenPipeError:  # e.g. piped into head: stop quietly, as `show` does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except D2LError as e:
        status, error = e.exit_code, e
    left = [t.name for t in threading.enumerate()
            if t is not threading.main_thread() and not t.daemon and t.is_alive()]
    if not left:
        if error is not None:
            raise error
        return status
    # Python would wait for them at exit, for ever: say so, and end without them
    if error is not None:
        print(f"error: {error}", file=sys.stderr)
    print(f"note: a cell left {len(left)} thread(s) running ({', '.join(left)}); the run "
          "ends without waiting for them", file=sys.stderr)
    with_flush(sys.stdout)
    with_flush(sys.stderr)
    os._exit(status)


def _run_files(args):
    start = time.perf_counter()
    failed, totals = [], [0, 0, 0]  # cells, failed, figures
    for path, stem in zip(args.path, png_stems(args.path)):
        if len(args.path) > 1:
            print(f"== {path}", flush=True)
        file_start = time.perf_counter()
        results = run_file(path, args.out, args.timeout,
                           say=lambda *a: print(*a, flush=True), debug=args.debug, stem=stem)
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
