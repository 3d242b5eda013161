"""The checkable functions of chapters 2-4: each one's inputs, twin and properties.

Signatures are the classic edition's (the 1.0 edition's are the same where it has the
function). Each topic draws its inputs with Hypothesis and always tries a few fixed edge
cases first: large logits, a batch of one, a last batch shorter than the rest, ``p = 0``
and ``p = 1``. A property's message says what is wrong in the book's terms; the runner
adds the smallest failing input and the section.
"""

import math

import torch
from hypothesis import strategies as st

from ..ch2 import scratch as scratch2
from ..ch3 import scratch as scratch3
from ..ch4 import scratch as scratch4
from .core import Fail, Topic, fail, gradient_property
from .names import CHECKS

TOPICS = {}


def topic(name, **kwargs):
    """Register the topic ``name`` of :data:`CHECKS`, with its inputs, twin and type check."""
    c = CHECKS[name]
    TOPICS[name] = Topic(name, c.signature, c.show_topic, c.classic, c.edition_1, **kwargs)
    return TOPICS[name]


# --- what a topic returns ---------------------------------------------------------------------

def _kind(value):
    """``numpy.ndarray``, ``torch.Tensor``, ``float``: what a learner would look up."""
    module = type(value).__module__
    module = "torch" if module == "torch._tensor" else module
    return type(value).__name__ if module == "builtins" else f"{module}.{type(value).__name__}"


def returns_tensor(out):
    if not isinstance(out, torch.Tensor):
        hint = (": the book's functions return torch tensors, which autograd and the next "
                "step need (torch.from_numpy turns it back, but compute in torch instead)"
                if type(out).__module__.startswith("numpy") else
                ": a tuple usually means torch.max(X, dim) (values and indices); use "
                "torch.maximum or clamp" if isinstance(out, tuple) else "")
        raise Fail(f"it returned a {_kind(out)}, not a tensor{hint}", "returns a tensor",
                   gate=True)


returns_tensor.label = "returns a tensor"


def returns_number(what):
    def check(out):
        if isinstance(out, bool) or not isinstance(out, (int, float)):
            raise Fail(f"it returned a {_kind(out)}, not a Python number: the book's {what} "
                       "ends with float(...) or .item(), so that adding it up over batches "
                       "keeps no tensors (and no graph) alive", "returns a Python float",
                       gate=True)
    check.label = "returns a Python float"
    return check


def returns_tensors(n, what):
    def check(out):
        if not (isinstance(out, (tuple, list)) and len(out) == n
                and all(isinstance(t, torch.Tensor) for t in out)):
            got = f"{len(out)} values" if isinstance(out, (tuple, list)) else _kind(out)
            raise Fail(f"it returned {got}; the book's version returns {what}",
                       f"returns {what}", gate=True)
    check.label = f"returns {what}"
    return check


def returns_nothing(out):
    return None


# --- shared helpers ----------------------------------------------------------------------------

def floats(low, high):
    """float32 numbers in [low, high] (the bounds rounded to float32)."""
    low, high = (torch.tensor(v, dtype=torch.float32).item() for v in (low, high))
    return st.floats(low, high, width=32, allow_subnormal=False)


def tensor(shape, elements):
    """A float32 tensor of ``shape`` whose entries Hypothesis draws (and shrinks) one by one."""
    size = math.prod(shape)
    return st.lists(elements, min_size=size, max_size=size).map(
        lambda v: torch.tensor(v, dtype=torch.float32).reshape(shape))


def close(out, expected, rtol=1e-5, atol=1e-6):
    out, expected = torch.as_tensor(out).detach(), torch.as_tensor(expected).detach()
    return out.shape == expected.shape and torch.allclose(
        out.double(), expected.double(), rtol=rtol, atol=atol, equal_nan=True)


def largest_gap(out, expected):
    return (out.detach().double() - expected.detach().double()).abs().max().item()


def twice(run, twin, *args):
    """Whether ``run`` gives twice the twin on ``args`` too: one input can be a coincidence
    (``||w|| / 2`` equals ``||w||^2`` when ``||w|| = 1/2``)."""
    return close(run(*args), 2 * twin(*args))


def expect_shape(out, shape, why):
    if tuple(out.shape) != tuple(shape):
        fail(f"it returned shape {tuple(out.shape)}, not {tuple(shape)}: {why}")


# --- Chapter 2: a numerical gradient ---------------------------------------------------------

def _cube_sum(x):
    return (x ** 3).sum()


def _sin_dot(x):
    return (torch.sin(x) * torch.arange(1, x.numel() + 1, dtype=x.dtype).reshape(x.shape)).sum()


FUNCTIONS = [_cube_sum, _sin_dot]

numerical_grad = topic(
    "ch2.numerical_grad",
    twin=scratch2.numerical_grad,
    inputs=st.tuples(st.sampled_from(FUNCTIONS),
                     st.integers(1, 4).flatmap(lambda n: tensor((n,), floats(-3, 3)))
                     .map(lambda x: x.double())),
    examples=[(_cube_sum, torch.tensor([2.0], dtype=torch.float64)),
              (_sin_dot, torch.tensor([[0.5, -1.0], [2.0, 3.0]], dtype=torch.float64))],
    returns=returns_tensor,
    note="x is float64 here, as the gradient check of §2.4 needs")


