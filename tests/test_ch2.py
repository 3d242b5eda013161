"""Chapter 2: the book's values, every autograd caveat, and scratch vs concise for every pair."""

import json
import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from strategies import small_floats

from d2lnotes import ch2
from d2lnotes.ch2 import concise, scratch
from d2lnotes.ch2.__main__ import main

# --- §2.5 autograd: the book's example ----------------------------------------------------------

def test_numerical_grad_and_autograd_agree_on_book_example():
    x = torch.arange(4.0)
    num = scratch.numerical_grad(ch2.book_y, x)
    assert num.dtype == torch.float64
    torch.testing.assert_close(num, torch.tensor([0.0, 4, 8, 12], dtype=torch.float64),
                               rtol=0, atol=1e-4)
    torch.testing.assert_close(concise.grad(ch2.book_y, x).double(), num, rtol=0, atol=1e-4)


def test_numerical_grad_is_second_order():
    """Gradient check of the scratch tool: halving h quarters the central-difference error."""
    x = torch.tensor([0.3, -1.2, 0.8], dtype=torch.float64)

    def f(x):
        return torch.exp(x).sum()

    exact = torch.exp(x)
    err = [(scratch.numerical_grad(f, x, h) - exact).abs().max().item() for h in (1e-2, 5e-3)]
    assert 3.5 < err[0] / err[1] < 4.5          # O(h^2), not O(h)
    # ... whereas the forward difference of §2.4 is first order: halving h halves its error.
    fwd = [abs(scratch.numerical_lim(math.exp, 0.3, h) - math.exp(0.3)) for h in (1e-2, 5e-3)]
    assert 1.8 < fwd[0] / fwd[1] < 2.2


def test_numerical_grad_leaves_input_alone_and_keeps_shape():
    x = torch.arange(6.0).reshape(2, 3)
    before = x.clone()
    g = scratch.numerical_grad(lambda t: (t ** 2).sum(), x)
    assert torch.equal(x, before) and g.shape == (2, 3)
    torch.testing.assert_close(g, 2 * x.double(), rtol=0, atol=1e-6)


@st.composite
def smooth_functions(draw):
    """f(x) = sum_i a sin(b x_i) + c x_i^2 + d tanh(x_i) + e x_0 x_(n-1), random coefficients."""
    a, b, c, d, e = (draw(small_floats) for _ in range(5))
    n = draw(st.integers(1, 5))
    x = torch.tensor([draw(small_floats) for _ in range(n)], dtype=torch.float64)

    def f(x):
        return (a * torch.sin(b * x) + c * x ** 2 + d * torch.tanh(x)).sum() + e * x[0] * x[-1]

    return f, x


@given(smooth_functions())
def test_numerical_grad_matches_autograd_on_smooth_functions(fx):
    f, x = fx
    torch.testing.assert_close(scratch.numerical_grad(f, x), concise.grad(f, x),
                               rtol=0, atol=1e-4)


# --- §2.5 autograd: the caveats -----------------------------------------------------------------

def test_concise_grad_does_not_accumulate_or_touch_caller():
    x = torch.arange(4.0)
    g1, g2 = concise.grad(ch2.book_y, x), concise.grad(ch2.book_y, x)
    assert torch.equal(g1, g2) and x.grad is None and not x.requires_grad


@given(st.floats(-100, 100).filter(lambda v: abs(v) > 1e-3))
def test_control_flow_gradient_is_f_over_a(a0):
    a = torch.tensor(a0, dtype=torch.float64, requires_grad=True)
    d = ch2.book_f(a)
    d.backward()
    assert a.grad.item() == pytest.approx((d / a).item(), rel=1e-9)
    assert a.grad.item() == pytest.approx(scratch.numerical_grad(ch2.book_f, a, 1e-6).item(),
                                          rel=1e-6)


def test_autograd_tour_all_true():
    s = ch2.autograd_tour(seed=0)
    assert s.ok and len(s.checks) >= 14
    assert s.results["y"] == 28 and s.results["x_grad"] == [0, 4, 8, 12]
    cf = s.results["control_flow"]
    assert cf["a_grad"] == pytest.approx(cf["f_a"] / cf["a"])


