"""``python -m d2lnotes``: list the chapters and what each command runs."""

import sys

from . import CHAPTERS, __version__


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] not in ("-h", "--help"):
        print(f"error: unknown command {argv[0]!r}; run 'python -m d2lnotes' for the list",
              file=sys.stderr)
        return 2
    print(f"d2lnotes {__version__}: Dive into Deep Learning, chapters 2-4, scratch and concise\n")
    for name, what in CHAPTERS.items():
        print(f"  python -m d2lnotes.{name:<4} {what}")
    print("\nEach command takes --help.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
