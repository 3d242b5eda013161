"""Where each topic is in the book, in both editions; the one table the show listing, the
chapter commands' headers and the README use.

d2lnotes' chapters follow the **classic** edition (English 0.17, Chinese 2nd edition):
Chapter 3 is linear and softmax regression, Chapter 4 the MLP chapter. The **1.0**
edition (d2l.ai today) splits Chapter 3 into regression (3) and classification (4),
moves the MLP to Chapter 5, and generalization and weight decay to Chapter 3.
Sections are the ones whose code d2lnotes runs (the implementation sections).
"""

from dataclasses import dataclass

CLASSIC = "classic edition (English 0.17, Chinese 2nd edition)"
EDITION_1 = "1.0 edition (d2l.ai)"


@dataclass(frozen=True)
class Place:
    """One topic's sections: ``classic`` (d2lnotes' numbering) and ``edition_1``."""

    classic: str
    edition_1: str
    title: str
    runs: str  # what d2lnotes runs for it
    code: str = ""  # where its code is, for topics with no scratch/concise pair in ``show``


# In the book's (classic) order. Keys are ``show`` topics, ch2 tour sections and ch4 topics.
PLACES = {
    "ch2.broadcast": Place("§2.1", "§2.1", "Tensors: broadcasting",
                           "broadcast shapes by the rules vs torch"),
    "ch2.preprocessing": Place("§2.2", "§2.2", "Data preprocessing",
                               "house_tiny.csv by the csv module vs pandas"),
    "ch2.linalg": Place("§2.3", "§2.3", "Linear algebra",
                        "dot, mv, mm and norms by loops vs torch"),
    "ch2.calculus": Place("§2.4", "§2.4", "Calculus",
                          "the limit table of 3x^2 - 4x, its tangent"),
    "ch2.autograd": Place("§2.5", "§2.5", "Automatic differentiation",
                          "x.grad against 4x, and each autograd caveat"),
    "ch2.grad": Place("§2.4-2.5", "§2.4-2.5", "Numerical gradient vs autograd",
                      "central differences vs backward()"),
    "ch2.sampling": Place("§2.6", "§2.6", "Probability: rolling a die",
                          "inverse-CDF sampling vs Multinomial, chi-square"),
    "ch3.linreg": Place("§3.2-3.3", "§3.3-3.5", "Linear regression",
                        "synthetic data, scratch vs concise, max_param_diff"),
    "ch3.softmax": Place("§3.6-3.7", "§4.4-4.5", "Softmax regression",
                         "Fashion-MNIST, scratch vs concise, max_param_diff"),
    "ch4.activations": Place("§4.1", "§5.1", "Activation functions",
                             "ReLU, sigmoid, tanh and derivatives vs torch"),
    "ch4.mlp": Place("§4.2-4.3", "§5.2", "Multilayer perceptron",
                     "MLP 784-256-10, scratch vs concise"),
    "ch4.model_selection": Place("§4.4", "§3.6", "Model selection: polynomial regression",
                                 "cubic, underfit and overfit fits (1.0 drops this example)"),
    "ch4.weight_decay": Place("§4.5", "§3.7", "Weight decay",
                              "l2_penalty in the loss vs the optimizer's weight_decay"),
    "ch4.dropout": Place("§4.6", "§5.6", "Dropout", "dropout_layer vs nn.Dropout, dropout MLP"),
    "ch4.backprop": Place("§4.7", "§5.3", "Backpropagation",
                          "the MLP's gradients by hand vs autograd, trained with them"),
    "ch4.init": Place("§4.8", "§5.4", "Numerical stability and initialization",
                      "exploding products, vanishing sigmoid gradients, Xavier"),
    "ch4.kaggle": Place("§4.10", "§5.7", "Predicting house prices on Kaggle",
                        "5-fold log-RMSE, submission.csv",
                        code="d2lnotes/ch4/kaggle.py (python -m d2lnotes.ch4 kaggle)"),
    "ch4.best": Place("Chapters 3-4", "Chapters 3-5", "The best MLP the chapters allow",
                      "dropout, Xavier init, weight decay, lr chosen on a validation split",
                      code="d2lnotes/ch4/recipe.py (python -m d2lnotes.ch4 best)"),
}


# Other names a learner may type for a topic (``show``, ``--section``): the book's word.
ALIASES = {"ch2.probability": "ch2.sampling"}


def cite(*keys):
    """``"§3.6-3.7 (1.0 edition: §4.4-4.5)"`` for one or more topics of :data:`PLACES`."""
    classic = ", ".join(PLACES[k].classic for k in keys)
    edition_1 = ", ".join(PLACES[k].edition_1 for k in keys)
    return f"{classic} (1.0 edition: {'the same' if edition_1 == classic else edition_1})"
