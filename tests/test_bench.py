"""The benchmark (quick mode) and the speed changes to utils.data / utils.train it protects."""

import json
import statistics

import pytest
import torch
from torch import nn

from d2lnotes import bench
from d2lnotes.utils.cli import run
from d2lnotes.utils.data import ArrayLoader, data_root, read_fashion_mnist
from d2lnotes.utils.train import evaluate, train


@pytest.mark.slow
def test_read_idx_matches_torchvision(fashion_mnist_raw):
    from torchvision.datasets import FashionMNIST

    ours = read_fashion_mnist()
    theirs = []
    for is_train in (True, False):
        ds = FashionMNIST(str(data_root()), train=is_train, download=False)
        theirs += [ds.data, ds.targets]
    for a, b in zip(ours, theirs):
        assert a.dtype == b.dtype and torch.equal(a, b)


def test_array_loader_batches_are_the_seeded_permutation():
    X, y = torch.arange(20.0).reshape(10, 2), torch.arange(10)
    torch.manual_seed(3)
    batches = list(ArrayLoader((X, y), 4))
    torch.manual_seed(3)
    perm = torch.randperm(10)
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    assert torch.equal(torch.cat([b[1] for b in batches]), perm)
    assert torch.equal(torch.cat([b[0] for b in batches]), X[perm])


def test_big_batch_evaluation_matches_per_batch(fashion_mnist):
    _, test_iter = fashion_mnist
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    loss = nn.CrossEntropyLoss()
    # An independent per-batch evaluation over a plain list (no ArrayLoader shortcut).
    X, y = test_iter.tensors
    with torch.no_grad():
        parts = [(loss(net(X[i:i + 256]), y[i:i + 256]) * len(y[i:i + 256]),
                  (net(X[i:i + 256]).argmax(1) == y[i:i + 256]).sum())
                 for i in range(0, len(y), 256)]
    want_loss = float(sum(p[0] for p in parts) / len(y))
    want_acc = float(sum(p[1] for p in parts)) / len(y)
    got_loss, got_acc = evaluate(net, test_iter, loss)
    assert got_acc == pytest.approx(want_acc, abs=1e-7)  # float32 division
    assert got_loss == pytest.approx(want_loss, rel=1e-5)


@pytest.mark.slow
def test_conventional_loop_matches_train():
    # Fed the same batches in the same order, the book's loop (A) and train() (B) agree.
    torch.manual_seed(0)
    X, y = torch.rand(96, 1, 28, 28), torch.randint(0, 10, (96,))
    data = ArrayLoader((X, y), 32, shuffle=False)
    runs = []
    for loop in ("A", "B"):
        torch.manual_seed(1)
        net, loss = bench.make_model("mlp")
        opt = torch.optim.SGD(net.parameters(), lr=0.1)
        if loop == "A":
            h = bench.conventional_train(net, data, data, loss, 2, opt, "cpu", say=lambda *a: 0)
        else:
            h = train(net, data, data, loss, 2, opt, quiet=True)
        runs.append((h, net))
    (ha, na), (hb, nb) = runs
    assert ha.train_loss == pytest.approx(hb.train_loss, rel=1e-5)
    assert ha.test_acc == pytest.approx(hb.test_acc, abs=1e-7)
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(na.parameters(), nb.parameters()))


def test_mlp_is_the_books():
    torch.manual_seed(0)
    net, loss = bench.make_model("mlp")
    shapes = [tuple(p.shape) for p in net.parameters()]
    assert shapes == [(256, 784), (256,), (10, 256), (10,)]
    w = next(net.parameters()).detach()
    assert float(w.std()) == pytest.approx(0.01, rel=0.05)
    assert isinstance(loss, nn.CrossEntropyLoss)


@pytest.mark.slow
def test_bench_quick_json_has_every_field(tmp_path, capsys, fashion_mnist_raw):
    path = tmp_path / "bench.json"
    code = run(bench.main, ["--subset", "512", "--epochs", "2", "--e2e-epochs", "1",
                            "--quiet", "--json", str(path)])
    assert code == 0
    report = json.loads(path.read_text())
    for model in ("softmax", "mlp"):
        for which in ("A", "B"):
            r = report["results"][model][which]
            assert 0 <= r["test_acc"] <= 1 and 0 <= r["train_acc"] <= 1 and r["train_loss"] > 0
            s = report["seconds"][model][which]
            assert len(s["epochs"]) == 2 and s["median_epoch"] == statistics.median(s["epochs"][1:])
            assert report["memory_mb"][model][which]["process_peak_rss_mb"] > 0
        assert report["memory_mb"][model]["A"]["largest_worker_peak_rss_mb"] > 0
        s = report["seconds"][model]
        assert s["ratio"] == pytest.approx(s["A"]["median_epoch"] / s["B"]["median_epoch"])
        # D: the book's 1.0 API; its board tracks no training accuracy
        r = report["results"][model]["D"]
        assert 0 <= r["test_acc"] <= 1 and r["train_acc"] is None and r["train_loss"] > 0
        assert len(s["D"]["epochs"]) == 2
        assert s["ratio_D"] == pytest.approx(s["A"]["median_epoch"] / s["D"]["median_epoch"])
    # C, the book's API through the drop-in: softmax regression only
    assert set(report["results"]["softmax"]) == {"A", "B", "C", "D"}
    assert set(report["results"]["mlp"]) == {"A", "B", "D"}
    s = report["seconds"]["softmax"]
    assert s["ratio_C"] == pytest.approx(s["A"]["median_epoch"] / s["C"]["median_epoch"])
    assert 0 <= report["results"]["softmax"]["C"]["test_acc"] <= 1
    assert report["seconds"]["ch3_end_to_end"] > 0
    assert report["memory_mb"]["ch3_end_to_end"]["process_peak_rss_mb"] > 100  # torch alone
    assert report["settings"]["subset"] == 512 and report["settings"]["timed_epochs"] == 1
    assert report["settings"]["e2e_command"] == "python -m d2lnotes.ch3 --epochs 1"
    m = report["machine"]
    assert m["usable_cpus"] >= 1 and m["torch_threads"] >= 1 and len(m["loadavg"]["end"]) == 3
    out = capsys.readouterr().out
    assert "A torchvision" in out and "B d2lnotes" in out and "targets: not judged" in out
    assert "C book API" in out and "D book 1.0" in out


@pytest.mark.parametrize("argv, words", [
    (["--models", "cnn"], "--models"),
    (["--epochs", "1"], "at least 2"),
])
def test_bench_usage_errors(argv, words, capsys):
    assert run(bench.main, argv + ["--skip-e2e"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and words in err
