"""d2lnotes.check: a catalogue of typical wrong implementations, each failing for its mistake.

Every entry is a mistake learners make in chapters 2-4, written the way they write it,
with the property that must fail. The assertion is on the property's name (what a
learner reads first), never on the printed message.
"""

import math
import random

import numpy as np
import pytest
import torch

from d2lnotes import check
from d2lnotes.check.topics import TOPICS

FEW = 2
MISTAKES = []  # (topic, expected failed property, wrong function)


def mistake(name, prop):
    def register(fn):
        MISTAKES.append(pytest.param(name, prop, fn, id=f"{name}-{fn.__name__}"))
        return fn
    return register


# --- ch2.numerical_grad --------------------------------------------------------------------

@mistake("ch2.numerical_grad", "agrees with autograd to 1e-5")
def forward_difference(f, x, h=1e-4):
    grad = torch.zeros_like(x).reshape(-1)
    for i in range(x.numel()):
        y = x.clone().reshape(-1)
        y[i] += h
        grad[i] = (f(y.reshape(x.shape)) - f(x)) / h
    return grad.reshape(x.shape)


@mistake("ch2.numerical_grad", "agrees with autograd to 1e-5")
def divides_by_h(f, x, h=1e-5):
    grad = torch.zeros_like(x).reshape(-1)
    for i in range(x.numel()):
        up, down = x.clone().reshape(-1), x.clone().reshape(-1)
        up[i] += h
        down[i] -= h
        grad[i] = (f(up.reshape(x.shape)) - f(down.reshape(x.shape))) / h
    return grad.reshape(x.shape)


@mistake("ch2.numerical_grad", "leaves its inputs unchanged")
def forgets_to_restore(f, x, h=1e-5):
    grad = torch.zeros_like(x).reshape(-1)
    flat = x.reshape(-1)
    for i in range(x.numel()):
        flat[i] += h
        up = f(x)
        flat[i] -= 2 * h
        grad[i] = (up - f(x)) / (2 * h)
    return grad.reshape(x.shape)


@mistake("ch2.numerical_grad", "one partial derivative per entry of x")
def nudges_every_entry_at_once(f, x, h=1e-5):
    return (f(x + h) - f(x - h)) / (2 * h)


# --- ch3.synthetic_data --------------------------------------------------------------------

@mistake("ch3.synthetic_data", "X is (num_examples, len(w)) and y is (num_examples, 1)")
def y_not_a_column(w, b, num_examples):
    X = torch.normal(0, 1, (num_examples, len(w)))
    return X, X @ w + b + torch.normal(0, 0.01, (num_examples,))


@mistake("ch3.synthetic_data", "y = Xw + b + noise, noise ~ N(0, 0.01^2)")
def no_noise(w, b, num_examples):
    X = torch.normal(0, 1, (num_examples, len(w)))
    return X, (X @ w + b).reshape(-1, 1)


@mistake("ch3.synthetic_data", "y = Xw + b + noise, noise ~ N(0, 0.01^2)")
def noise_of_deviation_one(w, b, num_examples):
    X = torch.normal(0, 1, (num_examples, len(w)))
    y = X @ w + b
    return X, (y + torch.randn(y.shape)).reshape(-1, 1)


@mistake("ch3.synthetic_data", "features X ~ N(0, 1)")
def uniform_features(w, b, num_examples):
    X = torch.rand(num_examples, len(w))
    y = X @ w + b + torch.normal(0, 0.01, (num_examples,))
    return X, y.reshape(-1, 1)


# --- ch3.data_iter -------------------------------------------------------------------------

@mistake("ch3.data_iter", "visits every example exactly once per pass")
def drops_the_short_batch(batch_size, features, labels):
    indices = list(range(len(features)))
    random.shuffle(indices)
    for i in range(0, len(features) - batch_size + 1, batch_size):
        batch = torch.tensor(indices[i:i + batch_size])
        yield features[batch], labels[batch]


@mistake("ch3.data_iter", "visits every example exactly once per pass")
def samples_with_replacement(batch_size, features, labels):
    for _ in range(math.ceil(len(features) / batch_size)):
        batch = torch.randint(0, len(features), (batch_size,))
        yield features[batch], labels[batch]


@mistake("ch3.data_iter", "reads the examples in shuffled order")
def never_shuffles(batch_size, features, labels):
    for i in range(0, len(features), batch_size):
        yield features[i:i + batch_size], labels[i:i + batch_size]


@mistake("ch3.data_iter", "features and labels stay paired")
def shuffles_twice(batch_size, features, labels):
    a, b = torch.randperm(len(features)), torch.randperm(len(features))
    for i in range(0, len(features), batch_size):
        yield features[a[i:i + batch_size]], labels[b[i:i + batch_size]]


