"""Chapter 2, preliminaries: ``scratch`` (by hand) beside ``concise`` (torch and pandas), and
``tour``, the sections in the book's order with every value checked."""

from ..utils.lazy import lazy

# The book's order: §2.1 and §2.3 (linalg), §2.2, §2.4, §2.5, §2.6. Here, not in tour.py,
# so that the command line's --section choices need no torch.
SECTIONS = ("linalg", "preprocessing", "calculus", "autograd", "probability")

__all__ = ["SECTIONS", "Check", "Section", "autograd_tour", "book_f", "book_y", "calculus_tour",
           "f_calculus", "linalg_tour", "plot_die_convergence", "plot_tangent",
           "preprocessing_tour", "probability_tour", "run_tour", "write_house_tiny", "concise",
           "scratch"]
# Imported on first use: `python -m d2lnotes.ch2 --help` then answers before torch loads.
__getattr__ = lazy(__name__, {**dict.fromkeys(__all__[1:-2], "tour"),
                              "concise": "concise", "scratch": "scratch", "tour": "tour"})
