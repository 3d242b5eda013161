"""§4.2 The MLP from scratch: hidden units, an extra layer, the learning rate, and how to
search several hyperparameters.

The trainings here (and in §4.3 and §4.6) run on a small Fashion-MNIST subset,
:func:`fashion_subset`, for a couple of epochs: enough for the trends the exercises ask
about, in about a second each. :func:`fit` is cached, so answers that share a run (the
book's MLP is the baseline of several) train it once.
"""

import functools

import torch
from torch import nn

from ..ch4 import scratch
from ..utils.data import load_array, read_fashion_mnist
from ..utils.errors import DivergenceError
from ..utils.train import train
from .core import Answer, exercise

N_TRAIN, N_TEST, BATCH_SIZE, NUM_EPOCHS = 2000, 1000, 32, 2


@functools.lru_cache(maxsize=2)
def fashion_subset(seed=0, n_train=N_TRAIN, n_test=N_TEST):
    """``((X_train, y_train), (X_test, y_test))``: random Fashion-MNIST examples, X in [0, 1]."""
    X_train, y_train, X_test, y_test = read_fashion_mnist()
    gen = torch.Generator().manual_seed(seed)
    i = torch.randperm(len(X_train), generator=gen)[:n_train]
    j = torch.randperm(len(X_test), generator=gen)[:n_test]

    def prepare(X):
        return X.unsqueeze(1).to(torch.float32).div_(255)

    return (prepare(X_train[i]), y_train[i]), (prepare(X_test[j]), y_test[j])


# A net is built from (kind, settings), so that runs can be cached and shared.
def _build(kind, settings):
    from ..ch4 import variants

    if kind == "scratch":  # scratch.MLP or, with two sizes, the two-layer DropoutMLP
        sizes, dropout = settings["num_hiddens"], settings.get("dropout", (0, 0))
        if len(sizes) == 1:
            return scratch.MLP(784, 10, sizes[0])
        net_class = variants.DropConnectMLP if settings.get("dropconnect") else scratch.DropoutMLP
        return net_class(784, 10, *sizes, *dropout)
    activation = {"ReLU": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "pReLU": nn.PReLU,
                  "GELU": nn.GELU}[settings.get("activation", "ReLU")]
    return variants.deep_mlp(settings["num_hiddens"], activation,
                             settings.get("init", "N(0, 0.01^2)"))


@functools.lru_cache(maxsize=64)
def fit(kind="scratch", num_hiddens=(256,), lr=0.1, num_epochs=NUM_EPOCHS, seed=0, **options):
    """Train a net on :func:`fashion_subset` ``(seed)``; return ``(History, net)`` or, when the
    loss stops being finite, ``(None, None)``.

    ``kind`` is ``"scratch"`` (``scratch.MLP``; with two sizes ``scratch.DropoutMLP``, its
    ``dropout`` rates in ``options``) or ``"concise"`` (``variants.deep_mlp`` with
    ``activation`` and ``init`` in ``options``). Seeds: ``seed`` draws the start,
    ``seed + 1`` the shuffles, as in ``utils.train.compare``.
    """
    train_data, test_data = fashion_subset(seed)
    torch.manual_seed(seed)
    net = _build(kind, {"num_hiddens": num_hiddens, **options})
    if kind == "scratch":
        loss, optimizer = scratch.softmax_cross_entropy, scratch.SGD(net.parameters(), lr)
    else:
        loss = nn.CrossEntropyLoss()
        optimizer = torch.optim.SGD(net.parameters(), lr=lr,
                                    weight_decay=options.get("weight_decay", 0))
    torch.manual_seed(seed + 1)
    try:
        history = train(net, load_array(train_data, BATCH_SIZE),
                        load_array(test_data, len(test_data[1]), shuffle=False), loss,
                        num_epochs, optimizer, quiet=True)
    except DivergenceError:
        return None, None
    return history, net


def accuracy_after(kind="scratch", **settings):
    """The test accuracy after :func:`fit`, or ``None`` if the training diverged."""
    history, _ = fit(kind, **settings)
    return None if history is None else history.test_acc[-1]


