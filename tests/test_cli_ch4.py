"""``python -m d2lnotes.ch4``: the whole command once (the ``ch4_runs`` session fixture),
the order and choice of topics, and every output checked before any training."""

import pytest
from runs import CH4_FRESH

from d2lnotes.ch4 import report
from d2lnotes.ch4.__main__ import TOPICS, main, selected
from d2lnotes.utils import cli

ALL = ["activations", "mlp", "model-selection", "weight-decay", "dropout", "backprop", "init",
       "kaggle"]  # the book's order, §4.1 to §4.10; best is not part of all


def test_every_topic_runs_in_the_books_order(ch4_runs):
    here = ch4_runs.here
    assert here.code == 0, here.stderr[-2000:]
    stdout, report_, out = here.stdout, here.report, here.out
    # write_json sorts keys; the order of the run is in settings.
    assert report_["settings"]["topics"] == ALL
    assert sorted(report_["results"]) == sorted(report_["seconds"]) == sorted(ALL)
    sections = [tuple(int(n) for n in line.split()[0][1:].split("-")[0].split("."))
                for line in stdout.splitlines() if line.startswith("§4.")]
    assert sections[0] == (4, 1) and sections[-1] == (4, 10) and sections == sorted(sections)
    assert report_["settings"]["epochs"] == 1 and report_["settings"]["seed"] == 7
    assert sorted(p.name for p in out.iterdir()) == [
        "activations.png", "backprop_curves.png", "dropout_curves.png", "init.png",
        "kaggle_kfold.png", "mlp_curves.png", "model_selection.png", "submission.csv",
        "weight_decay.png"]


def test_one_epoch_figures(ch4_runs):
    r = ch4_runs.here.report["results"]
    assert r["mlp"]["max_param_diff"] < 1e-6 and r["mlp"]["concise"]["test_acc"] > 0.7
    assert r["backprop"]["gradcheck"] is True and r["backprop"]["max_param_diff"] < 1e-6
    assert max(r["backprop"]["float64_max_grad_diff"].values()) < 1e-10
    assert r["dropout"]["scratch"]["test_acc"] > 0.6
    assert r["init"]["matrix_product_max_abs"] > 1e20
    ms = r["model-selection"]
    assert [ms[k]["num_features"] for k in ("normal", "underfit", "overfit")] == [4, 2, 20]
    assert all(ms[k]["num_epochs"] == 1 for k in ("normal", "underfit", "overfit"))
    assert len(ms["overfit"]["w"]) == len(ms["overfit"]["w_scratch"]) == 20
    assert all(ms[k]["max_param_diff"] < 1e-6 for k in ("normal", "underfit", "overfit"))
    wd = r["weight-decay"]
    assert set(wd) == {"lambda_0", "lambda_3"}
    assert all(v["max_param_diff"] < 1e-5 for v in wd.values())
    kg = r["kaggle"]
    assert kg["num_features"] == 330 and len(kg["folds"]) == 5 and kg["num_epochs"] == 1


def test_all_best_runs_both_and_sweep_needs_best(capsys):
    assert selected(["all", "best"]) == list(TOPICS)
    assert selected(["best", "all"], sweep=True)[-1] == "best"
    assert selected(["init", "activations", "init"]) == ["activations", "init"]
    assert selected([]) == ALL
    for argv in (["init", "--sweep"], ["--sweep"]):
        assert cli.run(main, argv + ["--no-plots"]) == 2
        captured = capsys.readouterr()
        assert captured.err.startswith("error: --sweep only applies to the topic best")
        assert captured.err.count("\n") == 1 and captured.out == ""


def test_unknown_topics_are_usage_errors(capsys):
    for bad, hint in (("mpl", "(did you mean mlp?)"), ("nope", "choose from")):
        assert cli.run(main, [bad]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: unknown topic '{bad}'") and hint in err


@pytest.fixture
def nothing_trains(monkeypatch):
    """Any experiment that starts fails the test: the checks must come first."""
    def trained(*args, **kwargs):
        raise AssertionError("training started before the outputs were checked")

    from d2lnotes.ch4 import kaggle

    monkeypatch.setattr(kaggle, "house_prices", trained)
    monkeypatch.setattr(report.ex, "compare_mlp", trained)


@pytest.mark.parametrize("flags", [["--no-plots"], []])
def test_kaggle_checks_out_before_training_whatever_the_flags(tmp_path, capsys, nothing_trains,
                                                             flags):
    taken = tmp_path / "taken"
    taken.write_text("x")
    assert cli.run(main, ["kaggle", "--out", str(taken), *flags]) == 2
    captured = capsys.readouterr()
    assert captured.err == (f"error: --out {taken} is a file, not a folder; choose another "
                            "path\n") and captured.out == ""
    # /proc refuses new entries even to root, so this holds whoever runs the tests.
    assert cli.run(main, ["kaggle", "--out", "/proc/d2lnotes-out", *flags]) == 2
    assert "not a writable folder" in capsys.readouterr().err


def test_json_is_checked_before_training(tmp_path, capsys, nothing_trains):
    assert cli.run(main, ["mlp", "--no-plots", "--json", str(tmp_path)]) == 2
    assert "--json" in capsys.readouterr().err


def test_no_plots_without_kaggle_leaves_out_alone(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["init", "activations", "--no-plots", "--quiet", "--out", str(out)]) == 0
    assert not out.exists()


def test_same_seed_same_figures_ch4(ch4_runs):
    # Every topic ran here (seed 7); a fresh process ran the topics in CH4_FRESH with the
    # same seed.
    runs = ch4_runs
    assert runs.fresh.code == 0, runs.fresh.stderr[-2000:]
    fresh, here = runs.figures(runs.fresh), runs.figures(runs.here)
    assert {t: here[1]["results"][t] for t in CH4_FRESH} == fresh[1]["results"]

    def summary_rows(text):
        return [line for line in text.splitlines() if line.split(" ")[0] in CH4_FRESH]

    assert summary_rows(fresh[0]) == summary_rows(here[0]) and len(summary_rows(here[0])) == 5
