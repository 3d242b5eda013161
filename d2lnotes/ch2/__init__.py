"""Chapter 2, preliminaries: ``scratch`` (by hand) beside ``concise`` (torch and pandas), and
``tour``, the sections in the book's order with every value checked."""

from ..editions import ALIASES
from ..utils.lazy import lazy
from ..utils.topics import Topic, python_names, table

# The tour's sections in the book's order (§2.1 and §2.3, §2.2, §2.4, §2.5, §2.6):
# `python -m d2lnotes.ch2 --section NAME`, `ch2.NAME` in Python (the tour), `report.NAME`,
# and d2lnotes.editions.PLACES["ch2.NAME"]. Here, not in tour.py, so that the command
# line's --section choices need no torch.
TOPICS = table(
    Topic("ch2.linalg", "tour:linalg_tour", """
          broadcasting, saving memory, dot/mv/mm and norms by loops vs torch""",
          also=("ch2.broadcast",)),
    Topic("ch2.preprocessing", "tour:preprocessing_tour", """
          house_tiny.csv (written to --data-dir) by the csv module vs pandas"""),
    Topic("ch2.calculus", "tour:calculus_tour", """
          the limit table of f(x) = 3x^2 - 4x at x = 1, tangent y = 2x - 3"""),
    Topic("ch2.autograd", "tour:autograd_tour", """
          y = 2 x·x at x = arange(4.): x.grad = 4x, and each caveat
          (scalar backward, accumulation, no_grad, detach, control flow)"""),
    Topic("ch2.sampling", "tour:probability_tour", """
          a fair die by inverse-CDF sampling vs Multinomial, chi-square test"""),
)
SECTIONS = tuple(TOPICS)
# Other names a learner may type for a section: `--section probability` is `sampling`.
SECTION_ALIASES = {k.split(".")[1]: v.split(".")[1] for k, v in ALIASES.items()
                   if k.startswith("ch2.")}

__all__ = ["SECTIONS", "TOPICS", "Check", "Section", "autograd_tour", "book_f", "book_y",
           "calculus_tour", "f_calculus", "linalg_tour", "plot_die_convergence", "plot_tangent",
           "preprocessing_tour", "probability_tour", "write_house_tiny",
           "linalg", "preprocessing", "calculus", "autograd", "sampling", "probability",
           "broadcast", "grad", "concise", "report", "scratch", "tour"]
# Imported on first use: `python -m d2lnotes.ch2 --help` then answers before torch loads.
__getattr__ = lazy(__name__, {
    **python_names(TOPICS),  # ch2.linalg is linalg_tour, ...
    # show's topics that a tour covers, and the alias: the tour that checks them
    "broadcast": "tour:linalg_tour", "grad": "tour:autograd_tour",
    "probability": "tour:probability_tour",
    "Check": "tour", "Section": "tour", "autograd_tour": "tour", "book_f": "tour",
    "book_y": "tour", "calculus_tour": "tour", "f_calculus": "tour", "linalg_tour": "tour",
    "plot_die_convergence": "tour", "plot_tangent": "tour", "preprocessing_tour": "tour",
    "probability_tour": "tour", "write_house_tiny": "tour",
    "concise": "concise", "report": "report", "scratch": "scratch", "tour": "tour"})