# --- ch3.linreg ----------------------------------------------------------------------------

@mistake("ch3.linreg", "y_hat = Xw + b")
def forgets_b(X, w, b):
    return X @ w


@mistake("ch3.linreg", "runs without error")
def w_times_X(X, w, b):
    return torch.matmul(w, X) + b


@mistake("ch3.linreg", "returns y_hat of shape (n, 1)")
def elementwise_product(X, w, b):
    return (X * w.reshape(-1)).sum() + b


# --- ch3.squared_loss ----------------------------------------------------------------------

@mistake("ch3.squared_loss", "has the 1/2")
def no_half(y_hat, y):
    return (y_hat - y.reshape(y_hat.shape)) ** 2


@mistake("ch3.squared_loss", "keeps the shape (n, 1) of y_hat")
def no_reshape(y_hat, y):
    return (y_hat - y) ** 2 / 2


@mistake("ch3.squared_loss", "keeps the shape (n, 1) of y_hat")
def returns_the_mean(y_hat, y):
    return ((y_hat - y.reshape(y_hat.shape)) ** 2 / 2).mean()


@mistake("ch3.squared_loss", "equals (y_hat - y)^2 / 2")
def absolute_error(y_hat, y):
    return (y_hat - y.reshape(y_hat.shape)).abs() / 2


# --- ch3.sgd -------------------------------------------------------------------------------

