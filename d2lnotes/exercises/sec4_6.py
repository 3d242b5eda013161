"""§4.6 Dropout: swapped rates, longer training, activation variances, test time, weight
decay beside it, DropConnect and Gaussian noise.

The trainings use the section's 784-256-256-10 nets on 500 Fashion-MNIST examples for 10
epochs (``sec4_2.fashion_subset``), enough for the net to start overfitting. They start
from Kaiming (He) weights instead of the book's N(0, 0.01^2), which takes far more epochs
to get a two-hidden-layer net going (see 4.3.1); the learning rate is 0.1, batch size 32.
"""

import functools
import math

import torch
from torch import nn

from ..ch4 import concise, scratch, variants
from ..utils.data import load_array
from ..utils.train import evaluate, train
from .core import Answer, exercise
from .sec4_2 import fashion_subset

N_TRAIN, NUM_EPOCHS, LR, BATCH_SIZE = 500, 10, 0.1, 32
BOOK_RATES = (0.2, 0.5)
SETTING = (f"{N_TRAIN} training examples, {NUM_EPOCHS} epochs, Kaiming start, lr {LR}, "
           "accuracy on 1000 test examples")


def _kaiming_(Ws):
    with torch.no_grad():
        for W in Ws:  # scratch layout (n_in, n_out)
            W.normal_(0, math.sqrt(2 / W.shape[0]))


@functools.lru_cache(maxsize=16)
def fit(noise="dropout", rates=BOOK_RATES, weight_decay=0.0, num_epochs=NUM_EPOCHS, seed=0):
    """Train the two-hidden-layer net with ``noise`` (``"dropout"``: ``concise.dropout_mlp``;
    ``"dropconnect"``, ``"gaussian"``: the scratch variants) at ``rates``.

    Returns ``(train accuracy, test accuracy, [||W||_F per layer], net)``; the training
    accuracy is measured without noise, after the last epoch.
    """
    train_data, test_data = fashion_subset(seed, n_train=N_TRAIN)
    torch.manual_seed(seed)
    if noise == "dropout":
        net = variants.init_(concise.dropout_mlp(784, 10, 256, 256, *rates), "Kaiming normal")
        loss, optimizer = nn.CrossEntropyLoss(), concise.weight_decay_sgd(net, LR, weight_decay)
        weights = [m.weight for m in net if isinstance(m, nn.Linear)]
    else:
        net_class = {"dropconnect": variants.DropConnectMLP,
                     "gaussian": variants.GaussianNoiseMLP}[noise]
        net = net_class(784, 10, 256, 256, *rates)
        _kaiming_(net.Ws)
        loss, optimizer = scratch.softmax_cross_entropy, scratch.SGD(net.parameters(), LR)
        weights = net.Ws
    torch.manual_seed(seed + 1)
    history = train(net, load_array(train_data, BATCH_SIZE),
                    load_array(test_data, len(test_data[1]), shuffle=False), loss, num_epochs,
                    optimizer, quiet=True)
    train_acc = evaluate(net, load_array(train_data, len(train_data[1]), shuffle=False))[1]
    norms = [float(torch.linalg.matrix_norm(W.detach())) for W in weights]
    return train_acc, history.test_acc[-1], norms, net


@exercise("4.6.1", zh="4.6.1", edition_1_0="5.6.1", kind="experiment",
          question="Change the two layers' dropout rates, in particular swap them: what "
                   "happens?")
def swapped_rates(seed=0, num_epochs=NUM_EPOCHS):
    book = fit(rates=BOOK_RATES, num_epochs=num_epochs, seed=seed)
    swapped = fit(rates=BOOK_RATES[::-1], num_epochs=num_epochs, seed=seed)
    values = {"book_train_acc": book[0], "book_test_acc": book[1],
              "swapped_train_acc": swapped[0], "swapped_test_acc": swapped[1]}
    return Answer(
        f"With 0.2 after the first hidden layer and 0.5 after the second (the book's), test "
        f"accuracy is {book[1]:.3f}; swapped (0.5, then 0.2) it is {swapped[1]:.3f} "
        f"({SETTING}). The difference is within what a different seed gives, so at this "
        "size the order hardly matters. The book's choice follows the usual advice: drop "
        "less near the input, whose few features carry information that the later layers "
        "cannot recover, and more in the wide later layers.", values)


@exercise("4.6.2", zh="4.6.2", edition_1_0="5.6.2", kind="experiment",
          question="Train for more epochs and compare the results with and without dropout.")