@numerical_grad.property("one partial derivative per entry of x", gate=True)
def _(run, f, x):
    expect_shape(run(f, x), x.shape, "df/dx has the shape of x, one (f(x + h e_i) - "
                 "f(x - h e_i)) / 2h per entry")


@numerical_grad.property("agrees with autograd to 1e-5")
def _(run, f, x):
    out = run(f, x)
    leaf = x.clone().requires_grad_(True)
    (expected,) = torch.autograd.grad(f(leaf), leaf)
    if not close(out, expected, rtol=1e-5, atol=1e-5):
        ratio = (out.double() / expected).median().item() if expected.abs().min() > 0 else 0
        why = ("it is twice autograd's: a central difference divides by 2h, the width of "
               "[x - h, x + h]" if abs(ratio - 2) < 1e-3 else
               "a forward difference (f(x + h) - f(x)) / h is off by O(h); the central "
               "one (f(x + h) - f(x - h)) / 2h by O(h^2), so use it with h near 1e-5")
        fail(f"it differs from autograd's x.grad by up to {largest_gap(out, expected):.2g}: {why}")


# --- Chapter 3: linear regression ------------------------------------------------------------

def _synthetic(w, b, num_examples):
    from ..utils.data import synthetic_data
    return synthetic_data(w, b, num_examples)


synthetic_data = topic(
    "ch3.synthetic_data",
    twin=_synthetic,
    inputs=st.tuples(st.integers(1, 3).flatmap(lambda d: tensor((d,), floats(-5, 5))),
                     floats(-5, 5), st.integers(400, 1000)),
    examples=[(torch.tensor([2.0, -3.4]), 4.2, 1000), (torch.tensor([1.5]), -1.0, 1)],
    returns=returns_tensors(2, "two tensors (X, y)"))


@synthetic_data.property("X is (num_examples, len(w)) and y is (num_examples, 1)", gate=True)
def _(run, w, b, num_examples):
    X, y = run(w, b, num_examples)
    expect_shape(X, (num_examples, len(w)), "one row of len(w) features per example")
    expect_shape(y, (num_examples, 1), "the book reshapes y to a column with "
                 "y.reshape((-1, 1)), the shape linreg's output has")


@synthetic_data.property("y = Xw + b + noise, noise ~ N(0, 0.01^2)")
def _(run, w, b, num_examples):
    X, y = run(w, b, num_examples)
    noise = y.reshape(-1) - (X @ w + b)
    if noise.abs().max() > 0.1:
        fail(f"y - (Xw + b) reaches {noise.abs().max().item():.3g}; with noise of standard "
             "deviation 0.01 it stays below 0.1: is b added, and is the noise scaled by 0.01?")
    if num_examples >= 100 and not 0.007 < noise.std().item() < 0.013:
        fail(f"the noise y - (Xw + b) has standard deviation {noise.std().item():.3g}, "
             "not 0.01: add torch.normal(0, 0.01, y.shape)")


@synthetic_data.property("features X ~ N(0, 1)")
def _(run, w, b, num_examples):
    X, _ = run(w, b, num_examples)
    if X.numel() >= 400 and not (abs(X.mean().item()) < 0.2 and 0.85 < X.std().item() < 1.15):
        fail(f"X has mean {X.mean().item():.2f} and standard deviation {X.std().item():.2f}; "
             "the book draws X with torch.normal(0, 1, ...), mean 0 and deviation 1 "
             "(torch.rand would be uniform on [0, 1))")


def _loader(batch_size, features, labels):
    from ..utils.data import ArrayLoader
    return ArrayLoader((features, labels), batch_size, shuffle=True)


def _dataset(n):
    """Features ``[i, -i]`` and label ``i``: every row says which example it is."""
    ids = torch.arange(n, dtype=torch.float32)
    return torch.stack([ids, -ids], 1), ids.reshape(-1, 1)


data_iter = topic(
    "ch3.data_iter",
    twin=_loader,
    inputs=st.tuples(st.integers(1, 12), st.integers(1, 40)).map(
        lambda a: (a[0], *_dataset(a[1]))),
    examples=[(3, *_dataset(10)), (1, *_dataset(1)), (4, *_dataset(4)), (5, *_dataset(30))],
    returns=returns_nothing,
    call=lambda fn, *args: list(fn(*args)))


def _batches(run, batch_size, features, labels):
    batches = run(batch_size, features, labels)
    for batch in batches:
        if not (isinstance(batch, (tuple, list)) and len(batch) == 2
                and all(isinstance(t, torch.Tensor) for t in batch)):
            fail(f"it yielded {type(batch).__name__}, not a pair of tensors (X, y): "
                 "yield features[batch_indices], labels[batch_indices]")
    return batches


@data_iter.property("yields (X, y) pairs of tensors", gate=True)
def _(run, batch_size, features, labels):
    _batches(run, batch_size, features, labels)


