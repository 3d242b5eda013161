"""Chapter 2, preliminaries: ``scratch`` (by hand) beside ``concise`` (torch and pandas), and
``tour``, the sections in the book's order with every value checked."""

from . import concise, scratch
from .tour import (
    SECTIONS,
    Check,
    Section,
    autograd_tour,
    book_f,
    book_y,
    calculus_tour,
    f_calculus,
    linalg_tour,
    plot_die_convergence,
    plot_tangent,
    preprocessing_tour,
    probability_tour,
    run_tour,
    write_house_tiny,
)

__all__ = ["SECTIONS", "Check", "Section", "autograd_tour", "book_f", "book_y", "calculus_tour",
           "f_calculus", "linalg_tour", "plot_die_convergence", "plot_tangent",
           "preprocessing_tour", "probability_tour", "run_tour", "write_house_tiny", "concise",
           "scratch"]
