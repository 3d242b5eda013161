"""``python -m d2lnotes check TOPIC FILE.py[:FUNCTION]``: check a function from a file.

Exit status: 0 when every property held, 1 when one failed, 2 when nothing could be
checked (a bad command line, a missing file or function, a file that does not run).
"""

import difflib
import runpy
import sys
import time
from pathlib import Path

from ..utils.errors import UsageError
from .core import DEFAULT_EXAMPLES, DEFAULT_TIME_LIMIT
from .names import CHECKS, lookup

DESCRIPTION = """\
Check your own scratch function against the book's: run FILE (a .py file, or a notebook
exported to .py) as a script, without its 'if __name__ == "__main__":' block, pick
FUNCTION (default: the book's name for TOPIC) and call it on inputs that Hypothesis draws,
comparing values and gradients with d2lnotes' own version and the book's conventions.
Without arguments, list the topics. Exit status: 0 passed, 1 failed, 2 could not check."""

EPILOG = "example: python -m d2lnotes check ch3.softmax my_work.py:softmax"
LOAD_TIMES = 10  # running the file may take this many times the limit of one call
RUN_NAME = "__d2lnotes_check__"  # not "__main__": the file's own main block stays off


class _Shell:
    """``get_ipython()`` for a notebook exported to .py: magics do nothing here."""

    def run_line_magic(self, *args, **kwargs):
        return None

    run_cell_magic = system = run_line_magic


def where_to_read(show_topic):
    """``show ch3.softmax``, or the file for a topic that ``show`` has no pair for."""
    from ..editions import PLACES
    from ..study import TOPICS as SHOWN

    return f"show {show_topic}" if show_topic in SHOWN else PLACES[show_topic].code


def listing():
    """The topics, one a line: name, signature, both editions' sections, ``show`` topic."""
    rows = [(c.name, c.signature, f"{c.classic} (1.0: {c.edition_1})",
             where_to_read(c.show_topic)) for c in CHECKS.values()]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [f"  {a:<{widths[0]}}  {b:<{widths[1]}}  {c:<{widths[2]}}  {d}"
             for a, b, c, d in rows]
    return ("Topics (python -m d2lnotes check TOPIC FILE.py[:FUNCTION]); sections are the "
            "classic edition's, then the 1.0 edition's:\n\n" + "\n".join(lines) +
            f"\n\n{EPILOG}\nRead d2lnotes' scratch and concise versions with 'python -m d2lnotes "
            "show TOPIC' (the last column).")


def split_spec(spec, default):
    """``"work.py:softmax"`` -> ``(Path("work.py"), "softmax")``; no name gives ``default``."""
    path, sep, name = spec.rpartition(":")
    if not sep or not name.isidentifier() or not path:
        return Path(spec), default
    return Path(path), name


def load_function(spec, default, load_limit=20.0):
    """Run the file of ``spec`` like a script, within ``load_limit`` seconds; return
    ``(function, its label)``."""
    from ..book import redirect
    from .core import Timeout, limited

    path, name = split_spec(spec, default)
    if not path.is_file():
        where = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise UsageError(f"{path} {where}; give the .py file that defines your function, "
                         f"e.g. my_work.py:{default}")
    source = path.read_text(encoding="utf-8", errors="replace")
    try:
        compile(source, str(path), "exec")
    except SyntaxError as e:
        raise UsageError(f"{path}, line {e.lineno}: {e.msg}; the file must run before its "
                         "functions can be checked") from None
    except ValueError as e:  # e.g. a NUL byte
        raise UsageError(f"{path} is not Python source ({e})") from None

    def run_file():
        with redirect():
            return runpy.run_path(str(path), init_globals={"get_ipython": _Shell},
                                  run_name=RUN_NAME)

    old_argv, old_path = sys.argv, list(sys.path)
    sys.argv = [str(path)]
    sys.path.insert(0, str(path.resolve().parent))
    fix = "fix its top-level code, or move it under 'if __name__ == \"__main__\":'"
    try:
        namespace = limited(run_file, load_limit)
    except KeyboardInterrupt:
        raise
    except Timeout:
        raise UsageError(f"running {path} did not return within {load_limit:g} s; {fix}") \
            from None
    except BaseException as e:  # SystemExit too: the file is the learner's
        raise UsageError(f"running {path} raised {type(e).__name__}: {e}; {fix}") from None
    finally:
        sys.argv, sys.path[:] = old_argv, old_path
    fn = namespace.get(name)
    if fn is None:
        functions = [k for k, v in namespace.items() if callable(v) and not k.startswith("_")
                     and getattr(v, "__module__", None) == RUN_NAME]
        close = difflib.get_close_matches(name, functions, n=3, cutoff=0.5)
        hint = (f"did you mean {' or '.join(close)}? " if close else "") + (
            f"it defines {', '.join(functions)}" if functions else "it defines no functions")
        raise UsageError(f"{path} has no function {name!r}; {hint}")
    if not callable(fn):
        raise UsageError(f"{name} in {path} is a {type(fn).__name__}, not a function")
    return fn, f"{path.name}:{name}"