@data_iter.property("visits every example exactly once per pass")
def _(run, batch_size, features, labels):
    seen = [int(i) for _, y in _batches(run, batch_size, features, labels)
            for i in y.reshape(-1)]
    n, counts = len(labels), {}
    for i in seen:
        counts[i] = counts.get(i, 0) + 1
    missing = [i for i in range(n) if i not in counts]
    repeated = [i for i, c in counts.items() if c > 1]
    if repeated:
        fail(f"example {repeated[0]} came {counts[repeated[0]]} times in one pass: shuffle "
             "a list of all indices once (random.shuffle), then cut it into batches; drawing "
             "indices at random repeats some")
    if missing:
        fail(f"{len(missing)} of {n} examples never came (e.g. example {missing[0]}): "
             "range(0, num_examples, batch_size) reaches the last, shorter batch, and the "
             "slice indices[i: min(i + batch_size, num_examples)] keeps it")


@data_iter.property("batches of batch_size, the last one shorter")
def _(run, batch_size, features, labels):
    sizes = [len(y) for _, y in _batches(run, batch_size, features, labels)]
    want = [batch_size] * (len(labels) // batch_size) + (
        [len(labels) % batch_size] if len(labels) % batch_size else [])
    if sizes != want:
        fail(f"the batch sizes are {sizes}, not {want}")


@data_iter.property("features and labels stay paired")
def _(run, batch_size, features, labels):
    for X, y in _batches(run, batch_size, features, labels):
        if X.shape[0] != y.shape[0] or not torch.equal(X[:, 0], y.reshape(-1)):
            fail("a batch's features do not belong to its labels: index both with the same "
                 "batch_indices")


@data_iter.property("reads the examples in shuffled order")
def _(run, batch_size, features, labels):
    seen = torch.cat([y.reshape(-1) for _, y in _batches(run, batch_size, features, labels)])
    if len(labels) >= 10 and torch.equal(seen, labels.reshape(-1)[:len(seen)]):
        fail("the examples come in their stored order: the book shuffles the indices "
             "(random.shuffle(indices)) so that each minibatch is a random sample")


linreg = topic(
    "ch3.linreg",
    twin=scratch3.linreg,
    inputs=st.tuples(st.integers(1, 6), st.integers(1, 4)).flatmap(
        lambda s: st.tuples(tensor(s, floats(-10, 10)), tensor((s[1], 1), floats(-3, 3)),
                            tensor((1,), floats(-3, 3)))),
    examples=[(torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), torch.tensor([[2.0], [-3.4]]),
               torch.tensor([4.2])),
              (torch.tensor([[0.5]]), torch.tensor([[2.0]]), torch.tensor([1.0]))],
    returns=returns_tensor, gradients=((0, 1, 2), ("X", "w", "b")))


@linreg.property("returns y_hat of shape (n, 1)", gate=True)
def _(run, X, w, b):
    expect_shape(run(X, w, b), (len(X), 1), "one prediction per row of X, Xw with w of "
                 "shape (num_inputs, 1): torch.matmul(X, w) + b")


@linreg.property("y_hat = Xw + b")
def _(run, X, w, b):
    out, expected = run(X, w, b), X @ w + b
    if not close(out, expected):
        why = ("that is Xw without b" if close(out, X @ w) else "")
        fail(f"it is off by up to {largest_gap(out, expected):.3g} from Xw + b" +
             (f": {why}" if why else ""))


gradient_property(linreg)


squared_loss = topic(
    "ch3.squared_loss",
    twin=scratch3.squared_loss,
    inputs=st.integers(1, 6).flatmap(
        lambda n: st.tuples(tensor((n, 1), floats(-10, 10)),
                            st.sampled_from([(n,), (n, 1)]).flatmap(
                                lambda s: tensor(s, floats(-10, 10)))).filter(
            lambda a: not torch.equal(a[0].reshape(-1), a[1].reshape(-1)))),
    examples=[(torch.tensor([[1.0], [2.0]]), torch.tensor([3.0, 2.5])),
              (torch.tensor([[2.0]]), torch.tensor([0.0]))],
    returns=returns_tensor, gradients=((0,), ("y_hat",)))


@squared_loss.property("keeps the shape (n, 1) of y_hat", gate=True)
def _(run, y_hat, y):
    out = run(y_hat, y)
    if out.shape == (len(y), len(y)) and len(y) > 1:
        fail(f"it returned shape {tuple(out.shape)}: y_hat - y with y_hat {tuple(y_hat.shape)}"
             f" and y {tuple(y.shape)} broadcasts into an (n, n) matrix; reshape y first, "
             "y.reshape(y_hat.shape)")
    expect_shape(out, y_hat.shape, "one loss per example, summed or averaged by the "
                 "caller (the training loop calls l.sum().backward())")


@squared_loss.property("has the 1/2")
def _(run, y_hat, y):
    out, expected = run(y_hat, y), scratch3.squared_loss(y_hat, y)
    if close(out, 2 * expected) and twice(run, scratch3.squared_loss, *squared_loss.examples[0]):
        fail("it is twice (y_hat - y)^2 / 2: the book's loss has the 1/2, which makes its "
             "derivative simply y_hat - y")


@squared_loss.property("equals (y_hat - y)^2 / 2")
def _(run, y_hat, y):
    out, expected = run(y_hat, y), scratch3.squared_loss(y_hat, y)
    if not close(out, expected):
        fail(f"it is off by up to {largest_gap(out, expected):.3g} from (y_hat - y)^2 / 2")


gradient_property(squared_loss)


def _book_sgd(params, lr, batch_size):
    from ..book.classic import sgd
    return sgd(params, lr, batch_size)


