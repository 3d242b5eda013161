"""``utils.train.compare_twins``: the one helper that starts a scratch model and its concise
twin from the same parameters and trains both on the same batches."""

import pytest
import torch
from torch import nn

from d2lnotes.ch3 import concise, scratch
from d2lnotes.utils import data
from d2lnotes.utils.data import load_array
from d2lnotes.utils.errors import DivergenceError
from d2lnotes.utils.train import History, Twin, compare_twins, evaluate, max_param_diff, train


def _twins(lr=0.03):
    torch.manual_seed(0)
    net_s = scratch.LinearRegression(2)
    net_c = concise.linear_regression(2)
    return (Twin(net_s, scratch.squared_loss, scratch.SGD(net_s.parameters(), lr)),
            Twin(net_c, nn.MSELoss(), torch.optim.SGD(net_c.parameters(), lr=lr / 2),
                 params=[net_c[0].weight.T, net_c[0].bias]))


def _data(n=40):
    torch.manual_seed(1)
    X = torch.randn(n, 2)
    return load_array((X, X @ torch.tensor([[2.0], [-3.4]]) + 4.2), 10)


def test_the_concise_twin_starts_from_the_scratch_parameters():
    s, c = _twins()
    before = [p.detach().clone() for p in s.params]
    cmp = compare_twins(s, c, _data(), None, 0)
    assert all(torch.equal(a, b.detach()) for a, b in zip(before, c.params))
    # no epoch, no gap yet (this used to be an IndexError)
    assert list(cmp.histories) == ["scratch", "concise"] and cmp.max_param_diff is None


def test_twins_trained_on_the_same_batches_stay_together():
    cmp = compare_twins(*_twins(), _data(), None, 3, seed=5)
    assert len(cmp.extra["param_diff_per_epoch"]) == 3 and cmp.max_param_diff < 1e-5
    assert cmp.histories["scratch"].train_loss[-1] < cmp.histories["scratch"].train_loss[0]


def test_impl_and_gap_choose_what_is_trained_and_measured():
    cmp = compare_twins(*_twins(), _data(), None, 1, impl="concise")
    assert list(cmp.histories) == ["concise"] and cmp.max_param_diff is None
    cmp = compare_twins(*_twins(), _data(), None, 1, gap=False, names=("a", "b"))
    assert list(cmp.histories) == ["a", "b"] and cmp.max_param_diff is None


def test_layouts_that_differ_are_refused_before_training():
    s, c = _twins()
    c.params = [c.params[0]]  # the bias left out
    with pytest.raises(ValueError, match="parameter layouts differ"):
        compare_twins(s, c, _data(), None, 1)
    s, c = _twins()
    c.params = [c.net[0].weight, c.net[0].bias]  # (1, 2), not the scratch (2, 1): no .T
    with pytest.raises(ValueError, match=r"\(2, 1\)"):
        compare_twins(s, c, _data(), None, 1)

# --- the loop ------------------------------------------------------------------------------------


def _linear_problem(lr):
    torch.manual_seed(0)
    X, y = data.synthetic_data(torch.tensor([2.0, -3.4]), 4.2, 200)
    net = torch.nn.Linear(2, 1)
    return net, data.load_array((X, y), 10), torch.optim.SGD(net.parameters(), lr=lr)


@pytest.mark.slow
def test_train_returns_history_for_regression():
    net, it, opt = _linear_problem(0.03)
    h = train(net, it, it, torch.nn.MSELoss(), 3, opt, quiet=True)
    assert isinstance(h, History) and len(h.train_loss) == len(h.test_loss) == 3
    assert h.train_acc == [] and h.test_acc == []
    assert h.train_loss[-1] < h.train_loss[0]
    assert h.test_loss[-1] == pytest.approx(evaluate(net, it, torch.nn.MSELoss())[0])


@pytest.mark.slow
def test_diverging_training_names_epoch_and_batch():
    net, it, opt = _linear_problem(1e3)
    with pytest.raises(DivergenceError, match=r"epoch 1, batch \d+; try a smaller learning rate"):
        train(net, it, None, torch.nn.MSELoss(), 3, opt, quiet=True)


@pytest.mark.slow
def test_callback_sees_every_epoch():
    net, it, opt = _linear_problem(0.03)
    seen = []
    train(net, it, None, torch.nn.MSELoss(), 2, opt, quiet=True,
          callback=lambda h: seen.append(len(h.train_loss)))
    assert seen == [1, 2]


def test_max_param_diff():
    a = [torch.zeros(2, 2), torch.ones(3)]
    b = [torch.zeros(2, 2), torch.tensor([1.0, 1.5, 1.0])]
    assert max_param_diff(a, b) == 0.5
    with pytest.raises(ValueError):
        max_param_diff(a, b[:1])

