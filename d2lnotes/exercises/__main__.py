"""``python -m d2lnotes exercises``: list the answered exercises, or run one section's answers."""

import re
import sys
import time
from pathlib import Path

from ..utils import cli
from ..utils.errors import UsageError

DESCRIPTION = """\
The book's end-of-section exercises, answered by code that runs. Without a section,
list the sections and how many exercises each has. With one (3.6, or one exercise:
3.6.1), compute and print its answers; a figure, where a picture answers better, is
written as a PNG into --out. Numbers are the classic English edition's (0.17) unless
--edition says zh (the Chinese 2nd edition) or 1.0 (d2l.ai today). Every answer has a
test in tests/test_exercises_chN.py that recomputes and asserts its claim."""

SECTION = re.compile(r"\d+\.\d+(\.\d+)?")


def build_parser():
    parser = cli.Parser(prog="python -m d2lnotes exercises", description=DESCRIPTION)
    parser.add_argument("section", nargs="?",
                        help="a section (3.6) or one exercise (3.6.1); omit it to list them")
    parser.add_argument("--edition", choices=["classic", "zh", "1.0"], default="classic",
                        help="whose numbers: classic (English 0.17, default), zh (Chinese 2nd "
                             "edition) or 1.0 (d2l.ai)")
    parser.add_argument("--seed", type=cli.seed_int, default=0,
                        help="random seed from 0 to 2**32-1 for the experiments (default 0)")
    parser.add_argument("--out", type=Path, default=Path("d2lnotes-out") / "exercises",
                        help="folder for the PNG figures (default d2lnotes-out/exercises)")
    parser.add_argument("--no-plots", action="store_true", help="write no PNG files")
    parser.add_argument("--quiet", action="store_true",
                        help="print only the time per section, not the answers")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH",
                        help="write {\"exercises\": [...]} to this file ('-': standard output)")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback when something goes wrong")
    return parser


def _section_of(number):
    return number.rsplit(".", 1)[0]


def list_sections(exercises, edition):
    """``{section: count}`` in book order, for the numbers of ``edition``."""
    counts = {}
    for ex in exercises:
        section = _section_of(ex.number(edition))
        counts[section] = counts.get(section, 0) + 1
    return counts


def chosen(section, edition):
    """The exercises of ``section`` in ``edition``'s numbers; UsageError if there are none."""
    from . import select

    if section is not None and not SECTION.fullmatch(section):
        raise UsageError(f"section must look like 3.6 or 3.6.1, got {section!r}; run "
                         "'python -m d2lnotes exercises' for the list")
    exercises = select(section, edition)
    if not exercises:
        sections = ", ".join(list_sections(select(None, edition), edition))
        raise UsageError(f"no answered exercise is numbered {section} in the {edition} "
                         f"edition; its sections are {sections}")
    return exercises


def main(argv=None):
    args = build_parser().parse_args(argv)
    cli.prepare_outputs(args, out_used=not args.no_plots and args.section is not None)

    from . import Answers
    from .core import EDITIONS

    exercises = chosen(args.section, args.edition)
    if args.section is None and args.json is None:
        print(f"Answered exercises, {args.edition} numbering "
              "(python -m d2lnotes exercises SECTION):\n")
        for section, count in list_sections(exercises, args.edition).items():
            print(f"  §{section:<5} {count:2d} exercise{'s' * (count != 1)}")
        print(f"\n{len(exercises)} in all; --edition zh or 1.0 for those editions' numbers")
        return 0

    from ..utils import plot

    say = (lambda *a: None) if args.quiet else print
    pairs = []
    by_section = {}
    for ex in exercises:
        by_section.setdefault(_section_of(ex.number(args.edition)), []).append(ex)
    for section, members in by_section.items():
        start = time.perf_counter()
        answered = [(ex, ex.answer(seed=args.seed)) for ex in members]
        seconds = time.perf_counter() - start
        pairs += answered
        say(f"§{section}\n")
        for ex, answer in answered:
            others = [f"{name} {ex.number(name)}" for name in EDITIONS
                      if name != args.edition and ex.number(name)]
            say(f"{ex.number(args.edition)} ({ex.kind}; {', '.join(others) or 'only here'}) "
                f"{ex.question}\n  {answer.answer}\n  test: {ex.test}")
            if answer.figure is not None and not args.no_plots:
                path = plot.save(answer.figure, args.out / f"{ex.classic.replace('.', '_')}.png")
                say(f"  figure: {path}")
            say()
        print(f"§{section}: {len(answered)} answer{'s' * (len(answered) != 1)} in "
              f"{seconds:.2f} s")
    if args.json is not None:
        from ..utils.io import write_json

        write_json(args.json, Answers(pairs, args.edition).to_json())
        if str(args.json) != "-":
            print(f"answers: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main))
