"""Chapter 3, linear neural networks: ``scratch`` beside ``concise``, and the experiments
(``experiments.compare_*``) that train both from the same start on the same batches."""

from ..utils.lazy import lazy
from ..utils.topics import Topic, python_names, table

# The chapter's topics, in the book's order: `ch3.NAME` in Python (the experiment),
# `report.NAME` for `python -m d2lnotes.ch3`, and d2lnotes.editions.PLACES["ch3.NAME"].
TOPICS = table(
    Topic("ch3.linreg", "experiments:compare_linear_regression", """
          y = Xw + b + noise,
          w = [2, -3.4], b = 4.2, 1000 examples, batch 10, lr 0.03, 3 epochs
          (always the book's settings).""", results_key="linear_regression"),
    Topic("ch3.softmax", "experiments:compare_softmax_regression", """
          on Fashion-MNIST;
          --epochs, --lr and --batch-size apply to this run.""",
          results_key="softmax_regression"),
)

__all__ = ["TOPICS", "compare_linear_regression", "compare_softmax_regression", "linreg",
           "softmax", "concise", "experiments", "report", "scratch"]
# Imported on first use: `python -m d2lnotes.ch3 --help` then answers before torch loads.
__getattr__ = lazy(__name__, {
    **python_names(TOPICS),  # ch3.softmax is compare_softmax_regression, ...
    "compare_linear_regression": "experiments", "compare_softmax_regression": "experiments",
    "concise": "concise", "experiments": "experiments", "report": "report",
    "scratch": "scratch"})
