"""``python -m d2lnotes``: list the chapters; ``show``: compare the code; ``book``: run the book."""

import os
import shutil
import sys

from . import CHAPTERS, __version__

SHOW_DESCRIPTION = """\
Print the scratch and the concise code of a topic side by side, read from the
package's own source. Without a topic, list the topics. The layout fits the
terminal (or $COLUMNS, or --width): two columns when there is room, otherwise
the scratch code above the concise code."""

MAX_WIDTH = 1000


def show_main(argv):
    """``python -m d2lnotes show [topic]``."""
    from .utils import cli

    parser = cli.Parser(prog="python -m d2lnotes show", description=SHOW_DESCRIPTION)
    parser.add_argument("topic", nargs="?", help="e.g. ch3.softmax; omit it to list the topics")
    parser.add_argument("--width", type=cli.int_in(1, MAX_WIDTH), default=None,
                        help=f"characters per line, at most {MAX_WIDTH} (default: the "
                             "terminal's width, or $COLUMNS)")
    parser.add_argument("--layout", choices=["auto", "columns", "stacked"], default="auto",
                        help="two columns, one side above the other, or auto by width "
                             "(default auto)")
    parser.add_argument("--color", choices=["auto", "always", "never"], default="auto",
                        help="syntax colours; auto: only on a terminal and without $NO_COLOR")
    args = parser.parse_args(argv)

    from .study import show

    shown = show(args.topic)
    if args.topic is None:
        print("Topics (python -m d2lnotes show TOPIC):\n")
        print(shown)
        return 0
    color = args.color == "always" or (
        args.color == "auto" and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        and os.environ.get("TERM") != "dumb")
    # A huge $COLUMNS is clamped like --width: each row is padded to the full width.
    width = min(args.width or shutil.get_terminal_size().columns, MAX_WIDTH)
    print(shown.render(width, color=color, layout=args.layout))
    return 0


# `python -m d2lnotes ch3 ...` runs the same command as `python -m d2lnotes.ch3 ...`.
COMMANDS = {"ch2": "d2lnotes.ch2.__main__", "ch3": "d2lnotes.ch3.__main__",
            "ch4": "d2lnotes.ch4.__main__", "bench": "d2lnotes.bench"}


def run_command(name, argv):
    """Run the command ``name`` (a key of :data:`COMMANDS`) on ``argv``; return its status."""
    import importlib

    from .utils import cli

    if name not in COMMANDS:
        chapters = ", ".join(c for c in COMMANDS if c.startswith("ch"))
        # The 1.0 edition's Chapter 5 (MLPs) is the classic Chapter 4, which d2lnotes follows.
        hint = "; the 1.0 edition's Chapter 5 (MLPs) is ch4 here" if name == "ch5" else ""
        print(f"error: d2lnotes covers the classic edition's chapters 2-4 ({chapters}), not "
              f"{name}{hint}; to run the book's own code, use the drop-in: "
              "python -m d2lnotes book PATH", file=sys.stderr)
        return 2
    return cli.run(importlib.import_module(COMMANDS[name]).main, argv)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "book":
        from .book.run import main as book_main
        from .utils import cli

        return cli.run(book_main, argv[1:])
    if argv and argv[0] in ("show", "check", "exercises"):
        from .utils import cli

        try:
            if argv[0] == "check":
                from .check import main as check_main

                return check_main(argv[1:])
            if argv[0] == "exercises":
                from .exercises.__main__ import main as exercises_main

                return cli.run(exercises_main, argv[1:])
            return cli.run(show_main, argv[1:])
        except BrokenPipeError:  # e.g. piped into head: stop quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
    if argv and (argv[0] in COMMANDS or argv[0][:2] == "ch" and argv[0][2:].isdigit()):
        return run_command(argv[0], argv[1:])
    if argv and argv[0] not in ("-h", "--help"):
        print(f"error: unknown command {argv[0]!r}; run 'python -m d2lnotes' for the list",
              file=sys.stderr)
        return 2
    print(f"d2lnotes {__version__}: Dive into Deep Learning, chapters 2-4, scratch and concise\n")
    commands = {f"python -m d2lnotes.{name}": what for name, what in CHAPTERS.items()}
    commands["python -m d2lnotes show"] = ("read scratch and concise code side by side "
                                           "(list topics; show TOPIC)")
    commands["python -m d2lnotes check"] = ("check your own scratch function against the "
                                            "book's (list topics; check TOPIC FILE.py:FN)")
    commands["python -m d2lnotes book PATH"] = ("run the book's own notebook or .py cells on "
                                                "d2lnotes (from d2l import torch as d2l)")
    commands["python -m d2lnotes exercises"] = ("the book's exercises answered and tested "
                                                "(list sections; exercises 3.6)")
    width = max(map(len, commands))
    for command, what in commands.items():
        print(f"  {command:<{width}}  {what}")
    print("\nEach command takes --help; 'python -m d2lnotes ch3 ...' is 'python -m d2lnotes.ch3 "
          "...'.\nSections are the classic edition's (English 0.17, Chinese 2nd edition); "
          "'show' lists the 1.0 edition's too.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