def more_epochs(seed=0, num_epochs=NUM_EPOCHS):
    plain = fit(rates=(0.0, 0.0), num_epochs=num_epochs, seed=seed)
    dropped = fit(rates=BOOK_RATES, num_epochs=num_epochs, seed=seed)
    values = {"no_dropout": {"train_acc": plain[0], "test_acc": plain[1]},
              "dropout": {"train_acc": dropped[0], "test_acc": dropped[1]}}
    return Answer(
        f"Without dropout the net fits its {N_TRAIN} training examples faster: training "
        f"accuracy {plain[0]:.3f} against {dropped[0]:.3f} with dropout, test accuracy "
        f"{plain[1]:.3f} against {dropped[1]:.3f} ({SETTING}); the train-test gap is "
        f"{plain[0] - plain[1]:.3f} without and {dropped[0] - dropped[1]:.3f} with dropout. "
        "Dropout slows the memorising of the training set; its benefit on the test set "
        "shows only once the plain net has overfitted, after more epochs than here.",
        values)


def hidden_variances(net, X, seed=0):
    """Variance of each hidden layer's output of a :class:`~d2lnotes.ch4.scratch.DropoutMLP`
    on ``X``, without (``"plain"``) and with (``"dropped"``) its dropout masks (§4.6)."""
    torch.manual_seed(seed)
    out = {"plain": [], "dropped": []}
    with torch.no_grad():
        H = X.reshape(-1, net.num_inputs)
        for W, b, p in zip(net.Ws[:2], net.bs[:2], (net.dropout1, net.dropout2)):
            H = scratch.relu(H @ W + b)
            out["plain"].append(float(H.var()))
            out["dropped"].append(float(scratch.dropout_layer(H, p).var()))
    return out


@exercise("4.6.3", zh="4.6.3", edition_1_0="5.6.3", kind="experiment",
          question="What is the variance of each hidden layer's activations with and without "
                   "dropout, and how does it evolve during training?")
def activation_variances(seed=0, num_epochs=3):
    train_data, test_data = fashion_subset(seed, n_train=N_TRAIN)
    X = test_data[0]
    torch.manual_seed(seed)
    net = scratch.DropoutMLP(784, 10, 256, 256, *BOOK_RATES)
    _kaiming_(net.Ws)
    per_epoch = [hidden_variances(net, X, seed)]

    def record(_history):
        per_epoch.append(hidden_variances(net, X, seed))

    torch.manual_seed(seed + 1)
    train(net, load_array(train_data, BATCH_SIZE), None, scratch.softmax_cross_entropy,
          num_epochs, scratch.SGD(net.parameters(), LR), quiet=True, callback=record)
    ratios = [[d / v for d, v in zip(e["dropped"], e["plain"])] for e in per_epoch]
    return Answer(
        "Dropout at rate p keeps h / (1 - p) with probability 1 - p, so the mean stays but "
        "E[h'^2] = E[h^2] / (1 - p): the variance grows by p E[h^2] / (1 - p). Measured on "
        "the test images, the hidden layers' variance with masks over without is "
        + "; ".join(f"epoch {i}: " + ", ".join(f"{r:.2f}" for r in row)
                    for i, row in enumerate(ratios))
        + " (layer 1 at p = 0.2, layer 2 at p = 0.5). The activations' own variance changes "
        "as the weights grow during training, and dropout multiplies it at every epoch.",
        {"per_epoch": per_epoch, "ratio_dropped_to_plain": ratios})


@exercise("4.6.4", zh="4.6.4", edition_1_0="5.6.4", kind="derivation",
          question="Why is dropout usually switched off at test time?")
def test_time(seed=0, num_passes=2000):
    torch.manual_seed(seed)
    net = scratch.DropoutMLP(784, 10, 256, 256, *BOOK_RATES)
    _kaiming_(net.Ws)
    X = fashion_subset(seed, n_train=N_TRAIN)[1][0][:200]
    with torch.no_grad():
        net.train()
        a, b = net(X).argmax(1), net(X).argmax(1)
        net.eval()
        c, d = net(X).argmax(1), net(X).argmax(1)
        H = scratch.relu(X.reshape(len(X), -1) @ net.Ws[0] + net.bs[0])
        mean = sum(scratch.dropout_layer(H, 0.5) for _ in range(num_passes)) / num_passes
    values = {"train_mode_disagreement": float((a != b).float().mean()),
              "eval_mode_disagreement": float((c != d).float().mean()),
              "mask_average_error": float((mean - H).abs().mean() / H.abs().mean())}
    return Answer(
        "Dropout is noise that regularises training; at test time we want the prediction, "
        "not a random draw of it. With masks, two passes over the same 200 images give "
        f"different classes for {values['train_mode_disagreement']:.0%} of them; without, "
        f"{values['eval_mode_disagreement']:.0%}. Scaling kept units by 1/(1 - p) makes the "
        "noise-free layer the masks' average (averaging "
        f"{num_passes} masks gets within {values['mask_average_error']:.1%} of it), so "
        "switching dropout off keeps the expected activation. (Keeping it on and averaging "
        "many passes, Monte Carlo dropout, is a way to estimate uncertainty.)", values)