@mistake("ch3.sgd", "divides the step by batch_size")
def no_division(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad
            param.grad.zero_()


@mistake("ch3.sgd", "zeroes the gradients")
def no_zeroing(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size


@mistake("ch3.sgd", "updates under torch.no_grad()")
def no_no_grad(params, lr, batch_size):
    for param in params:
        param -= lr * param.grad / batch_size
        param.grad.zero_()


@mistake("ch3.sgd", "updates the parameters in place")
def rebinds_the_name(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param = param - lr * param.grad / batch_size
            param.grad = None


# --- ch3.softmax ---------------------------------------------------------------------------

@mistake("ch3.softmax", "stays finite for large logits")
def naive_softmax(X):
    X_exp = torch.exp(X)
    return X_exp / X_exp.sum(1, keepdim=True)


@mistake("ch3.softmax", "each row sums to 1")
def over_columns(X):
    X_exp = torch.exp(X - X.max(dim=1, keepdim=True).values)
    return X_exp / X_exp.sum(0, keepdim=True)


@mistake("ch3.softmax", "stays finite for large logits")
def subtracts_the_global_max(X):
    X_exp = torch.exp(X - X.max())
    return X_exp / X_exp.sum(1, keepdim=True)


@mistake("ch3.softmax", "leaves its inputs unchanged")
def in_place(X):
    X -= X.max(dim=1, keepdim=True).values
    X.exp_()
    return X / X.sum(1, keepdim=True)


@mistake("ch3.softmax", "returns a tensor")
def numpy_softmax(X):
    e = np.exp(X.detach().numpy() - X.detach().numpy().max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


# --- ch3.cross_entropy ---------------------------------------------------------------------

@mistake("ch3.cross_entropy", "one loss per example, shape (n,)")
def every_column(y_hat, y):
    return -torch.log(y_hat[:, y])


@mistake("ch3.cross_entropy", "one loss per example, shape (n,)")
def mean_loss(y_hat, y):
    return -torch.log(y_hat[range(len(y_hat)), y]).mean()


@mistake("ch3.cross_entropy", "is -log of the true class's probability")
def no_minus(y_hat, y):
    return torch.log(y_hat[range(len(y_hat)), y])


@mistake("ch3.cross_entropy", "is -log of the true class's probability")
def sums_every_class(y_hat, y):
    return -torch.log(y_hat).sum(1)


# --- ch3.accuracy --------------------------------------------------------------------------

@mistake("ch3.accuracy", "returns a Python float")
def returns_a_tensor(y_hat, y):
    return (y_hat.argmax(axis=1).type(y.dtype) == y).sum()


@mistake("ch3.accuracy", "counts correct predictions (not a fraction)")
def returns_the_fraction(y_hat, y):
    return float((y_hat.argmax(axis=1).type(y.dtype) == y).float().mean())


@mistake("ch3.accuracy", "takes the arg-max of each row")
def argmax_over_columns(y_hat, y):
    return float((y_hat.argmax(axis=0)[:len(y)].type(y.dtype) == y).sum())


# --- ch4.relu ------------------------------------------------------------------------------

@mistake("ch4.relu", "keeps the shape of X")
def max_of_all(X):
    return torch.max(X)


@mistake("ch4.relu", "returns a tensor")
def max_along_a_dim(X):
    return torch.max(X, 0)


@mistake("ch4.relu", "max(x, 0) elementwise")
def absolute_value(X):
    return torch.abs(X)


@mistake("ch4.relu", "leaves its inputs unchanged")
def zeroes_in_place(X):
    X[X < 0] = 0
    return X


# --- ch4.dropout_layer ---------------------------------------------------------------------

@mistake("ch4.dropout_layer", "scales the survivors by 1 / (1 - p)")
def no_rescaling(X, dropout):
    if dropout == 1:
        return torch.zeros_like(X)
    return X * (torch.rand(X.shape) > dropout).float()


@mistake("ch4.dropout_layer", "zeroes a fraction p of the elements")
def keeps_with_probability_p(X, dropout):
    if dropout in (0, 1):
        return X if dropout == 0 else torch.zeros_like(X)
    return X * (torch.rand(X.shape) < dropout).float() / (1 - dropout)


@mistake("ch4.dropout_layer", "p = 0 keeps X and p = 1 gives zeros")
def divides_by_zero(X, dropout):
    return (torch.rand(X.shape) > dropout).float() * X / (1.0 - dropout)


@mistake("ch4.dropout_layer", "leaves its inputs unchanged")
def drops_in_place(X, dropout):
    if dropout == 1:
        return X.zero_()
    X[torch.rand(X.shape) < dropout] = 0
    return X.div_(1 - dropout)


@mistake("ch4.dropout_layer", "gradients flow through the kept elements")
def builds_a_new_tensor(X, dropout):
    if dropout == 1:
        return torch.zeros_like(X)
    mask = (torch.rand(X.shape) > dropout).float()
    return torch.tensor((mask * X / (1 - dropout)).tolist())


# --- ch4.l2_penalty ------------------------------------------------------------------------

@mistake("ch4.l2_penalty", "has the 1/2")
def no_half_penalty(w):
    return torch.sum(w.pow(2))


@mistake("ch4.l2_penalty", "equals ||w||^2 / 2")
def the_norm(w):
    return torch.norm(w) / 2


@mistake("ch4.l2_penalty", "equals ||w||^2 / 2")
def l1_penalty(w):
    return torch.sum(torch.abs(w)) / 2


@mistake("ch4.l2_penalty", "returns a scalar")
def per_weight(w):
    return w.pow(2) / 2


# --- ch4.log_rmse --------------------------------------------------------------------------

@mistake("ch4.log_rmse", "clips predictions below 1 before the log")
def no_clipping(net, features, labels):
    return torch.sqrt(torch.nn.MSELoss()(torch.log(net(features)), torch.log(labels))).item()


@mistake("ch4.log_rmse", "sqrt(mean((log y_hat - log y)^2))")
def no_logs(net, features, labels):
    preds = torch.clamp(net(features), 1, float("inf"))
    return torch.sqrt(torch.nn.MSELoss()(preds, labels)).item()


@mistake("ch4.log_rmse", "sqrt(mean((log y_hat - log y)^2))")
def no_square_root(net, features, labels):
    preds = torch.clamp(net(features), 1, float("inf"))
    return torch.nn.MSELoss()(torch.log(preds), torch.log(labels)).item()


@mistake("ch4.log_rmse", "returns a Python float")
def returns_a_tensor_rmse(net, features, labels):
    preds = torch.clamp(net(features), 1, float("inf"))
    return torch.sqrt(torch.nn.MSELoss()(torch.log(preds), torch.log(labels)))


# --- ch4.get_k_fold_data -------------------------------------------------------------------

@mistake("ch4.get_k_fold_data", "the training set is the other folds, without fold i")
def leaks_the_fold(k, i, X, y):
    fold_size = len(X) // k
    valid = slice(i * fold_size, (i + 1) * fold_size)
    return X, y, X[valid], y[valid]


@mistake("ch4.get_k_fold_data", "the validation set is fold i")
def fold_one_too_long(k, i, X, y):
    fold_size = len(X) // k
    valid = torch.zeros(len(X), dtype=torch.bool)
    valid[i * fold_size:(i + 1) * fold_size + 1] = True
    return X[~valid], y[~valid], X[valid], y[valid]


@mistake("ch4.get_k_fold_data", "features and labels stay paired")
def labels_of_the_next_fold(k, i, X, y):
    fold_size = len(X) // k
    valid = torch.zeros(len(X), dtype=torch.bool)
    valid[i * fold_size:(i + 1) * fold_size] = True
    shifted = valid.roll(fold_size)
    return X[~valid], y[~shifted], X[valid], y[shifted]


@mistake("ch4.get_k_fold_data", "runs without error")
def float_fold_size(k, i, X, y):
    fold_size = X.shape[0] / k
    return X[:i * fold_size], y[:i * fold_size], X[i * fold_size:], y[i * fold_size:]


# --- ch4.mlp -------------------------------------------------------------------------------

@mistake("ch4.mlp", "O = relu(X W1 + b1) W2 + b2")
def no_relu(X, W1, b1, W2, b2):
    X = X.reshape((-1, W1.shape[0]))
    return (X @ W1 + b1) @ W2 + b2


@mistake("ch4.mlp", "O = relu(X W1 + b1) W2 + b2")
def softmax_at_the_end(X, W1, b1, W2, b2):
    H = torch.relu(X.reshape((-1, W1.shape[0])) @ W1 + b1)
    return torch.softmax(H @ W2 + b2, dim=1)


@mistake("ch4.mlp", "runs without error")
def no_flattening(X, W1, b1, W2, b2):
    return torch.relu(X @ W1 + b1) @ W2 + b2


@mistake("ch4.mlp", "gradients agree with autograd's")
def detached_hidden_layer(X, W1, b1, W2, b2):
    H = torch.relu(X.reshape((-1, W1.shape[0])) @ W1 + b1).detach()
    return H @ W2 + b2


# --- ch4.xavier_uniform --------------------------------------------------------------------

@mistake("ch4.xavier_uniform", "variance 2 / (n_in + n_out)")
def fan_in_only(num_inputs, num_outputs):
    a = math.sqrt(3 / num_inputs)
    return torch.empty(num_inputs, num_outputs).uniform_(-a, a)


@mistake("ch4.xavier_uniform", "uniform on [-a, a], a = sqrt(6 / (n_in + n_out))")
def only_positive(num_inputs, num_outputs):
    return torch.rand(num_inputs, num_outputs) * math.sqrt(6 / (num_inputs + num_outputs))


@mistake("ch4.xavier_uniform", "uniform on [-a, a], a = sqrt(6 / (n_in + n_out))")
def normal_with_the_uniform_bound(num_inputs, num_outputs):
    return torch.randn(num_inputs, num_outputs) * math.sqrt(6 / (num_inputs + num_outputs))


@mistake("ch4.xavier_uniform", "a num_inputs x num_outputs weight")
def a_vector(num_inputs, num_outputs):
    a = math.sqrt(6 / (num_inputs + num_outputs))
    return torch.empty(num_inputs * num_outputs).uniform_(-a, a)


# --- any topic: raising, looping forever --------------------------------------------------

@mistake("ch3.softmax", "runs without error")
def raises(X):
    raise NotImplementedError("TODO")


@mistake("ch4.relu", "finishes in time")
def loops_forever(X):
    while True:
        pass


@mistake("ch3.cross_entropy", "finishes in time")
def swallows_every_exception(y_hat, y):
    while True:
        try:
            pass
        except Exception:  # the time limit is no Exception: it still stops this
            pass


def test_the_catalogue_is_big_enough():
    per_topic = {}
    for p in MISTAKES:
        per_topic[p.values[0]] = per_topic.get(p.values[0], 0) + 1
    assert len(MISTAKES) >= 40
    assert set(per_topic) == set(TOPICS) and min(per_topic.values()) >= 2


@pytest.mark.parametrize("name, prop, fn", MISTAKES)
def test_mistake_fails_its_property(name, prop, fn):
    # A short limit only where the loop is the mistake: a loaded machine may be slow.
    result = check(name, fn, max_examples=FEW,
                   time_limit=0.1 if prop == "finishes in time" else 2.0)
    assert not result and not result.passed
    assert prop in result.failed_names, str(result)
    failure = next(o for o in result.failed if o.name == prop)
    assert failure.message and failure.example.startswith(TOPICS[name].function + "(")


def test_the_smallest_failing_input_is_shown():
    result = check("ch3.softmax", naive_softmax, max_examples=FEW)
    failure = result.failed[0]
    assert failure.name == "stays finite for large logits"
    assert failure.example == "softmax(tensor([[100., 0.]]))"
    assert "88.7" in failure.message and "§3.7" in failure.message


def test_a_gate_stops_the_later_properties():
    result = check("ch3.softmax", raises, max_examples=FEW)
    assert result.failed_names == ["runs without error"]
    assert all(o.passed is None for o in result.outcomes[1:])
    assert "NotImplementedError: TODO" in result.failed[0].message


def test_outside_the_main_thread_a_thread_keeps_the_time():
    import threading

    results = []
    worker = threading.Thread(target=lambda: results.append(
        check("ch3.softmax", raises, max_examples=FEW)))
    worker.start()
    worker.join()
    assert results[0].failed_names == ["runs without error"]


def test_ctrl_c_is_not_swallowed():
    def interrupted(X):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        check("ch3.softmax", interrupted, max_examples=FEW)