def _params(shapes_seed):
    shapes, seed = shapes_seed
    g = torch.Generator().manual_seed(seed)
    params = []
    for shape in shapes:
        p = torch.randn(shape, generator=g).requires_grad_(True)
        p.grad = torch.randn(shape, generator=g)
        params.append(p)
    return params


def _fresh(params):
    """New leaf tensors with the same values and gradients, for one call of sgd."""
    fresh = []
    for p in params:
        q = p.detach().clone().requires_grad_(True)
        q.grad = p.grad.clone()
        fresh.append(q)
    return fresh


def _optimizer_step():
    """One step of torch.optim.SGD: its first step imports torch._dynamo, seconds of work."""
    param = torch.zeros(1, requires_grad=True)
    param.grad = torch.ones(1)
    torch.optim.SGD([param], lr=0.1).step()


sgd = topic(
    "ch3.sgd",
    twin=_book_sgd,
    inputs=st.tuples(st.tuples(st.lists(st.sampled_from([(2, 1), (1,), (3,), (2, 2)]),
                                        min_size=1, max_size=3), st.integers(0, 99))
                     .map(_params), st.sampled_from([0.03, 0.1, 0.5, 1.0]),
                     st.integers(2, 64)),
    examples=[(_params(([(2, 1), (1,)], 0)), 0.03, 10), (_params(([(1,)], 1)), 0.5, 1)],
    returns=returns_nothing, check_unchanged=False, warmup=_optimizer_step,
    warmup_if="optim")


@sgd.property("updates under torch.no_grad()", gate=True)
def _(run, params, lr, batch_size):
    try:
        run(_fresh(params), lr, batch_size)
    except Fail as e:
        if "leaf Variable that requires grad" in e.message:
            fail("an in-place update of a parameter that requires grad is refused by "
                 "autograd: put the loop in 'with torch.no_grad():', the update is no part "
                 "of the model's computation")
        raise


@sgd.property("updates the parameters in place")
def _(run, params, lr, batch_size):
    given = _fresh(params)
    run(given, lr, batch_size)
    if all(torch.equal(p.detach(), q.detach()) for p, q in zip(given, params)):
        fail("the parameters did not change: 'param = param - ...' only rebinds the loop's "
             "name; write param -= lr * param.grad / batch_size to change the tensor itself")


@sgd.property("divides the step by batch_size")
def _(run, params, lr, batch_size):
    given = _fresh(params)
    run(given, lr, batch_size)
    for p, q in zip(given, params):
        expected = q.detach() - lr * q.grad / batch_size
        if not close(p, expected):
            if close(p, q.detach() - lr * q.grad):
                fail("the step is batch_size times too large: the book's sgd divides by "
                     "batch_size because its losses are summed, l.sum().backward()")
            fail(f"param - lr * param.grad / batch_size is off by up to "
                 f"{largest_gap(p, expected):.3g}")


@sgd.property("zeroes the gradients")
def _(run, params, lr, batch_size):
    given = _fresh(params)
    run(given, lr, batch_size)
    if any(p.grad is not None and p.grad.abs().sum() > 0 for p in given):
        fail("the gradients are still there after the step: backward() adds to .grad, so "
             "the next minibatch's gradient would pile onto this one; call param.grad.zero_()")


# --- Chapter 3: softmax regression -----------------------------------------------------------

LARGE = torch.tensor([[100.0, 0.0]])

softmax = topic(
    "ch3.softmax",
    twin=scratch3.softmax,
    inputs=st.tuples(st.integers(1, 4), st.integers(1, 5)).flatmap(
        lambda s: st.one_of(tensor(s, floats(-10, 10)), tensor(s, floats(-1000, 1000)))
    ).map(lambda X: (X,)),
    examples=[(torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]),), (LARGE,),
              (torch.tensor([[0.0, 1.0], [200.0, 0.0]]),), (torch.tensor([[1.0, 2.0]]),)],
    returns=returns_tensor, gradients=((0,), ("X",)))


@softmax.property("keeps the shape of X", gate=True)
def _(run, X):
    expect_shape(run(X), X.shape, "one probability per logit; divide by the row sums with "
                 "keepdim=True, X_exp.sum(1, keepdim=True)")


@softmax.property("stays finite for large logits", section="§3.7; 1.0 edition: §4.5")
def _(run, X):
    out = run(X)
    if not torch.isfinite(out).all():
        row = int((~torch.isfinite(out)).any(1).nonzero()[0])
        bad = out[row][~torch.isfinite(out[row])][0].item()
        top = X[row].max().item()
        if top > 88.72:
            fail(f"softmax gave {bad}: exp({top:g}) overflows float32 (above 88.7), and "
                 "inf / inf is nan; subtract each row's maximum first, "
                 "X - X.max(dim=1, keepdim=True).values")
        fail(f"softmax gave {bad} in row {row}: all its exp(...) underflow to 0 and 0 / 0 is "
             "nan; subtract each row's own maximum, not one for the whole batch, "
             "X - X.max(dim=1, keepdim=True).values")


