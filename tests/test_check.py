"""d2lnotes.check: d2lnotes' own functions and correct alternatives pass every property.

A learner's correct but different code must pass: a logsumexp softmax, a loop
cross_entropy, a boolean-mask dropout. Each alternative below is written the way a
learner might, in the book's names.
"""

import math
import random

import pytest
import torch
from torch.nn import functional as F

from d2lnotes import check
from d2lnotes.ch2 import scratch as scratch2
from d2lnotes.ch3 import scratch as scratch3
from d2lnotes.ch4 import scratch as scratch4
from d2lnotes.check.topics import TOPICS

FEW = 2  # random inputs per check, besides the edge cases: the suite stays fast

# --- ch2.numerical_grad ---------------------------------------------------------------------


def grad_loop(f, x, h=1e-5):
    grad = torch.zeros_like(x)
    for i in range(x.numel()):
        e = torch.zeros_like(x).reshape(-1)
        e[i] = h
        e = e.reshape(x.shape)
        grad.reshape(-1)[i] = (f(x + e) - f(x - e)) / (2 * h)
    return grad


def grad_clone(f, x):
    h, grad = 1e-6, torch.empty_like(x)
    for idx in torch.cartesian_prod(*[torch.arange(n) for n in x.shape]).reshape(x.ndim and -1,
                                                                                 x.ndim):
        idx = tuple(idx.tolist())
        up, down = x.clone(), x.clone()
        up[idx] += h
        down[idx] -= h
        grad[idx] = (f(up) - f(down)) / (2 * h)
    return grad


def grad_fourth_order(f, x, h=1e-3):
    grad = torch.empty_like(x).reshape(-1)
    for i in range(x.numel()):
        def at(d, i=i):
            y = x.clone().reshape(-1)
            y[i] += d
            return float(f(y.reshape(x.shape)))
        grad[i] = (-at(2 * h) + 8 * at(h) - 8 * at(-h) + at(-2 * h)) / (12 * h)
    return grad.reshape(x.shape)


# --- ch3 -----------------------------------------------------------------------------------

def synthetic_book(w, b, num_examples):
    X = torch.normal(0, 1, (num_examples, len(w)))
    y = torch.matmul(X, w) + b
    y += torch.normal(0, 0.01, y.shape)
    return X, y.reshape((-1, 1))


def synthetic_randn(w, b, num_examples):
    X = torch.randn(num_examples, w.shape[0])
    y = (X @ w.reshape(-1, 1) + b) + 0.01 * torch.randn(num_examples, 1)
    return X, y


def synthetic_loop(w, b, num_examples):
    X = torch.randn(num_examples, len(w))
    y = torch.zeros(num_examples, 1)
    for i in range(num_examples):
        y[i, 0] = (X[i] * w).sum() + b + random.gauss(0, 0.01)
    return X, y


def data_iter_book(batch_size, features, labels):
    num_examples = len(features)
    indices = list(range(num_examples))
    random.shuffle(indices)
    for i in range(0, num_examples, batch_size):
        batch_indices = torch.tensor(indices[i: min(i + batch_size, num_examples)])
        yield features[batch_indices], labels[batch_indices]


def data_iter_randperm(batch_size, features, labels):
    order = torch.randperm(len(features))
    return [(features[order[i:i + batch_size]], labels[order[i:i + batch_size]])
            for i in range(0, len(features), batch_size)]


def data_iter_split(batch_size, features, labels):
    for batch in torch.randperm(len(labels)).split(batch_size):
        yield features.index_select(0, batch), labels.index_select(0, batch)


def linreg_book(X, w, b):
    return torch.matmul(X, w) + b


def linreg_addmm(X, w, b):
    return torch.addmm(b, X, w)


def linreg_sum(X, w, b):
    return (X * w.T).sum(dim=1, keepdim=True) + b


def squared_loss_book(y_hat, y):
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def squared_loss_view(y_hat, y):
    return 0.5 * (y_hat - y.view(-1, 1)).pow(2)