def time_all(max_examples):
    """Check d2lnotes' own twin of every topic; print the seconds each check takes.

    Wall-clock seconds, and the CPU seconds of this process: on a shared machine the
    first grows with the load, the second much less.
    """
    from . import check
    from .topics import TOPICS

    print(f"seconds per check of d2lnotes' own functions ({max_examples} random inputs "
          "besides the edge cases), wall clock and CPU:")
    total = cpu_total = 0.0
    width = max(map(len, TOPICS))
    for name, topic in TOPICS.items():
        start, cpu = time.perf_counter(), time.process_time()
        result = check(name, topic.twin, max_examples=max_examples)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        total, cpu_total = total + seconds, cpu_total + cpu
        print(f"  {name:<{width}}  {seconds:5.2f} s  {cpu:5.2f} s CPU  "
              f"{'passed' if result else 'FAILED'}")
    print(f"  {'all':<{width}}  {total:5.2f} s  {cpu_total:5.2f} s CPU")
    return 0


def main(argv):
    from ..utils import cli

    parser = cli.Parser(prog="python -m d2lnotes check", description=DESCRIPTION,
                        epilog=EPILOG)
    parser.add_argument("topic", nargs="?", help="e.g. ch3.softmax; omit it to list the topics")
    parser.add_argument("function", nargs="?", metavar="FILE.py[:FUNCTION]",
                        help="the file, and the function in it (default: the book's name)")
    parser.add_argument("--examples", type=cli.int_in(1, 10_000), default=DEFAULT_EXAMPLES,
                        help=f"random inputs per check, besides the fixed edge cases "
                             f"(default {DEFAULT_EXAMPLES})")
    parser.add_argument("--time-limit", type=cli.positive_float, default=DEFAULT_TIME_LIMIT,
                        help=f"seconds per call of your function (default "
                             f"{DEFAULT_TIME_LIMIT:g}); running the file may take "
                             f"{LOAD_TIMES} times as long")
    parser.add_argument("--time", action="store_true",
                        help="time the check of every topic on d2lnotes' own functions")
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help (0) or a usage error (2), already printed
        return e.code
    if args.time:
        return time_all(args.examples)
    if args.topic is None:
        print(listing())
        return 0
    try:
        name = lookup(args.topic)
        if args.function is None:
            raise UsageError(f"which function? give the file that defines it, e.g. python -m "
                             f"d2lnotes check {name} my_work.py:{CHECKS[name].function}")
        fn, label = load_function(args.function, CHECKS[name].function,
                                  LOAD_TIMES * args.time_limit)
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    from . import check

    result = check(name, fn, max_examples=args.examples, time_limit=args.time_limit)
    result.fn_name = label
    print(result)
    if not result:
        where = where_to_read(CHECKS[name].show_topic)
        print("\nd2lnotes' own version: " +
              (f"python -m d2lnotes {where}" if where.startswith("show ") else where))
    return 0 if result else 1