@exercise("4.6.5", zh="4.6.5", edition_1_0="5.6.5", kind="experiment",
          question="Compare dropout with weight decay, and both together: do the effects "
                   "add up?")
def with_weight_decay(seed=0, weight_decay=3e-3, num_epochs=NUM_EPOCHS):
    settings = {"neither": ((0.0, 0.0), 0.0), "dropout": (BOOK_RATES, 0.0),
                "weight decay": ((0.0, 0.0), weight_decay), "both": (BOOK_RATES, weight_decay)}
    runs = {k: fit(rates=rates, weight_decay=wd, num_epochs=num_epochs, seed=seed)
            for k, (rates, wd) in settings.items()}
    values = {k: {"train_acc": r[0], "test_acc": r[1], "weight_norm": sum(r[2])}
              for k, r in runs.items()}
    return Answer(
        "Test accuracy (and the weights' summed Frobenius norm): "
        + ", ".join(f"{k}: {v['test_acc']:.3f} ({v['weight_norm']:.1f})"
                    for k, v in values.items())
        + f" ({SETTING}, weight decay {weight_decay}). Weight decay shrinks the weights "
        "with or without dropout; dropout makes each unit robust to losing others. The two "
        "act on different things, yet their gains do not simply add: at this size each "
        "mostly slows the fit, and the test accuracies move by a few points either way "
        "from seed to seed, so any gain from combining them is within that noise.", values)


@exercise("4.6.6", zh="4.6.6", edition_1_0="5.6.6", kind="experiment",
          question="What happens if dropout is applied to the individual weights rather than "
                   "to the activations?")
def dropconnect(seed=0, num_epochs=NUM_EPOCHS, num_masks=4000):
    with torch.random.fork_rng(devices=[]):  # the caller's generator stays as it was
        torch.manual_seed(seed)
        X, W, b = torch.randn(4, 6), torch.randn(6, 3), torch.randn(3)
        mean = sum(variants.dropconnect_linear(X, W, b, 0.5) for _ in range(num_masks)) / num_masks
    unbiased = float((mean - (X @ W + b)).abs().max() / (X @ W + b).abs().max())
    train_acc, test_acc, _, _ = fit("dropconnect", num_epochs=num_epochs, seed=seed)
    values = {"mask_average_error": unbiased, "train_acc": train_acc, "test_acc": test_acc,
              "dropout_test_acc": fit(rates=BOOK_RATES, num_epochs=num_epochs, seed=seed)[1]}
    return Answer(
        "That is DropConnect (Wan et al., 2013): each weight is kept with probability 1 - p "
        "and scaled by 1/(1 - p), so every example sees a different thinned net, not just "
        f"thinned units. It is still unbiased (averaging {num_masks} masks comes within "
        f"{unbiased:.1%} of X W + b), but a mask per weight costs a random number per "
        "weight instead of per activation. Trained with the book's rates it reaches test "
        f"accuracy {test_acc:.3f} (dropout: {values['dropout_test_acc']:.3f}; {SETTING}).",
        values)


@exercise("4.6.7", zh="4.6.7", edition_1_0="5.6.7", kind="experiment",
          question="Invent another way to inject noise in each layer: can it beat dropout on "
                   "Fashion-MNIST?")
def gaussian_noise(seed=0, num_epochs=NUM_EPOCHS, p=0.5):
    with torch.random.fork_rng(devices=[]):  # the caller's generator stays as it was
        torch.manual_seed(seed)
        ones = torch.ones(1000, 1000)
        noisy, dropped = variants.gaussian_noise_layer(ones, p), scratch.dropout_layer(ones, p)
    train_acc, test_acc, _, _ = fit("gaussian", num_epochs=num_epochs, seed=seed)
    values = {"p": p, "gaussian_mean": float(noisy.mean()), "gaussian_var": float(noisy.var()),
              "dropout_mean": float(dropped.mean()), "dropout_var": float(dropped.var()),
              "theory_var": p / (1 - p), "train_acc": train_acc, "test_acc": test_acc,
              "dropout_test_acc": fit(rates=BOOK_RATES, num_epochs=num_epochs, seed=seed)[1]}
    return Answer(
        "Multiply each activation by xi ~ N(1, p / (1 - p)) instead of a scaled Bernoulli: "
        f"the same mean and variance (at p = {p}: mean {values['gaussian_mean']:.3f}, "
        f"variance {values['gaussian_var']:.3f} against dropout's "
        f"{values['dropout_mean']:.3f}, {values['dropout_var']:.3f}; theory {p / (1 - p):.3f}) "
        "but no unit is ever switched off entirely (Gaussian dropout, Srivastava et al., "
        "2014). With the book's rates it reaches test accuracy "
        f"{test_acc:.3f} against dropout's {values['dropout_test_acc']:.3f} ({SETTING}); "
        "which wins varies with the seed at this size, so 'better' needs many runs and a "
        "validation set to claim.", values)
