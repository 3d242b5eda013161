"""``python -m d2lnotes.ch2``: the preliminaries as a tour in which every value is checked;
the sections of ``d2lnotes.ch2.TOPICS``, run by ``utils.topics.drive``."""

import sys

from ..editions import PLACES
from ..utils import cli, topics
from . import SECTION_ALIASES, SECTIONS, TOPICS

DESCRIPTION = """\
Chapter 2 of Dive into Deep Learning as a tour, in the book's order. Each line shows
a value and a check computed against it (the book's printed value, a closed form, or
the twin computed the other way), ending in True or False. The command exits with status 1 if any
check is False. Chapter 2's sections have the same numbers in the classic edition
(which d2lnotes' chapters follow) and in the 1.0 edition.

{}
Plots: tangent_line.png (calculus) and die_convergence.png (sampling) in --out.
--device places the autograd and linear-algebra tensors; the rest runs on the CPU.
"""


def build_parser():
    rows = [(t.name, [f"{', '.join(PLACES[k].classic for k in (*t.also, t.key))} {t.lines()[0]}",
                      *t.lines()[1:]]) for t in TOPICS.values()]
    parser = cli.Parser(prog="python -m d2lnotes.ch2",
                        description=DESCRIPTION.format(topics.listing(rows, 14)),
                        formatter_class=cli.argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--section", choices=SECTIONS, default=None,
                        type=lambda name: SECTION_ALIASES.get(name, name),
                        help="run only this section (default: all, in the book's teaching "
                             "order); probability is sampling")
    cli.add_common_options(parser, "ch2")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    device = cli.resolve_device(args.device)
    cli.prepare_outputs(args)
    from ..utils.data import data_root

    names = [args.section] if args.section else list(SECTIONS)
    run = topics.Run.from_args(args, device, data_dir=data_root(args.data_dir))
    done = topics.drive([TOPICS[name] for name in names], run, between=run.say)
    checks = [(name, c) for name, r in done.results.items() for c in r["checks"]]
    failed = [f"{name}: {c['label']}" for name, c in checks if not c["ok"]]
    print(f"\n{len(checks) - len(failed)} of {len(checks)} checks True"
          + (f"; plots: {', '.join(map(str, run.written))}" if run.written else ""))
    topics.write_results(args, device, {"results": done.results, "seconds": done.seconds},
                         sections=names, data_dir=str(run.data_dir))
    if failed:
        print(f"error: {len(failed)} check(s) False ({'; '.join(failed)}); "
              "this is a bug in d2lnotes or in the installed torch/pandas, please report it",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main))