def squared_loss_mse(y_hat, y):
    return F.mse_loss(y_hat, y.reshape(y_hat.shape), reduction="none") / 2


def sgd_book(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


def sgd_data(params, lr, batch_size):
    for param in params:
        param.data.sub_(lr / batch_size * param.grad)
        param.grad = None


def sgd_torch(params, lr, batch_size):
    optimizer = torch.optim.SGD(params, lr=lr / batch_size)
    optimizer.step()
    optimizer.zero_grad()


def softmax_book(X):
    X_exp = torch.exp(X - X.max(1, keepdim=True).values)
    return X_exp / X_exp.sum(1, keepdim=True)


def softmax_logsumexp(X):
    return torch.exp(X - torch.logsumexp(X, dim=1, keepdim=True))


def softmax_rows(X):
    rows = []
    for x in X:
        e = torch.exp(x - x.max())
        rows.append(e / e.sum())
    return torch.stack(rows)


def cross_entropy_book(y_hat, y):
    return -torch.log(y_hat[range(len(y_hat)), y])


def cross_entropy_loop(y_hat, y):
    return torch.stack([-torch.log(y_hat[i, int(y[i])]) for i in range(len(y))])


def cross_entropy_gather(y_hat, y):
    return -y_hat.gather(1, y.long().reshape(-1, 1)).log().reshape(-1)


def cross_entropy_onehot(y_hat, y):
    return -(F.one_hot(y.long(), y_hat.shape[1]) * torch.log(y_hat)).sum(1)


def accuracy_book(y_hat, y):
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())


def accuracy_item(y_hat, y):
    return (y_hat.argmax(dim=1) == y.long()).sum().item()


def accuracy_loop(y_hat, y):
    return float(sum(int(row.argmax()) == int(label) for row, label in zip(y_hat, y)))


# --- ch4 -----------------------------------------------------------------------------------

def relu_book(X):
    a = torch.zeros_like(X)
    return torch.max(X, a)


def relu_clamp(X):
    return X.clamp(min=0)


def relu_where(X):
    return torch.where(X > 0, X, torch.zeros_like(X))


def relu_mask(X):
    return X * (X > 0)


def dropout_book(X, dropout):
    assert 0 <= dropout <= 1
    if dropout == 1:
        return torch.zeros_like(X)
    if dropout == 0:
        return X
    mask = (torch.rand(X.shape) > dropout).float()
    return mask * X / (1.0 - dropout)


def dropout_bool_mask(X, dropout):
    if dropout == 1:
        return torch.zeros_like(X)
    keep = torch.rand_like(X) >= dropout
    return torch.where(keep, X / (1 - dropout), torch.zeros_like(X))


def dropout_bernoulli(X, dropout):
    if dropout == 1:
        return X * 0
    return X * torch.bernoulli(torch.full_like(X, 1 - dropout)) / (1 - dropout)


def dropout_functional(X, dropout):
    return F.dropout(X, dropout, training=True)


def l2_book(w):
    return torch.sum(w.pow(2)) / 2


def l2_norm(w):
    return torch.linalg.norm(w) ** 2 / 2


def l2_dot(w):
    return 0.5 * (w.reshape(-1) @ w.reshape(-1))


def log_rmse_book(net, features, labels):
    loss = torch.nn.MSELoss()
    clipped_preds = torch.clamp(net(features), 1, float("inf"))
    rmse = torch.sqrt(loss(torch.log(clipped_preds), torch.log(labels)))
    return rmse.item()


def log_rmse_manual(net, features, labels):
    with torch.no_grad():
        preds = net(features).clamp(min=1.0)
        return math.sqrt(((preds.log() - labels.log()) ** 2).mean().item())


def log_rmse_where(net, features, labels):
    preds = net(features).detach()
    preds = torch.where(preds < 1, torch.ones_like(preds), preds)
    return float(torch.log(preds / labels).pow(2).mean().sqrt())