# --- §2.4 calculus ------------------------------------------------------------------------------

def test_limit_table_is_the_books():
    h, printed = 0.1, []
    for _ in range(5):
        printed.append(f"{scratch.numerical_lim(ch2.f_calculus, 1, h):.5f}")
        h *= 0.1
    assert printed == ["2.30000", "2.03000", "2.00300", "2.00030", "2.00003"]


def test_calculus_tour_and_tangent(tmp_path):
    s = ch2.calculus_tour()
    assert s.ok and (s.results["slope"], s.results["intercept"]) == (2, -3)
    assert [r["limit"] for r in s.results["limits"]] == pytest.approx(
        [2.3, 2.03, 2.003, 2.0003, 2.00003], abs=1e-9)
    fig = ch2.plot_tangent(path=tmp_path / "t.png")
    lines = fig.axes[0].get_lines()
    xs, ys = lines[1].get_data()
    assert np.allclose(ys, 2 * np.asarray(xs) - 3)   # the drawn tangent is y = 2x - 3
    assert (tmp_path / "t.png").stat().st_size > 0


# --- §2.1 broadcasting and memory ---------------------------------------------------------------

shapes = st.lists(st.lists(st.integers(0, 3), max_size=4).map(tuple), min_size=1, max_size=3)


@given(shapes)
def test_broadcast_shape_matches_torch(shape_list):
    try:
        expected = tuple(torch.broadcast_shapes(*shape_list))
    except RuntimeError:
        with pytest.raises(ValueError, match="do not broadcast"):
            scratch.broadcast_shape(*shape_list)
        return
    assert scratch.broadcast_shape(*shape_list) == expected == concise.broadcast_shape(*shape_list)


def test_broadcast_book_example_and_errors():
    a, b = torch.arange(3).reshape((3, 1)), torch.arange(2).reshape((1, 2))
    assert (a + b).tolist() == [[0, 1], [1, 2], [2, 3]]
    assert scratch.broadcast_shape((3, 1), (1, 2)) == (3, 2)
    assert scratch.broadcast_shape((0,), (1,)) == (0,) and scratch.broadcast_shape() == ()
    with pytest.raises(ValueError):
        scratch.broadcast_shape((3,), (4,))
    with pytest.raises(RuntimeError):
        concise.broadcast_shape((3,), (4,))


# --- §2.3 linear algebra: loops vs torch --------------------------------------------------------

def test_book_linear_algebra_values():
    x, y = torch.arange(3, dtype=torch.float32), torch.ones(3)
    A, B = torch.arange(6, dtype=torch.float32).reshape(2, 3), torch.ones(3, 4)
    u = torch.tensor([3.0, -4.0])
    assert scratch.dot(x, y) == 3 == concise.dot(x, y).item()
    assert scratch.mv(A, x) == [5, 14] == concise.mv(A, x).tolist()
    assert scratch.mm(A, B) == [[3] * 4, [12] * 4] == concise.mm(A, B).tolist()
    assert scratch.norm_l2(u) == 5 == concise.norm_l2(u).item()
    assert scratch.norm_l1(u) == 7 == concise.norm_l1(u).item()
    assert scratch.norm_frobenius(torch.ones(4, 9)) == 6 == concise.norm_frobenius(
        torch.ones(4, 9)).item()


def test_shape_errors():
    with pytest.raises(ValueError):
        scratch.dot([1, 2], [1, 2, 3])
    with pytest.raises(ValueError):
        scratch.mm([[1, 2]], [[1, 2]])