@softmax.property("each row sums to 1")
def _(run, X):
    out = run(X)
    if not torch.isfinite(out).all():
        return  # "stays finite" reports it
    sums = out.sum(1)
    if not torch.allclose(sums, torch.ones_like(sums), atol=1e-5):
        why = (": it is normalised over each column (dim 0); the book's rows are examples, "
               "so sum over dim 1" if torch.allclose(out.sum(0), torch.ones(X.shape[1]),
                                                      atol=1e-5) else "")
        fail(f"the row sums are {[round(s, 4) for s in sums.tolist()]}{why}")


@softmax.property("agrees with torch.softmax(X, dim=1)")
def _(run, X):
    out, expected = run(X), torch.softmax(X, dim=1)
    if torch.isfinite(out).all() and not close(out, expected, atol=1e-6):
        fail(f"it is off by up to {largest_gap(out, expected):.3g}")


gradient_property(softmax)


def _probabilities(s):
    n, k = s
    return tensor((n, k), floats(0.01, 1)).map(lambda P: P / P.sum(1, keepdim=True)).flatmap(
        lambda P: st.tuples(st.just(P), st.sampled_from([torch.int64, torch.int32]).flatmap(
            lambda dtype: st.lists(st.integers(0, k - 1), min_size=n, max_size=n).map(
                lambda y: torch.tensor(y, dtype=dtype)))))


cross_entropy = topic(
    "ch3.cross_entropy",
    twin=scratch3.cross_entropy,
    inputs=st.tuples(st.integers(1, 5), st.integers(2, 5)).flatmap(_probabilities),
    examples=[(torch.tensor([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]]), torch.tensor([0, 2])),
              (torch.tensor([[0.25, 0.75]]), torch.tensor([1], dtype=torch.int32))],
    returns=returns_tensor, gradients=((0,), ("y_hat",)))


@cross_entropy.property("one loss per example, shape (n,)", gate=True)
def _(run, y_hat, y):
    out = run(y_hat, y)
    if out.ndim == 2 and out.shape == (len(y), len(y)) and len(y) > 1:
        fail(f"it returned shape {tuple(out.shape)}: y_hat[:, y] picks every label's column "
             "for every row; pair row i with label y[i], y_hat[range(len(y_hat)), y]")
    expect_shape(out, (len(y),), "the loss of each example, -log y_hat[i, y[i]]; the caller "
                 "sums or averages it")


@cross_entropy.property("is -log of the true class's probability")
def _(run, y_hat, y):
    out, expected = run(y_hat, y), -torch.log(y_hat[torch.arange(len(y)), y.long()])
    if not close(out, expected):
        why = ("the sign is wrong: the loss is -log, so a confident right answer costs "
               "nearly 0" if close(out, -expected) else
               "a loss per example uses only the true class's probability, y_hat[i, y[i]]")
        fail(f"it is off by up to {largest_gap(out, expected):.3g}: {why}")


gradient_property(cross_entropy)


def _book_accuracy(y_hat, y):
    from ..book.classic import accuracy
    return accuracy(y_hat, y)


def _scores(s):
    n, k = s
    return st.tuples(
        st.lists(st.permutations(range(k)), min_size=n, max_size=n).map(
            lambda rows: torch.tensor(rows, dtype=torch.float32) / k),
        st.sampled_from([torch.int64, torch.int32, torch.uint8]).flatmap(
            lambda dtype: st.lists(st.integers(0, k - 1), min_size=n, max_size=n).map(
                lambda y: torch.tensor(y, dtype=dtype))))


accuracy = topic(
    "ch3.accuracy",
    twin=_book_accuracy,
    inputs=st.tuples(st.integers(1, 8), st.integers(2, 5)).flatmap(_scores),
    examples=[(torch.tensor([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]]), torch.tensor([0, 2])),
              (torch.tensor([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]), torch.tensor([0, 1, 0]))],
    returns=returns_number("accuracy"))


def _correct(y_hat, y):
    return int((y_hat.argmax(1) == y.long()).sum())


@accuracy.property("counts correct predictions (not a fraction)")
def _(run, y_hat, y):
    out, count = run(y_hat, y), _correct(y_hat, y)
    if count and out != count and abs(out - count / len(y)) < 1e-9:
        fail(f"it returned {out:g}, the fraction {count}/{len(y)}: the book's accuracy "
             "returns the count, and evaluate_accuracy divides the sum of counts by the "
             "number of examples")


@accuracy.property("takes the arg-max of each row")
def _(run, y_hat, y):
    out, count = run(y_hat, y), _correct(y_hat, y)
    if out != count and not abs(out - count / len(y)) < 1e-9:
        fail(f"it returned {out:g}, but {count} of the {len(y)} rows have their largest "
             "y_hat at the label: compare y_hat.argmax(axis=1) with y, row by row")


# --- Chapter 4 -------------------------------------------------------------------------------

relu = topic(
    "ch4.relu",
    twin=scratch4.relu,
    inputs=st.tuples(st.integers(1, 4), st.integers(1, 4)).flatmap(
        lambda s: tensor(s, st.one_of(floats(-10, -0.01), floats(0.01, 10)))).map(lambda X: (X,)),
    examples=[(torch.tensor([[-2.0, -0.5, 0.5, 3.0]]),), (torch.tensor([[1.0], [-1.0]]),)],
    returns=returns_tensor, gradients=((0,), ("X",)))


