"""Chapter 4, multilayer perceptrons: ``scratch`` beside ``concise``, and the experiments.

``experiments`` holds §4.1-4.8 in the book's order (``compare_mlp``, ``model_selection``,
``weight_decay``, ``compare_dropout``, ``compare_hand_backprop``, ...), ``kaggle`` §4.10
and ``recipe`` the best accuracy the chapter allows. Each returns data; ``report``
prints and plots it for ``python -m d2lnotes.ch4``.
"""

from . import concise, scratch
from .experiments import (
    activation_gaps,
    activation_variance,
    check_hand_gradients,
    compare_dropout,
    compare_hand_backprop,
    compare_mlp,
    dropout_statistics,
    init_statistics,
    matrix_product,
    model_selection,
    weight_decay,
)

__all__ = ["activation_gaps", "activation_variance", "check_hand_gradients", "compare_dropout",
           "compare_hand_backprop", "compare_mlp", "dropout_statistics", "init_statistics",
           "matrix_product", "model_selection", "weight_decay", "concise", "scratch"]
