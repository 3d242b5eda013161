"""Chapter 4's best recipe: its pieces, and its whole code path on a subset."""

import functools
import json
import math

import pytest
import torch
from torch import nn

from d2lnotes.ch4 import recipe, report


def test_mlp_layers_dropout_and_xavier_init():
    torch.manual_seed(0)
    net = recipe.mlp(784, 10, (32, 16), (0.1, 0.0))
    linears = [m for m in net if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(784, 32), (32, 16), (16, 10)]
    assert [m.p for m in net if isinstance(m, nn.Dropout)] == [0.1]  # p = 0 adds no layer
    for m in linears:
        bound = math.sqrt(6 / (m.in_features + m.out_features))
        assert float(m.weight.detach().abs().max()) <= bound
        assert float(m.weight.detach().abs().max()) > 0.9 * bound  # uniform over the whole range
        assert torch.count_nonzero(m.bias) == 0


def test_split_is_a_partition_and_leaves_the_global_seed_alone():
    X, y = torch.arange(100.0).reshape(50, 2), torch.arange(50)
    state = torch.get_rng_state()
    (X_tr, y_tr), (X_val, y_val) = recipe.split_train_val((X, y), 10, seed=0)
    assert torch.equal(torch.get_rng_state(), state)
    assert len(y_val) == 10 and len(y_tr) == 40
    assert sorted(torch.cat([y_tr, y_val]).tolist()) == list(range(50))
    assert torch.equal(X_tr[:, 0], 2 * y_tr.float())  # rows stay with their labels


@pytest.mark.slow
def test_train_best_reports_validation_and_test_accuracy(fashion_mnist):
    net, history, figures = recipe.train_best(fashion_mnist, num_epochs=2, subset=1200,
                                              num_hiddens=(32,), dropout=(0.1,))
    # Recompute both accuracies independently of utils.train.evaluate.
    X, y = fashion_mnist[0].tensors
    _, (X_val, y_val) = recipe.split_train_val((X[:1200], y[:1200]), 200, seed=0)
    X_test, y_test = fashion_mnist[1].tensors
    net.eval()
    with torch.no_grad():
        val_acc = float((net(X_val).argmax(1) == y_val).float().mean())
        test_acc = float((net(X_test).argmax(1) == y_test).float().mean())
    assert figures["val_acc"] == pytest.approx(val_acc, abs=1e-6)
    assert figures["test_acc"] == pytest.approx(test_acc, abs=1e-6)
    assert figures["num_train"] == 1000 and figures["num_val"] == 200
    assert len(history.train_loss) == 2 and history.train_loss[1] < history.train_loss[0]
    assert figures["test_acc"] > 0.5  # far above chance (0.1) after 2 epochs on 1000 images
    assert figures["settings"]["lr"] == recipe.RECIPE["lr"]


@pytest.mark.slow
def test_choose_lr_picks_the_best_validation_score(fashion_mnist):
    best, scores = recipe.choose_lr((0.001, 0.1), num_epochs=1, data=fashion_mnist, subset=600,
                                    num_hiddens=(16,), dropout=(0.0,))
    assert set(scores) == {0.001, 0.1}
    assert best == max(scores, key=scores.get)
    assert scores[0.1] > scores[0.001]  # lr 0.001 barely moves in one epoch


@pytest.mark.slow
def test_best_topic_results_are_json_and_timeless(tmp_path, monkeypatch, fashion_mnist_raw):
    # The command line's topic on the real code path, cut to 1200 images and one epoch.
    monkeypatch.setattr(recipe, "best", functools.partial(recipe.best, subset=1200))
    said = []
    results, summary = report.best(report.Run(epochs=1, out=tmp_path, quiet=False), said.append)
    text = json.dumps(results)
    assert "seconds" not in text
    assert (tmp_path / "best_curves.png").stat().st_size > 1000
    assert results["references"] == recipe.REFERENCES and results["lr_sweep"] is None
    assert results["num_train"] == 1000 and results["settings"]["num_epochs"] == 1
    assert len(results["history"]["train_loss"]) == 1
    assert len([s for s in said if s.strip().startswith("epoch")]) == 1  # one line per epoch