@relu.property("keeps the shape of X", gate=True)
def _(run, X):
    expect_shape(run(X), X.shape, "ReLU acts on each element; torch.max(X) without a second "
                 "tensor is the largest element, torch.max(X, torch.zeros_like(X)) is ReLU")


@relu.property("max(x, 0) elementwise")
def _(run, X):
    out, expected = run(X), X.clamp(min=0)
    if not close(out, expected):
        fail(f"it is off by up to {largest_gap(out, expected):.3g}: negative entries become "
             "0, positive ones stay as they are")


gradient_property(relu)


def _ones(shape, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(shape, generator=g) + 0.5  # no zeros, so a zero means dropped


BIG = (40, 50)

dropout_layer = topic(
    "ch4.dropout_layer",
    twin=scratch4.dropout_layer,
    inputs=st.tuples(st.integers(0, 99).map(lambda s: _ones(BIG, s)),
                     st.one_of(st.sampled_from([0.0, 0.2, 0.5, 0.8, 1.0]), st.floats(0, 1))),
    examples=[(_ones(BIG, 0), 0.2), (_ones(BIG, 1), 0.0), (_ones(BIG, 2), 1.0),
              (_ones(BIG, 3), 0.8)],
    returns=returns_tensor)


@dropout_layer.property("keeps the shape of X", gate=True)
def _(run, X, dropout):
    expect_shape(run(X, dropout), X.shape, "dropout zeroes some elements and keeps the rest, "
                 "so the shape stays")


@dropout_layer.property("p = 0 keeps X and p = 1 gives zeros")
def _(run, X, dropout):
    out = run(X, dropout)
    if dropout == 0 and not torch.equal(out, X):
        fail("with dropout = 0 nothing is dropped: the result must be X itself")
    if dropout == 1 and not torch.equal(out, torch.zeros_like(X)):
        fail(f"with dropout = 1 everything is dropped, yet the result holds "
             f"{out.flatten()[0].item()}: X / (1 - 1) divides by 0 (0 * inf is nan); "
             "return torch.zeros_like(X) for dropout = 1, as the book does")


@dropout_layer.property("zeroes a fraction p of the elements")
def _(run, X, dropout):
    out = run(X, dropout)
    if not torch.isfinite(out).all():
        return  # "p = 0 keeps X and p = 1 gives zeros" names the division by 0
    zeroed = (out == 0).float().mean().item()
    if abs(zeroed - dropout) > 0.05:
        swapped = abs(zeroed - (1 - dropout)) <= 0.05
        fail(f"with dropout = {dropout:g} it zeroed {zeroed:.0%} of the elements" +
             (": it keeps each element with probability p; keep it with probability 1 - p "
              "(mask = torch.rand(X.shape) > dropout)" if swapped else
              ": each element is dropped with probability p, independently"))


@dropout_layer.property("scales the survivors by 1 / (1 - p)")
def _(run, X, dropout):
    out = run(X, dropout)
    kept = (out != 0) & torch.isfinite(out)
    if dropout < 1 and kept.any() and not close(out[kept], X[kept] / (1 - dropout)):
        why = ("they were not rescaled, so the expected output is (1 - p) X, not X"
               if close(out[kept], X[kept]) else f"the scale should be 1/(1 - {dropout:g})")
        fail(f"the elements kept are not X / (1 - p): {why}")


@dropout_layer.property("gradients flow through the kept elements")
def _(run, X, dropout):
    leaf = X.clone().requires_grad_(True)
    out = run(leaf, dropout)
    if dropout == 1 or not out.requires_grad:
        if dropout < 1:
            fail("the result carries no gradient back to X: build it from X with tensor "
                 "operations (mask * X / (1 - p)), not with .detach() or torch.tensor(...)")
        return
    (grad,) = torch.autograd.grad(out.sum(), leaf)
    # Each element's gradient is the factor it was multiplied by (0 or 1 / (1 - p)), whatever
    # that factor was: a wrong scale is the property above's to report.
    if not close(grad, out.detach() / X):
        fail("the gradient is not the factor each element was multiplied by (0 where "
             "dropped): the mask must multiply X itself, mask * X / (1 - p)")


l2_penalty = topic(
    "ch4.l2_penalty",
    twin=scratch4.l2_penalty,
    inputs=st.sampled_from([(1,), (3,), (2, 1), (4, 1), (3, 2)]).flatmap(
        lambda s: tensor(s, floats(-5, 5))).filter(lambda w: w.abs().sum() > 0.1)
    .map(lambda w: (w,)),
    examples=[(torch.tensor([[3.0], [-4.0]]),), (torch.tensor([[0.5]]),)],
    returns=returns_tensor, gradients=((0,), ("w",)))


@l2_penalty.property("returns a scalar", gate=True)
def _(run, w):
    expect_shape(run(w), (), "the penalty is one number for the whole weight, "
                 "torch.sum(w.pow(2)) / 2")


@l2_penalty.property("has the 1/2")
def _(run, w):
    out, expected = run(w), scratch4.l2_penalty(w)
    if close(out, 2 * expected) and twice(run, scratch4.l2_penalty, *l2_penalty.examples[0]):
        fail("it is twice ||w||^2 / 2: the book's penalty has the 1/2, so that its gradient "
             "is simply w and lambd * w is the decay")


@l2_penalty.property("equals ||w||^2 / 2")
def _(run, w):
    out, expected = run(w), scratch4.l2_penalty(w)
    if not close(out, expected):
        why = ("that is ||w|| without the square: square each weight and sum, "
               "torch.sum(w.pow(2))" if close(out, w.norm()) or close(out, w.norm() / 2) else
               "sum the squares, do not average them" if close(out, w.pow(2).mean() / 2) else
               "the L2 penalty squares each weight (the L1 penalty sums their absolute "
               "values)")
        fail(f"it is {out.item():.4g} for ||w||^2 / 2 = {expected.item():.4g}: {why}")


gradient_property(l2_penalty)


def _kaggle_log_rmse(net, features, labels):
    from ..ch4.kaggle import log_rmse
    return log_rmse(net, features, labels)


def _house(n_seed):
    n, seed = n_seed
    g = torch.Generator().manual_seed(seed)
    net = torch.nn.Linear(3, 1)
    with torch.no_grad():
        net.weight.copy_(torch.randn(1, 3, generator=g) * 2)
        net.bias.fill_(3.0)
    features = torch.randn(n, 3, generator=g)
    labels = torch.rand(n, 1, generator=g) * 10 + 0.5
    return net, features, labels


log_rmse = topic(
    "ch4.log_rmse",
    twin=_kaggle_log_rmse,
    inputs=st.tuples(st.integers(1, 30), st.integers(0, 99)).map(_house),
    examples=[_house((8, 0)), _house((1, 1))],
    returns=returns_number("log_rmse"))


def _log_rmse(net, features, labels):
    with torch.no_grad():
        clipped = net(features).clamp(min=1)
        return torch.sqrt(((clipped.log() - labels.log()) ** 2).mean()).item()


@log_rmse.property("clips predictions below 1 before the log")
def _(run, net, features, labels):
    out = run(net, features, labels)
    if not math.isfinite(out):
        fail(f"it gave {out}: a prediction at or below 0 has no log; clip the predictions "
             "to [1, inf) first, torch.clamp(net(features), 1, float('inf'))")
    with torch.no_grad():
        low = (net(features) < 1).any()
    if low and abs(out - _log_rmse(net, features, labels)) > 1e-4:
        with torch.no_grad():
            clip0 = torch.sqrt(((net(features).clamp(min=1e-12).log() - labels.log()) ** 2)
                               .mean()).item()
        if abs(out - clip0) < 1e-3:
            fail("predictions below 1 are not clipped to 1: the book clamps to [1, inf)")


@log_rmse.property("sqrt(mean((log y_hat - log y)^2))")
def _(run, net, features, labels):
    out, expected = run(net, features, labels), _log_rmse(net, features, labels)
    if not math.isfinite(out) or abs(out - expected) > 1e-4 * max(1, expected):
        fail(f"it gave {out:.5g}, not {expected:.5g}: compare the logs of the clipped "
             "predictions and of the labels, average the squares, then take the square root")


def _folds(a):
    k, extra, seed = a
    n = k + extra
    ids = torch.arange(n, dtype=torch.float32)
    return k, seed % k, torch.stack([ids, ids * 10], 1), ids.reshape(-1, 1)


get_k_fold_data = topic(
    "ch4.get_k_fold_data",
    twin=lambda *a: __import__("d2lnotes.ch4.kaggle", fromlist=["x"]).get_k_fold_data(*a),
    inputs=st.tuples(st.integers(2, 6), st.integers(0, 30), st.integers(0, 99)).map(_folds),
    examples=[_folds((5, 5, 2)), _folds((3, 2, 2)), _folds((2, 0, 0))],
    returns=returns_tensors(4, "four tensors (X_train, y_train, X_valid, y_valid)"))


@get_k_fold_data.property("the validation set is fold i", gate=False)
def _(run, k, i, X, y):
    _, _, X_valid, y_valid = run(k, i, X, y)
    fold_size = len(X) // k
    want = list(range(i * fold_size, (i + 1) * fold_size))
    got = X_valid[:, 0].long().tolist() if X_valid.ndim == 2 else None
    if got != want:
        fail(f"the validation rows are {got}, not fold {i}'s rows {want}: fold j is "
             "rows j * fold_size to (j + 1) * fold_size, with fold_size = len(X) // k")


@get_k_fold_data.property("the training set is the other folds, without fold i")
def _(run, k, i, X, y):
    X_train, _, _, _ = run(k, i, X, y)
    fold_size = len(X) // k
    valid = set(range(i * fold_size, (i + 1) * fold_size))
    got = X_train[:, 0].long().tolist() if X_train.ndim == 2 else []
    leaked = valid & set(got)
    if leaked:
        fail(f"{len(leaked)} rows of the validation fold are also in the training set: the "
             "validation error would then measure memory, not generalization")
    want = [j for j in range(k * fold_size) if j not in valid]
    extra = list(range(k * fold_size, len(X)))
    if sorted(got) not in (want, sorted(want + extra)):
        fail(f"the training rows are {got}, not the other folds' rows {want}")


@get_k_fold_data.property("features and labels stay paired")
def _(run, k, i, X, y):
    X_train, y_train, X_valid, y_valid = run(k, i, X, y)
    for features, labels, name in ((X_train, y_train, "training"),
                                   (X_valid, y_valid, "validation")):
        if len(features) != len(labels) or not torch.equal(features[:, 0],
                                                            labels.reshape(-1)):
            fail(f"the {name} labels do not belong to the {name} features: slice X and y "
                 "with the same indices")


# --- extras: the MLP's forward pass, Xavier initialisation -------------------------------

def _mlp_twin(X, W1, b1, W2, b2):
    H = scratch4.relu(X.reshape(-1, W1.shape[0]) @ W1 + b1)
    return H @ W2 + b2


def _mlp_inputs(a):
    n, num_inputs, num_hiddens, num_outputs, seed = a
    g = torch.Generator().manual_seed(seed)
    side = int(math.isqrt(num_inputs))
    X = torch.randn(n, 1, side, side, generator=g)
    params = [torch.randn(side * side, num_hiddens, generator=g),
              torch.randn(num_hiddens, generator=g),
              torch.randn(num_hiddens, num_outputs, generator=g),
              torch.randn(num_outputs, generator=g)]
    return (X, *params)


mlp = topic(
    "ch4.mlp",
    twin=_mlp_twin,
    inputs=st.tuples(st.integers(1, 5), st.sampled_from([1, 4, 9]), st.integers(1, 6),
                     st.integers(1, 4), st.integers(0, 99)).map(_mlp_inputs),
    examples=[_mlp_inputs((3, 4, 5, 3, 0)), _mlp_inputs((1, 1, 1, 2, 1))],
    returns=returns_tensor, gradients=((1, 2, 3, 4), ("W1", "b1", "W2", "b2")),
    note="the book's net(X) reads W1, b1, W2, b2 from the notebook; pass them in here")


@mlp.property("flattens each image and returns (n, num_outputs) logits", gate=True)
def _(run, X, W1, b1, W2, b2):
    expect_shape(run(X, W1, b1, W2, b2), (len(X), W2.shape[1]),
                 "flatten X to (-1, num_inputs) with X.reshape((-1, num_inputs)), then "
                 "one row of logits per image")


@mlp.property("O = relu(X W1 + b1) W2 + b2")
def _(run, X, W1, b1, W2, b2):
    out, expected = run(X, W1, b1, W2, b2), _mlp_twin(X, W1, b1, W2, b2)
    if not close(out, expected, rtol=1e-4, atol=1e-4):
        flat = X.reshape(len(X), -1)
        why = ("the hidden layer has no ReLU: without it the two layers collapse into one "
               "linear map" if close(out, (flat @ W1 + b1) @ W2 + b2, 1e-4, 1e-4) else
               "the output layer returns logits; the softmax belongs to the loss"
               if close(out, torch.softmax(expected, 1), 1e-4, 1e-4)
               or close(out, scratch4.relu(expected), 1e-4, 1e-4) else
               "H = relu(X @ W1 + b1), then H @ W2 + b2")
        fail(f"it is off by up to {largest_gap(out, expected):.3g}: {why}")


gradient_property(mlp, rtol=1e-5, atol=1e-7)


def _xavier_shape(out, num_inputs, num_outputs):
    if tuple(out.shape) not in ((num_inputs, num_outputs), (num_outputs, num_inputs)):
        other = "" if num_inputs == num_outputs else \
            f", or ({num_outputs}, {num_inputs}) as nn.Linear.weight"
        fail(f"it returned shape {tuple(out.shape)}: a weight matrix between "
             f"{num_inputs} inputs and {num_outputs} outputs is ({num_inputs}, {num_outputs}) "
             f"as the book's W1{other}")


xavier_uniform = topic(
    "ch4.xavier_uniform",
    twin=scratch4.xavier_uniform,
    inputs=st.tuples(st.integers(20, 200), st.integers(20, 200)),
    examples=[(100, 100), (200, 20), (20, 200)],
    returns=returns_tensor)


@xavier_uniform.property("a num_inputs x num_outputs weight", gate=True)
def _(run, num_inputs, num_outputs):
    _xavier_shape(run(num_inputs, num_outputs), num_inputs, num_outputs)


@xavier_uniform.property("uniform on [-a, a], a = sqrt(6 / (n_in + n_out))")
def _(run, num_inputs, num_outputs):
    W = run(num_inputs, num_outputs)
    a = math.sqrt(6 / (num_inputs + num_outputs))
    if W.min() >= 0:
        fail("every weight is >= 0: torch.rand is uniform on [0, 1); shift and scale it, "
             "(torch.rand(...) * 2 - 1) * a, so that the mean is 0")
    if W.abs().max() > a * (1 + 1e-6):
        fail(f"a weight reaches {W.abs().max().item():.3g}, outside [-a, a] with "
             f"a = sqrt(6 / ({num_inputs} + {num_outputs})) = {a:.3g}")


@xavier_uniform.property("variance 2 / (n_in + n_out)")
def _(run, num_inputs, num_outputs):
    W = run(num_inputs, num_outputs)
    want = 2 / (num_inputs + num_outputs)
    if not 0.8 < W.var().item() / want < 1.25:
        fail(f"the weights' variance is {W.var().item():.3g}, not 2 / (n_in + n_out) = "
             f"{want:.3g}: Xavier averages the fan-in and the fan-out, so that neither the "
             "forward signal nor the backward gradient grows or shrinks")
