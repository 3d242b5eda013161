"""``python -m d2lnotes.ch3``: linear and softmax regression, scratch and concise side by side;
the topics of ``d2lnotes.ch3.TOPICS``, run by ``utils.topics.drive``."""

import sys

from ..editions import PLACES, cite
from ..utils import cli, topics
from . import TOPICS

DESCRIPTION = """\
Chapter 3 of Dive into Deep Learning, run twice: from scratch and with torch.nn.
Both versions start from the same parameters and see the same batches, and the
largest gap between their final parameters (max_param_diff) is reported.

{}"""


def build_parser():
    rows = [(f"{i}.", [f"{PLACES[t.key].title}, {cite(t.key)}: {t.lines()[0]}", *t.lines()[1:]])
            for i, t in enumerate(TOPICS.values(), 1)]
    parser = cli.Parser(prog="python -m d2lnotes.ch3",
                        description=DESCRIPTION.format(topics.listing(rows, 2)),
                        formatter_class=cli.argparse.RawDescriptionHelpFormatter)
    cli.add_training_options(parser, epochs=10, lr=0.1, batch_size=256)
    parser.add_argument("--impl", choices=["scratch", "concise", "both"], default="both",
                        help="which version(s) to train (default both)")
    cli.add_common_options(parser, "ch3")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    device = cli.resolve_device(args.device)
    cli.prepare_outputs(args)
    run = topics.Run.from_args(args, device)
    done = topics.drive(TOPICS.values(), run)
    topics.write_results(args, device, {"results": done.results, "seconds": run.train_seconds},
                         epochs=args.epochs, lr=args.lr, batch_size=args.batch_size,
                         impl=args.impl)
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main))
