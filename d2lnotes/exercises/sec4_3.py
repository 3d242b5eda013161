"""§4.3 The MLP with torch.nn: more hidden layers, other activations, other initialisations.

Same small Fashion-MNIST runs as §4.2 (``sec4_2.fit``), with ``variants.deep_mlp``.
"""

from .core import Answer, exercise
from .sec4_2 import SETTING, _accuracies, accuracy_after, fit


@exercise("4.3.1", zh="4.3.1", edition_1_0=None, kind="experiment",
          question="Try different numbers of hidden layers (and learning rates): what works "
                   "best?")
def hidden_layers(depths=(1, 2, 3), seed=0):
    book = {d: accuracy_after("concise", num_hiddens=(256,) * d, seed=seed) for d in depths}
    scaled = {d: accuracy_after("concise", num_hiddens=(256,) * d, init="Kaiming normal",
                                seed=seed) for d in depths}
    return Answer(
        f"It depends on the start more than on the depth. With the book's N(0, 0.01^2) "
        f"weights, test accuracy by number of hidden layers is {_accuracies(book)}: every "
        "layer shrinks the signal ~40-fold (256 x 0.01^2 = 0.0256 times the variance), so the "
        "deeper nets hardly start in a short run. With Kaiming (He) initialisation, which "
        f"keeps the variance through ReLU layers, it is {_accuracies(scaled)} ({SETTING}, "
        "lr 0.1). So at this budget one or two well-initialised layers are best; deeper nets "
        "need scaled starts, and then more epochs to use their capacity.",
        {"book_init": book, "kaiming_init": scaled})


ACTIVATIONS = ("ReLU", "sigmoid", "tanh", "pReLU", "GELU")


@exercise("4.3.2", zh="4.3.2", edition_1_0="5.2.8", kind="experiment",
          question="Try different activation functions: which works best?")
def activations(names=ACTIVATIONS, seed=0):
    accuracy = {a: accuracy_after("concise", activation=a, seed=seed) for a in names}
    best = max(accuracy, key=accuracy.get)
    return Answer(
        f"Test accuracy of the one-hidden-layer MLP by activation: {_accuracies(accuracy)} "
        f"({SETTING}, lr 0.1). ReLU, pReLU, GELU and tanh are close (here {best} leads); the "
        "sigmoid lags far behind: its slope is at most 1/4 and its outputs are not centred "
        "on 0, so the same learning rate moves it much more slowly.",
        {"test_accuracy": accuracy, "best": best})


INITS = ("N(0, 0.01^2)", "N(0, 1)", "Xavier uniform", "Kaiming normal", "zeros")


@exercise("4.3.3", zh="4.3.3", edition_1_0="5.2.9", kind="experiment",
          question="Try different ways to initialise the weights: which works best?")
def initialisations(names=INITS, seed=0):
    accuracy = {name: accuracy_after("concise", init=name, seed=seed) for name in names}
    zero_net = fit("concise", init="zeros", seed=seed)[1] if "zeros" in names else None
    values = {"test_accuracy": accuracy}
    if zero_net is not None:
        values["zeros_W1_max_abs_after_training"] = float(zero_net[1].weight.detach().abs().max())
    return Answer(
        f"Test accuracy by initialisation: {_accuracies(accuracy)} ({SETTING}, lr 0.1). The "
        "variance-preserving schemes (Xavier, Kaiming) start training fastest; the book's "
        "N(0, 0.01^2) is slower and N(0, 1) starts with huge logits. All-zero weights never "
        "learn: the hidden outputs are 0, so the gradient of both weight matrices is 0 and "
        "only the output bias moves (the first layer's weights are still "
        f"{values.get('zeros_W1_max_abs_after_training', 0.0):g} after training).", values)