def _accuracies(pairs):
    return ", ".join(f"{k}: {'diverged' if v is None else f'{v:.2f}'}" for k, v in pairs.items())


SETTING = (f"{N_TRAIN} training examples, {NUM_EPOCHS} epochs, batch size {BATCH_SIZE}, "
           f"accuracy on {N_TEST} test examples")


@exercise("4.2.1", zh="4.2.1", edition_1_0="5.2.1", kind="experiment",
          question="Vary num_hiddens, all else fixed: how does it change the result, and "
                   "which value is best?")
def num_hiddens(sizes=(1, 8, 64, 256), seed=0):
    accuracy = {h: accuracy_after(num_hiddens=(h,), seed=seed) for h in sizes}
    best = max(accuracy, key=accuracy.get)
    return Answer(
        f"Too few hidden units cannot represent the ten classes: test accuracy by num_hiddens "
        f"is {_accuracies(accuracy)} ({SETTING}). Accuracy rises steeply at first and then "
        f"flattens; here {best} is best. More units cost more compute and, with more data "
        "or epochs, can overfit, so the best value is picked on validation data.",
        {"test_accuracy": accuracy, "best": best})


@exercise("4.2.2", zh="4.2.2", edition_1_0="5.2.2", kind="experiment",
          question="Add a second hidden layer: what happens to the result?")
def extra_hidden_layer(seed=0):
    one = accuracy_after(num_hiddens=(256,), seed=seed)
    two = accuracy_after(num_hiddens=(256, 256), seed=seed)
    values = {"one_hidden_layer": one, "two_hidden_layers": two}
    return Answer(
        f"With the book's N(0, 0.01^2) start, a second 256-unit layer makes the short run "
        f"worse, not better: test accuracy {two:.2f} against {one:.2f} for one layer "
        f"({SETTING}). Each layer of such small weights shrinks the signal and the gradient "
        "(§4.8), so the deeper net needs more epochs, a larger learning rate or a scaled "
        "initialisation (see 4.3.1 and 4.3.3) before its extra capacity pays off.", values)


@exercise("4.2.3", zh="4.2.3", edition_1_0="5.2.4", kind="experiment",
          question="Change the learning rate, architecture and epochs fixed: which rate works "
                   "best?")
def learning_rate(lrs=(0.01, 0.1, 0.5, 3.0), seed=0):
    accuracy = {lr: accuracy_after(lr=lr, seed=seed) for lr in lrs}
    finite = {k: v for k, v in accuracy.items() if v is not None}
    best = max(finite, key=finite.get)
    return Answer(
        f"Test accuracy by learning rate: {_accuracies(accuracy)} ({SETTING}). Too small a "
        "rate barely moves in the fixed number of epochs; too large a rate overshoots and "
        f"ends near chance (0.10) or diverges. Here {best} is best; with more epochs the best "
        "rate moves lower.", {"test_accuracy": accuracy, "best": best})


@exercise("4.2.6", zh="4.2.6", edition_1_0="5.2.5", kind="derivation",
          question="What is a smart way to search over several hyperparameters at once?")
def random_search(budget=16, seed=0):
    gen = torch.Generator().manual_seed(seed)
    side = round(budget ** 0.5)
    grid = torch.cartesian_prod(torch.linspace(0, 1, side), torch.linspace(0, 1, side))
    rand = torch.rand(budget, 2, generator=gen)
    values = {"budget": budget, "grid_distinct_per_axis": int(torch.unique(grid[:, 0]).numel()),
              "random_distinct_per_axis": int(torch.unique(rand[:, 0]).numel())}
    return Answer(
        "A full grid costs k^d trainings for k values of each of d hyperparameters, and "
        "usually only one or two of them matter. Random search (Bergstra and Bengio, 2012) "
        f"tries a new value of every hyperparameter each time: with {budget} trainings over "
        f"two of them, a grid tests only {values['grid_distinct_per_axis']} values of the "
        f"one that matters, random search {values['random_distinct_per_axis']}. Search "
        "learning rates and weight decays on a log scale, start coarse with few epochs, then "
        "narrow the range around the best (successive halving, Bayesian optimisation), and "
        "judge on validation data.", values)
