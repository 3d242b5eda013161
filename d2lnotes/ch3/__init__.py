"""Chapter 3, linear neural networks: ``scratch`` beside ``concise``, and the experiments
(``experiments.compare_*``) that train both from the same start on the same batches."""

from . import concise, scratch
from .experiments import compare_linear_regression, compare_softmax_regression

__all__ = ["compare_linear_regression", "compare_softmax_regression", "concise", "scratch"]
