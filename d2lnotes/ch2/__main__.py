"""``python -m d2lnotes.ch2``: the preliminaries as a tour in which every value is checked."""

import sys

from ..utils import cli
from ..utils.io import write_json

DESCRIPTION = """\
Chapter 2 of Dive into Deep Learning as a tour, in the book's order. Each line shows
a value and a check computed against it (the book's printed value, a closed form, or
the twin computed the other way), ending in True or False. The command exits with status 1 if any
check is False. Chapter 2's sections have the same numbers in the classic edition
(which d2lnotes' chapters follow) and in the 1.0 edition.

  linalg         §2.1, §2.3 broadcasting, saving memory, dot/mv/mm and norms by loops vs torch
  preprocessing  §2.2 house_tiny.csv (written to --data-dir) by the csv module vs pandas
  calculus       §2.4 the limit table of f(x) = 3x^2 - 4x at x = 1, tangent y = 2x - 3
  autograd       §2.5 y = 2 x·x at x = arange(4.): x.grad = 4x, and each caveat
                 (scalar backward, accumulation, no_grad, detach, control flow)
  probability    §2.6 a fair die by inverse-CDF sampling vs Multinomial, chi-square test

Plots: tangent_line.png (calculus) and die_convergence.png (probability) in --out.
--device places the autograd and linear-algebra tensors; the rest runs on the CPU.
"""

PLOTS = {"calculus": "tangent_line.png", "probability": "die_convergence.png"}


def build_parser():
    from . import SECTIONS

    parser = cli.Parser(prog="python -m d2lnotes.ch2", description=DESCRIPTION,
                        formatter_class=cli.argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--section", choices=SECTIONS, default=None,
                        help="run only this section (default: all, in the book's teaching order)")
    cli.add_common_options(parser, "ch2")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    device = cli.resolve_device(args.device)
    cli.prepare_outputs(args)

    from ..utils.data import data_root
    from . import SECTIONS, plot_die_convergence, plot_tangent, run_tour

    names = [args.section] if args.section else list(SECTIONS)
    data_dir = data_root(args.data_dir)
    sections, seconds = run_tour(names, seed=args.seed, device=device, data_dir=data_dir)

    failed = []
    for i, (name, section) in enumerate(sections.items()):
        if not args.quiet:
            print(("\n" if i else "") + section.title)
        for check in section.checks:
            if not args.quiet or not check.ok:
                print(f"  {check}")
            if not check.ok:
                failed.append(f"{name}: {check.label}")

    plots = []
    if not args.no_plots:
        if "calculus" in sections:
            plots.append(args.out / PLOTS["calculus"])
            plot_tangent(path=plots[-1])
        if "probability" in sections:
            plots.append(args.out / PLOTS["probability"])
            plot_die_convergence(sections["probability"].plot_data["estimates"], path=plots[-1])

    total = sum(len(s.checks) for s in sections.values())
    print(f"\n{total - len(failed)} of {total} checks True"
          + (f"; plots: {', '.join(str(p) for p in plots)}" if plots else ""))
    if args.json is not None:
        results = {name: {"checks": [{"label": c.label, "claim": c.claim, "ok": c.ok}
                                     for c in s.checks],
                          "all_true": s.ok, **s.results}
                   for name, s in sections.items()}
        write_json(args.json, {"results": results, "seconds": seconds,
                               "settings": {"sections": names, "seed": args.seed,
                                            "device": str(device),
                                            "data_dir": str(data_dir),
                                            "num_threads": cli.num_threads()}})
        print(f"figures: {args.json}")
    if failed:
        print(f"error: {len(failed)} check(s) False ({'; '.join(failed)}); "
              "this is a bug in d2lnotes or in the installed torch/pandas, please report it",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main))
