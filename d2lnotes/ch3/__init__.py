"""Chapter 3, linear neural networks: ``scratch`` beside ``concise``, and the experiments
(``experiments.compare_*``) that train both from the same start on the same batches."""

from ..utils.lazy import lazy

__all__ = ["compare_linear_regression", "compare_softmax_regression", "concise", "scratch"]
# Imported on first use: `python -m d2lnotes.ch3 --help` then answers before torch loads.
__getattr__ = lazy(__name__, {"compare_linear_regression": "experiments",
                              "compare_softmax_regression": "experiments",
                              "concise": "concise", "scratch": "scratch"})
