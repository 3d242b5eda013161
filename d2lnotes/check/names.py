"""The checkable functions by name, with their sections and ``show`` topics.

Light on purpose (no torch, no Hypothesis): ``python -m d2lnotes show`` and the listing of
``python -m d2lnotes check`` read it; :mod:`d2lnotes.check.topics` adds the properties.
"""

import difflib
from dataclasses import dataclass

from ..utils.errors import UsageError


@dataclass(frozen=True)
class Check:
    """One checkable function: the book's signature, its sections and its ``show`` topic."""

    name: str
    signature: str
    show_topic: str
    classic: str
    edition_1: str

    @property
    def function(self):
        return self.signature.split("(")[0]


CHECKS = {c.name: c for c in [
    Check("ch2.numerical_grad", "numerical_grad(f, x)", "ch2.grad", "§2.4", "§2.4"),
    Check("ch3.synthetic_data", "synthetic_data(w, b, num_examples)", "ch3.linreg", "§3.2", "§3.3"),
    Check("ch3.data_iter", "data_iter(batch_size, features, labels)", "ch3.linreg", "§3.2", "§3.4"),
    Check("ch3.linreg", "linreg(X, w, b)", "ch3.linreg", "§3.2", "§3.4"),
    Check("ch3.squared_loss", "squared_loss(y_hat, y)", "ch3.linreg", "§3.2", "§3.4"),
    Check("ch3.sgd", "sgd(params, lr, batch_size)", "ch3.linreg", "§3.2", "§3.4"),
    Check("ch3.softmax", "softmax(X)", "ch3.softmax", "§3.6", "§4.4"),
    Check("ch3.cross_entropy", "cross_entropy(y_hat, y)", "ch3.softmax", "§3.6", "§4.4"),
    Check("ch3.accuracy", "accuracy(y_hat, y)", "ch3.softmax", "§3.6", "§4.3"),
    Check("ch4.relu", "relu(X)", "ch4.activations", "§4.2", "§5.2"),
    Check("ch4.dropout_layer", "dropout_layer(X, dropout)", "ch4.dropout", "§4.6", "§5.6"),
    Check("ch4.l2_penalty", "l2_penalty(w)", "ch4.weight_decay", "§4.5", "§3.7"),
    Check("ch4.log_rmse", "log_rmse(net, features, labels)", "ch4.kaggle", "§4.10", "§5.7"),
    Check("ch4.get_k_fold_data", "get_k_fold_data(k, i, X, y)", "ch4.kaggle", "§4.10", "§5.7"),
    Check("ch4.mlp", "net(X, W1, b1, W2, b2)", "ch4.mlp", "§4.2", "§5.2"),
    Check("ch4.xavier_uniform", "xavier_uniform(num_inputs, num_outputs)", "ch4.init",
          "§4.8", "§5.4"),
]}


def for_show_topic(show_topic):
    """The checks of the pieces that ``python -m d2lnotes show show_topic`` prints."""
    return [c.name for c in CHECKS.values() if c.show_topic == show_topic]


def lookup(name):
    """The full name of a check (``"softmax"`` is ``"ch3.softmax"``); UsageError if unknown."""
    if name in CHECKS:
        return name
    by_function = [c.name for c in CHECKS.values() if c.function == name or
                   c.name.split(".")[1] == name]
    if len(by_function) == 1:
        return by_function[0]
    close = difflib.get_close_matches(str(name), list(CHECKS) + [n.split(".")[1] for n in CHECKS],
                                      n=3, cutoff=0.6)
    close = list(dict.fromkeys(lookup(c) for c in close))
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    raise UsageError(f"unknown check topic {name!r}; {hint}run 'python -m d2lnotes check' to "
                     "list the topics")