def k_fold_book(k, i, X, y):
    assert k > 1
    fold_size = X.shape[0] // k
    X_train, y_train = None, None
    for j in range(k):
        idx = slice(j * fold_size, (j + 1) * fold_size)
        X_part, y_part = X[idx, :], y[idx]
        if j == i:
            X_valid, y_valid = X_part, y_part
        elif X_train is None:
            X_train, y_train = X_part, y_part
        else:
            X_train = torch.cat([X_train, X_part], 0)
            y_train = torch.cat([y_train, y_part], 0)
    return X_train, y_train, X_valid, y_valid


def k_fold_mask(k, i, X, y):
    fold_size = len(X) // k
    valid = torch.zeros(len(X), dtype=torch.bool)
    valid[i * fold_size:(i + 1) * fold_size] = True
    return X[~valid], y[~valid], X[valid], y[valid]


def k_fold_chunks(k, i, X, y):
    fold_size = len(X) // k
    X_folds, y_folds = X[:k * fold_size].split(fold_size), y[:k * fold_size].split(fold_size)
    others = [j for j in range(k) if j != i]
    return (torch.cat([X_folds[j] for j in others]), torch.cat([y_folds[j] for j in others]),
            X_folds[i], y_folds[i])


def mlp_book(X, W1, b1, W2, b2):
    X = X.reshape((-1, W1.shape[0]))
    H = relu_book(X @ W1 + b1)
    return H @ W2 + b2


def mlp_matmul(X, W1, b1, W2, b2):
    H = torch.relu(torch.matmul(X.flatten(1), W1) + b1)
    return torch.matmul(H, W2) + b2


def mlp_linear(X, W1, b1, W2, b2):
    H = F.relu(F.linear(X.reshape(len(X), -1), W1.T, b1))
    return F.linear(H, W2.T, b2)


def mlp_scratch(X, W1, b1, W2, b2):
    """d2lnotes' own scratch MLP, its parameters set to these."""
    net = scratch4.MLP(W1.shape[0], W2.shape[1], W1.shape[1])
    net.W1, net.b1, net.W2, net.b2 = W1, b1, W2, b2
    return net(X)


def xavier_book_layout(num_inputs, num_outputs):
    a = math.sqrt(6 / (num_inputs + num_outputs))
    return torch.empty(num_inputs, num_outputs).uniform_(-a, a)


def xavier_init(num_inputs, num_outputs):
    W = torch.empty(num_outputs, num_inputs)
    torch.nn.init.xavier_uniform_(W)
    return W


def xavier_rand(num_inputs, num_outputs):
    bound = (6 / (num_inputs + num_outputs)) ** 0.5
    return 2 * bound * torch.rand(num_inputs, num_outputs) - bound


OWN = {
    "ch2.numerical_grad": scratch2.numerical_grad,
    "ch3.linreg": scratch3.linreg,
    "ch3.squared_loss": scratch3.squared_loss,
    "ch3.softmax": scratch3.softmax,
    "ch3.cross_entropy": scratch3.cross_entropy,
    "ch4.relu": scratch4.relu,
    "ch4.dropout_layer": scratch4.dropout_layer,
    "ch4.l2_penalty": scratch4.l2_penalty,
    "ch4.mlp": mlp_scratch,
    "ch4.xavier_uniform": scratch4.xavier_uniform,
}

