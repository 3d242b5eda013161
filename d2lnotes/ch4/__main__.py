"""``python -m d2lnotes.ch4 [topic ...]``: the topics of ``d2lnotes.ch4.TOPICS``, run by
``utils.topics.drive``, and their summaries as a table at the end."""

import sys

from ..editions import cite
from ..utils import cli, topics
from ..utils.errors import UsageError
from . import BOOK_EPOCHS
from . import TOPICS as DECLARED

TOPICS = tuple(DECLARED)  # the command-line names, in the book's order
DESCRIPTION = """\
Chapter 4 of Dive into Deep Learning, from scratch and with torch.nn, side by side.
Topics (default: all, in the book's order), with their sections in the classic
edition and in the 1.0 edition:

{}
--epochs N replaces every topic's epoch count (the book's is used otherwise).
"""


def build_parser():
    rows = [(t.name, [cite(t.key), *t.lines()]) for t in DECLARED.values()]
    parser = cli.Parser(prog="python -m d2lnotes.ch4",
                        description=DESCRIPTION.format(topics.listing(rows, 16)),
                        formatter_class=cli.argparse.RawDescriptionHelpFormatter)
    parser.add_argument("topics", nargs="*", metavar="topic", help=f"one or more of "
                        f"{', '.join(TOPICS)}, all (default all, which leaves out best)")
    parser.add_argument("--epochs", type=cli.positive_int, default=None, help="train every "
                        "topic for N epochs instead of the book's count (e.g. --epochs 1 for "
                        "a quick run)")
    parser.add_argument("--sweep", action="store_true", help="with best only: first choose "
                        "the learning rate on the validation split (adds about 45 s)")
    cli.add_common_options(parser, "ch4")
    return parser


def selected(names, sweep=False):
    """Topic names in the book's order, without repeats; ``all`` leaves out ``best``."""
    chosen = topics.select(names, DECLARED)
    if sweep and "best" not in chosen:
        raise UsageError("--sweep only applies to the topic best; add best to the topics "
                         "or leave out --sweep")
    return chosen


def main(argv=None):
    args = build_parser().parse_args(argv)
    chosen = [DECLARED[name] for name in selected(args.topics, args.sweep)]
    device = cli.resolve_device(args.device)
    # Every output is checked before any training, whatever the flags.
    cli.prepare_outputs(args, out_used=not args.no_plots or any(t.writes_into_out for t in chosen))
    run = topics.Run.from_args(args, device, submission=args.out / "submission.csv")
    # A topic that fails loses only itself: its row carries the error, the others run on.
    done = topics.drive(chosen, run, between=run.say, keep_going=True, debug=args.debug)
    run.say()
    done.print_summaries(plots=None if args.no_plots else args.out)
    document = {"results": done.results, "seconds": done.seconds, "failed": done.failed}
    topics.write_results(args, device, document, topics=[t.name for t in chosen],
                         epochs=args.epochs, book_epochs=BOOK_EPOCHS)
    return done.failure()


if __name__ == "__main__":
    sys.exit(cli.run(main))