@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), st.data())
def test_products_and_norms_match_torch(n, m, k, data):
    def matrix(r, c):
        return torch.tensor(data.draw(st.lists(st.lists(small_floats, min_size=c, max_size=c),
                                               min_size=r, max_size=r)), dtype=torch.float64)

    A, B, x, y = matrix(n, m), matrix(m, k), matrix(1, m)[0], matrix(1, m)[0]
    close = dict(rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(torch.tensor(scratch.dot(x, y), dtype=torch.float64),
                               concise.dot(x, y), **close)
    torch.testing.assert_close(torch.tensor(scratch.mv(A, x), dtype=torch.float64),
                               concise.mv(A, x), **close)
    torch.testing.assert_close(torch.tensor(scratch.mm(A, B), dtype=torch.float64),
                               concise.mm(A, B), **close)
    for fn in ("norm_l1", "norm_l2"):
        assert getattr(scratch, fn)(x) == pytest.approx(getattr(concise, fn)(x).item(), abs=1e-12)
    assert scratch.norm_frobenius(A) == pytest.approx(concise.norm_frobenius(A).item(), abs=1e-12)


def test_linalg_tour_all_true():
    s = ch2.linalg_tour()
    assert s.ok and s.results["||[3, -4]||_2"] == 5


# --- §2.2 data preprocessing --------------------------------------------------------------------

def test_house_tiny_written_atomically(tmp_path):
    path = ch2.write_house_tiny(tmp_path / "data")
    assert path.name == "house_tiny.csv"
    assert path.read_text().splitlines() == ["NumRooms,Alley,Price", "NA,Pave,127500",
                                             "2,NA,106000", "4,NA,178100", "NA,NA,140000"]
    assert [p.name for p in path.parent.iterdir()] == ["house_tiny.csv"]  # no .part left


@pytest.mark.parametrize("reader", [scratch.read_house_tiny, concise.read_house_tiny])
def test_readers_give_books_tensors(tmp_path, reader):
    X, y, columns = reader(ch2.write_house_tiny(tmp_path))
    assert columns == ["NumRooms", "Alley_Pave", "Alley_nan"]
    assert X.tolist() == [[3, 1, 0], [2, 0, 1], [4, 0, 1], [3, 0, 1]]
    assert y.tolist() == [127500, 106000, 178100, 140000]
    assert X.dtype == y.dtype == torch.float64


def test_readers_agree_on_another_table(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("Area,Alley,Rooms,Price\n100,Pave,NA,1\nNA,Grvl,2,2\n50,NA,4,3\n"
                    "80,Grvl,NA,4\n70,Pave,5,NA\n")
    Xs, ys, cs = scratch.read_house_tiny(path)
    Xc, yc, cc = concise.read_house_tiny(path)
    assert cs == cc == ["Area", "Rooms", "Alley_Grvl", "Alley_Pave", "Alley_nan"]
    assert torch.equal(Xs, Xc)
    torch.testing.assert_close(ys, yc, equal_nan=True)
    assert Xs[1, 0].item() == pytest.approx((100 + 50 + 80 + 70) / 4)


def test_preprocessing_tour_writes_into_data_dir(tmp_path):
    s = ch2.preprocessing_tour(tmp_path)
    assert s.ok and (tmp_path / "house_tiny.csv").is_file()


# --- §2.6 probability ---------------------------------------------------------------------------

probs_strategy = st.lists(st.floats(0.01, 1), min_size=1, max_size=8).map(
    lambda p: torch.tensor(p) / sum(p))


@given(probs_strategy, st.lists(st.floats(0, 1, exclude_max=True), min_size=1, max_size=20))
def test_inverse_cdf_matches_searchsorted(probs, u):
    u = torch.tensor(u, dtype=torch.float64)
    faces = scratch.inverse_cdf(probs, u)
    cdf = probs.double().cumsum(0) / probs.double().sum()
    expected = torch.searchsorted(cdf, u, right=True).clamp(max=len(probs) - 1)
    assert torch.equal(faces, expected)
    assert faces.min() >= 0 and faces.max() < len(probs)


@pytest.mark.parametrize("total_count,num_samples", [(1, 1), (10, 500), (1000, 1), (3, 7)])
def test_scratch_counts_equal_multinomial_with_same_seed(total_count, num_samples):
    probs = torch.tensor([0.1, 0.2, 0.3, 0.4])
    gen = torch.Generator().manual_seed(7)
    torch.manual_seed(7)
    a = scratch.multinomial_counts(total_count, probs, num_samples, gen)
    b = concise.multinomial_counts(total_count, probs, num_samples)
    assert a.shape == (num_samples, 4) and (a.sum(1) == total_count).all()
    assert torch.equal(a, b)


@pytest.mark.parametrize("x,dof,p", [(3.841459, 1, 0.05), (5.991465, 2, 0.05),
                                     (7.814728, 3, 0.05), (9.487729, 4, 0.05),
                                     (11.070498, 5, 0.05), (15.086272, 5, 0.01), (0.0, 5, 1.0)])
def test_chi_square_sf_against_tables(x, dof, p):
    assert scratch.chi_square_sf(x, dof) == pytest.approx(p, abs=1e-6)


def test_chi_square_passes_fair_and_rejects_loaded():
    """Fixed seed, and a bound (40, p = 1.5e-7 for 5 dof) that a fair die cannot flake on."""
    fair = torch.ones(6) / 6
    assert scratch.chi_square_sf(ch2.tour.CHI2_BOUND, 5) < 1e-6
    assert scratch.chi_square([10, 10, 10, 10, 10, 10], fair) == pytest.approx(0)
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    for counts in (scratch.multinomial_counts(6000, fair, 1, gen)[0],
                   concise.multinomial_counts(6000, fair, 1)[0]):
        assert scratch.chi_square(counts, fair) < ch2.tour.CHI2_BOUND
    loaded = scratch.multinomial_counts(6000, torch.tensor([.15, .15, .15, .15, .15, .25]), 1, gen)
    assert scratch.chi_square(loaded[0], fair) > ch2.tour.CHI2_BOUND


def test_probability_tour_and_plot(tmp_path):
    s = ch2.probability_tour(seed=0)
    assert s.ok
    est = s.plot_data["estimates"]
    assert est.shape == (500, 6)
    torch.testing.assert_close(est.sum(1), torch.ones(500))
    fig = ch2.plot_die_convergence(est, path=tmp_path / "die.png")
    assert len(fig.axes[0].get_lines()) == 7      # six faces and the 1/6 line
    assert fig.axes[0].get_lines()[-1].get_ydata()[0] == pytest.approx(1 / 6)


# --- the CLI ------------------------------------------------------------------------------------

def test_cli_json_and_plots(tmp_path, capsys):
    argv = ["--out", str(tmp_path / "out"), "--data-dir", str(tmp_path / "data"),
            "--json", str(tmp_path / "a.json")]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert ": False" not in out
    # The book's order, §2.1 to §2.6, whatever the order of the registry's keys.
    titles = [line for line in out.splitlines() if line.startswith("§")]
    assert [t.split()[0] for t in titles] == ["§2.1", "§2.2", "§2.4", "§2.5", "§2.6"]
    assert {p.name for p in (tmp_path / "out").iterdir()} == {"tangent_line.png",
                                                              "die_convergence.png"}
    assert (tmp_path / "data" / "house_tiny.csv").is_file()
    doc = json.loads((tmp_path / "a.json").read_text())
    assert set(doc) == {"results", "seconds", "settings"}
    assert set(doc["results"]) == set(ch2.SECTIONS) == set(doc["seconds"])
    assert all(isinstance(v, float) for v in doc["seconds"].values())
    assert all(r["all_true"] for r in doc["results"].values())
    assert doc["results"]["linalg"]["||ones(4, 9)||_F"] == 6


def test_cli_one_section(tmp_path, capsys):
    assert main(["--section", "calculus", "--no-plots", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    titles = [line for line in out.splitlines() if line.startswith("§")]
    assert len(titles) == 1 and titles[0] == ch2.calculus_tour().title


def test_cli_exits_1_when_a_check_is_false(tmp_path, monkeypatch, capsys):
    real = ch2.calculus_tour

    def broken():
        s = real()
        s.check("a value", "== something else", False)
        return s

    monkeypatch.setattr(ch2.tour, "calculus_tour", broken)
    assert main(["--section", "calculus", "--no-plots", "--quiet"]) == 1
    captured = capsys.readouterr()
    assert "a value  == something else: False" in captured.out
    assert "1 check(s) False" in captured.err


def test_cli_bad_section_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--section", "tensors"])
    assert e.value.code == 2
    assert "error: argument --section" in capsys.readouterr().err