ALTERNATIVES = {
    "ch2.numerical_grad": [grad_loop, grad_clone, grad_fourth_order],
    "ch3.synthetic_data": [synthetic_book, synthetic_randn, synthetic_loop],
    "ch3.data_iter": [data_iter_book, data_iter_randperm, data_iter_split],
    "ch3.linreg": [linreg_book, linreg_addmm, linreg_sum],
    "ch3.squared_loss": [squared_loss_book, squared_loss_view, squared_loss_mse],
    "ch3.sgd": [sgd_book, sgd_data, sgd_torch],
    "ch3.softmax": [softmax_book, softmax_logsumexp, softmax_rows],
    "ch3.cross_entropy": [cross_entropy_book, cross_entropy_loop, cross_entropy_gather,
                          cross_entropy_onehot],
    "ch3.accuracy": [accuracy_book, accuracy_item, accuracy_loop],
    "ch4.relu": [relu_book, relu_clamp, relu_where, relu_mask],
    "ch4.dropout_layer": [dropout_book, dropout_bool_mask, dropout_bernoulli,
                          dropout_functional],
    "ch4.l2_penalty": [l2_book, l2_norm, l2_dot],
    "ch4.log_rmse": [log_rmse_book, log_rmse_manual, log_rmse_where],
    "ch4.get_k_fold_data": [k_fold_book, k_fold_mask, k_fold_chunks],
    "ch4.mlp": [mlp_book, mlp_matmul, mlp_linear],
    "ch4.xavier_uniform": [xavier_book_layout, xavier_init, xavier_rand],
}


def test_every_topic_has_three_alternatives():
    assert set(ALTERNATIVES) == set(TOPICS)
    assert all(len(fns) >= 3 for fns in ALTERNATIVES.values())


@pytest.mark.parametrize("name", list(TOPICS))
def test_d2lnotes_own_function_passes(name):
    fn = OWN.get(name, TOPICS[name].twin)
    result = check(name, fn, max_examples=FEW)
    assert result.passed, str(result)
    assert bool(result) and not result.failed


@pytest.mark.parametrize("name, fn", [(name, fn) for name, fns in ALTERNATIVES.items()
                                      for fn in fns], ids=lambda v: getattr(v, "__name__", v))
def test_correct_alternative_passes(name, fn):
    result = check(name, fn, max_examples=FEW)
    assert result.passed, str(result)


def test_gradients_come_as_a_table_per_parameter():
    result = check("ch4.mlp", mlp_book, max_examples=FEW)
    assert [row.name for row in result.gradients] == ["W1", "b1", "W2", "b2"]
    assert all(row.close and row.shape == row.twin_shape for row in result.gradients)
    assert "exact: " in str(result) and "allclose: " in str(result)


def test_the_report_shows_in_a_terminal_and_in_jupyter():
    passed = check("ch3.softmax", softmax_book, max_examples=FEW)
    failed = check("ch3.softmax", scratch3.softmax_naive, max_examples=FEW)
    assert "PASSED" in str(passed) and "FAILED" in str(failed)
    html = failed._repr_html_()
    assert html.startswith("<div") and "stays finite for large logits" in html
    assert "<table>" in html and "100." in html
    assert repr(failed).startswith("<check ch3.softmax softmax_naive: failed")


def test_the_same_verdict_every_run_and_the_callers_generators_untouched():
    torch.manual_seed(123)
    random.seed(123)
    before = torch.get_rng_state(), random.getstate()
    first = check("ch4.dropout_layer", dropout_book, max_examples=FEW)
    assert torch.equal(torch.get_rng_state(), before[0]) and random.getstate() == before[1]
    second = check("ch4.dropout_layer", dropout_book, max_examples=FEW)
    assert first.outcomes == second.outcomes


def test_hypothesis_writes_nothing_into_the_working_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    check("ch3.softmax", scratch3.softmax_naive, max_examples=FEW)
    assert list(tmp_path.iterdir()) == []


def test_short_names_and_unknown_topics():
    from d2lnotes.check.names import lookup
    from d2lnotes.utils.errors import UsageError

    assert lookup("softmax") == "ch3.softmax" and lookup("dropout_layer") == "ch4.dropout_layer"
    with pytest.raises(UsageError, match="did you mean ch3.softmax"):
        lookup("ch3.sofmax")
    with pytest.raises(TypeError, match="fn must be the function"):
        check("ch3.softmax", "softmax")
