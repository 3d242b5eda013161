"""§3.7 Softmax regression with torch.nn: hyperparameters, and what many epochs do."""

import torch

from ..ch3 import concise
from ..utils.train import train
from .core import Answer, exercise
from .fashion import subset


def fit_softmax(num_train, num_test, batch_size, lr, num_epochs, seed):
    """Train the chapter's concise softmax regression on a Fashion-MNIST subset; return its
    :class:`~d2lnotes.utils.train.History` (loss and accuracy per epoch, test included)."""
    train_iter, test_iter = subset(num_train, num_test, batch_size)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        net = concise.softmax_regression(784, 10)
        return train(net, train_iter, test_iter, concise.softmax_regression_loss(), num_epochs,
                     torch.optim.SGD(net.parameters(), lr=lr), quiet=True)


@exercise("3.7.1", zh="3.7.1", edition_1_0=None, kind="experiment",
          question="Change the batch size, the number of epochs and the learning rate: what "
                   "happens?")
def hyperparameters(seed=0, num_train=2000, num_test=1000):
    runs = {"small_lr": (64, 0.01, 1), "base": (64, 0.1, 1), "big_batch": (256, 0.1, 1),
            "more_epochs": (64, 0.1, 3)}
    results = {}
    for name, (batch_size, lr, num_epochs) in runs.items():
        h = fit_softmax(num_train, num_test, batch_size, lr, num_epochs, seed)
        results[name] = {"batch_size": batch_size, "lr": lr, "epochs": num_epochs,
                         "steps": num_epochs * -(-num_train // batch_size),
                         "train_loss": h.train_loss[-1], "test_acc": h.test_acc[-1]}
    small, base, big, more = (results[k] for k in runs)

    def show(run):
        return f"train loss {run['train_loss']:.3f}, test accuracy {run['test_acc']:.3f}"

    return Answer(
        f"On {num_train} training images (testing on {num_test}), the training loss "
        f"(averaged over the last epoch) after one epoch at batch 64: lr 0.01 gives "
        f"{show(small)}, lr 0.1 {show(base)}: too small a rate crawls (too large a one "
        f"diverges, as in §3.2). Three epochs instead of one: {show(more)}, since the model "
        f"is still far from the optimum. Batch 256 takes {big['steps']} steps per epoch "
        f"instead of {base['steps']}: {show(big)}, less progress per epoch for the same "
        "arithmetic, though each step is cheaper per example in wall time. One epoch's test "
        "accuracy is noisy; the training loss shows the trends reliably.",
        {"runs": results, "num_train": num_train, "num_test": num_test})


@exercise("3.7.2", zh="3.7.2", edition_1_0="4.5.3", kind="experiment",
          question="Train for more epochs: why can test accuracy fall after a while, and what "
                   "helps?")
def many_epochs(seed=0, num_train=200, num_test=2000, num_epochs=40):
    h = fit_softmax(num_train, num_test, 20, 0.5, num_epochs, seed)
    gaps = [tr - te for tr, te in zip(h.train_acc, h.test_acc)]
    best = max(range(num_epochs), key=lambda e: h.test_acc[e])
    return Answer(
        f"The model starts to fit the particular training images instead of the classes: "
        f"on {num_train} training images, train accuracy climbs to {h.train_acc[-1]:.3f} "
        f"while test accuracy peaks at {h.test_acc[best]:.3f} in epoch {best + 1} and ends "
        f"at {h.test_acc[-1]:.3f}; the test loss rises from {min(h.test_loss):.3f} to "
        f"{h.test_loss[-1]:.3f}. The train-test gap grows from {gaps[0]:.3f} after the first "
        f"epoch to {gaps[-1]:.3f}. Remedies: stop early on a validation set, weight decay "
        "(§4.5), more data.",
        {"train_acc": h.train_acc, "test_acc": h.test_acc, "test_loss": h.test_loss,
         "train_loss": h.train_loss, "gap_first": gaps[0], "gap_last": gaps[-1],
         "best_epoch": best + 1})
