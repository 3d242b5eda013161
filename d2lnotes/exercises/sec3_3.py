"""§3.3 Linear regression with torch.nn: summed versus mean loss, Huber's loss, gradients."""

import copy

import torch
from torch import nn

from ..ch3 import concise
from ..utils.data import load_array
from ..utils.train import compare, train
from .core import Answer, exercise
from .sec3_2 import TRUE_B, TRUE_W, section_data


def linear_pair(seed):
    """Two ``nn.Linear`` regressions with the same initial parameters."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        net = concise.linear_regression(2)
    return net, copy.deepcopy(net)


@exercise("3.3.1", zh="3.3.1", edition_1_0="3.5.1", kind="fact",
          question="Replace the minibatch's summed loss by its mean: how must the learning rate "
                   "change for the same training?")
def sum_to_mean(seed=0, batch_size=10, lr=0.003, num_examples=1000, num_epochs=2):
    features, labels = section_data(seed, num_examples)
    data_iter = load_array((features, labels), batch_size)
    net_sum, net_mean = linear_pair(seed)
    versions = {
        "sum": (net_sum, nn.MSELoss(reduction="sum"), torch.optim.SGD(net_sum.parameters(), lr)),
        "mean": (net_mean, nn.MSELoss(),
                 torch.optim.SGD(net_mean.parameters(), lr * batch_size)),
    }
    layout = {k: [v[0][0].weight, v[0][0].bias] for k, v in versions.items()}
    same = compare(versions, data_iter, None, num_epochs, seed=seed, layout=layout)
    net_sum, net_same_lr = linear_pair(seed)
    versions = {
        "sum": (net_sum, nn.MSELoss(reduction="sum"), torch.optim.SGD(net_sum.parameters(), lr)),
        "mean, same lr": (net_same_lr, nn.MSELoss(),
                          torch.optim.SGD(net_same_lr.parameters(), lr)),
    }
    layout = {k: [v[0][0].weight, v[0][0].bias] for k, v in versions.items()}
    unchanged = compare(versions, data_iter, None, num_epochs, seed=seed, layout=layout)
    return Answer(
        f"Multiply it by the batch size. The mean is the sum divided by batch_size, and so is "
        f"its gradient, so lr x batch_size on the mean takes exactly the steps lr takes on "
        f"the sum. Trained on the same batches (batch {batch_size}, lr {lr} on the sum, "
        f"{lr * batch_size:g} on the mean), the parameters end {same.max_param_diff:.1e} "
        f"apart; keeping lr {lr} on the mean leaves them {unchanged.max_param_diff:.2f} apart "
        f"after {num_epochs} epochs. (With a short last batch, that one step would need its "
        "own size as the factor.)",
        {"batch_size": batch_size, "lr_sum": lr, "lr_mean": lr * batch_size,
         "gap_scaled_lr": same.max_param_diff, "gap_same_lr": unchanged.max_param_diff,
         "gap_per_epoch_scaled_lr": same.extra["param_diff_per_epoch"]})


def huber_loss(y_hat, y, sigma=1.0):
    """Huber's loss: ``|r| - sigma/2`` if ``|r| > sigma``, else ``r^2 / (2 sigma)`` (§3.3)."""
    r = (y_hat - y.reshape(y_hat.shape)).abs()
    return torch.where(r > sigma, r - sigma / 2, r ** 2 / (2 * sigma))


def fit_with(loss, features, labels, seed, lr=0.03, num_epochs=5):
    net, _ = linear_pair(seed)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        train(net, load_array((features, labels), 10), None, loss, num_epochs,
              torch.optim.SGD(net.parameters(), lr), quiet=True)
    w, b = net[0].weight.detach().flatten(), float(net[0].bias.detach())
    return {"w_error": float((w - TRUE_W).abs().max()), "b_error": abs(b - TRUE_B)}


@exercise("3.3.2", zh="3.3.2", edition_1_0="3.5.2", kind="experiment",
          question="Which losses does the framework offer? Train with Huber's robust loss instead "
                   "of the squared loss.")
def huber(seed=0, num_examples=1000, num_epochs=5, lr=0.03, outlier_fraction=0.05):
    r = torch.linspace(-3, 3, 61)
    ours = huber_loss(r, torch.zeros(61))
    torch_twin = nn.SmoothL1Loss(reduction="none", beta=1.0)(r, torch.zeros(61))
    features, labels = section_data(seed, num_examples)
    labels = labels.clone()
    generator = torch.Generator().manual_seed(seed)
    bad = torch.randperm(num_examples, generator=generator)[:int(outlier_fraction * num_examples)]
    labels[bad] += 50.0  # corrupted readings, all on one side
    results = {name: fit_with(loss, features, labels, seed, lr, num_epochs)
               for name, loss in (("squared", nn.MSELoss()), ("huber", huber_loss))}
    return Answer(
        "torch.nn has L1Loss, MSELoss, HuberLoss, SmoothL1Loss, CrossEntropyLoss, NLLLoss, "
        "BCEWithLogitsLoss, ... and torch.nn.init has normal_, uniform_, xavier_*, "
        "kaiming_*, zeros_, ... The book's Huber loss (sigma = 1) is nn.SmoothL1Loss(beta=1) "
        f"(they differ by {float((ours - torch_twin).abs().max()):.1e} on a grid; "
        "nn.HuberLoss(delta) is delta times it). Its gradient is capped at 1, so outliers "
        f"pull less: with {outlier_fraction:.0%} of the labels shifted by +50, the squared "
        f"loss ends with a bias error of {results['squared']['b_error']:.2f}, Huber's with "
        f"{results['huber']['b_error']:.2f} (w errors {results['squared']['w_error']:.2f} and "
        f"{results['huber']['w_error']:.2f}).",
        {"gap_to_smooth_l1": float((ours - torch_twin).abs().max()), **results})


@exercise("3.3.3", zh="3.3.3", edition_1_0="3.5.3", kind="fact",
          question="How do you read the gradient of the linear layer's weights?")
def weight_gradient(seed=0):
    features, labels = section_data(seed, 10)
    net, _ = linear_pair(seed)
    loss = nn.MSELoss()(net(features), labels)
    loss.backward()
    grad = net[0].weight.grad
    # d/dW mean((XW^T + b - y)^2) = 2/n (y_hat - y)^T X
    by_hand = 2 / len(features) * (net(features) - labels).detach().T @ features
    return Answer(
        f"After loss.backward(), net[0].weight.grad (and net[0].bias.grad): a tensor shaped "
        f"like the weight, {tuple(grad.shape)}. For the mean squared error it is "
        f"2/n (y_hat - y)^T X; here {[round(v, 4) for v in grad.flatten().tolist()]}, equal "
        f"to that formula to {float((grad - by_hand).abs().max()):.1e}.",
        {"grad": grad.clone(), "by_hand": by_hand, "shape": list(grad.shape),
         "max_gap": float((grad - by_hand).abs().max())})
