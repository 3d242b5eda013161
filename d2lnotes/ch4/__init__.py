"""Chapter 4, multilayer perceptrons: ``scratch`` beside ``concise``, and the experiments.

``experiments`` holds §4.1-4.8 in the book's order (``compare_mlp``, ``model_selection``,
``weight_decay``, ``compare_dropout``, ``compare_hand_backprop``, ...), ``kaggle`` §4.10
and ``recipe`` the best accuracy the chapter allows. Each returns data; ``report``
prints and plots it for ``python -m d2lnotes.ch4``.
"""

from ..utils.lazy import lazy
from ..utils.topics import Topic, python_names, table

# The chapter's topics, in the book's order: `python -m d2lnotes.ch4 NAME`, `ch4.NAME` in
# Python (the experiment), `report.NAME` and d2lnotes.editions.PLACES["ch4.NAME"].
TOPICS = table(
    Topic("ch4.activations", "experiments:activation_gaps", """
          ReLU, sigmoid, tanh and their closed-form derivatives, checked
          against torch and autograd; plot of each"""),
    Topic("ch4.mlp", "experiments:compare_mlp", """
          MLP 784-256-10 on Fashion-MNIST, batch 256, lr 0.1, 10 epochs;
          same start, same batches, max_param_diff"""),
    Topic("ch4.model_selection", "experiments:model_selection", """
          polynomial regression: a cubic fit, a linear one that underfits
          and a 20-feature one, 400 / 1500 epochs"""),
    Topic("ch4.weight_decay", "experiments:weight_decay", """
          L2 penalty in the loss against the optimizer's weight_decay,
          d = 200, 20 examples, lambda 0 and 3"""),
    Topic("ch4.dropout", "experiments:compare_dropout", """
          MLP 784-256-256-10 with dropout 0.2 / 0.5, lr 0.5, 10 epochs"""),
    Topic("ch4.backprop", "experiments:compare_hand_backprop", """
          the MLP's gradients derived by hand (no autograd) against autograd
          in float64 and finite differences, then trained with them"""),
    Topic("ch4.init", "experiments:init_statistics", """
          vanishing sigmoid gradients, exploding matrix products, Xavier
          init against nn.init, activation variance over 10 layers"""),
    # ch4.kaggle is the module; its experiment is ch4.kaggle.house_prices.
    Topic("ch4.kaggle", "kaggle:house_prices", """
          house prices: SHA-1-checked CSVs, preprocessing, 5-fold log-RMSE
          of a linear model, submission.csv in --out""", writes_into_out=True),
    Topic("ch4.best", "recipe:best", """
          (not part of all; "all best" runs both) the best Fashion-MNIST
          accuracy the chapters allow: MLP, dropout, Xavier init""", in_all=False),
)

# The book's epochs per topic; --epochs N replaces all of them (for quick runs).
BOOK_EPOCHS = {"mlp": 10, "backprop": 10, "dropout": 10}

__all__ = ["TOPICS", "BOOK_EPOCHS", "activation_gaps", "activation_variance",
           "check_hand_gradients", "compare_dropout", "compare_hand_backprop", "compare_mlp",
           "dropout_statistics", "init_statistics", "matrix_product", "model_selection",
           "weight_decay", "activations", "mlp", "dropout", "backprop", "init", "best",
           "concise", "experiments", "kaggle", "recipe", "report", "scratch"]
# Imported on first use: `python -m d2lnotes.ch4 --help` then answers before torch loads.
__getattr__ = lazy(__name__, {
    **python_names(TOPICS),  # ch4.mlp is compare_mlp, ...; a module of the same name wins
    "activation_gaps": "experiments", "activation_variance": "experiments",
    "check_hand_gradients": "experiments", "compare_dropout": "experiments",
    "compare_hand_backprop": "experiments", "compare_mlp": "experiments",
    "dropout_statistics": "experiments", "init_statistics": "experiments",
    "matrix_product": "experiments", "model_selection": "experiments",
    "weight_decay": "experiments",
    "concise": "concise", "experiments": "experiments", "kaggle": "kaggle",
    "recipe": "recipe", "report": "report", "scratch": "scratch"})
