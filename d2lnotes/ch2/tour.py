"""Chapter 2's tour, in the book's order (§2.1-2.6): every value computed and checked.

Each ``*_tour`` function runs one section of the chapter and returns a :class:`Section`:
a list of :class:`Check` lines (a value, a claim about it, and whether the claim holds,
computed, never typed in) plus the results for ``--json``. ``python -m d2lnotes.ch2``
prints them; the tests assert the same values independently.
"""

import math
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..editions import cite
from ..utils.io import atomic_path
from . import concise, scratch

__all__ = ["Check", "Section", "HOUSE_TINY_CSV", "write_house_tiny", "book_y",
           "book_f", "f_calculus", "autograd_tour", "calculus_tour", "linalg_tour",
           "preprocessing_tour", "probability_tour", "plot_tangent", "plot_die_convergence",
           "fmt"]



@dataclass
class Check:
    """One printed line: ``label`` shows a value, ``claim`` says what it should be, ``ok`` if so."""

    label: str
    claim: str
    ok: bool

    def __str__(self):
        return f"{self.label}  {self.claim}: {self.ok}"


@dataclass
class Section:
    """The checks of one section, its results for ``--json`` and data for its plot."""

    name: str
    title: str
    checks: list = field(default_factory=list)
    results: dict = field(default_factory=dict)
    plot_data: dict = field(default_factory=dict)

    def check(self, label, claim, ok):
        self.checks.append(Check(label, claim, bool(ok)))

    @property
    def ok(self):
        return all(c.ok for c in self.checks)


def fmt(value, digits=6):
    """Format a tensor, list or number the way the book prints it: ``4.0`` as ``4``."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(fmt(v, digits) for v in value) + "]"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def _close(a, b, tol=1e-6):
    a = torch.as_tensor(a, dtype=torch.float64)
    b = torch.as_tensor(b, dtype=torch.float64)
    return a.shape == b.shape and bool(torch.allclose(a, b, rtol=0, atol=tol))


# --- §2.1, §2.3 tensors and linear algebra ----------------------------------------------------


def linalg_tour(device="cpu"):
    """Broadcasting, saving memory, products and norms: loops by hand vs torch (§2.1, §2.3)."""
    s = Section("linalg", f"{cite('ch2.broadcast', 'ch2.linalg')} "
                          "tensors and linear algebra: loops by hand vs torch")
    a = torch.arange(3, device=device).reshape((3, 1))
    b = torch.arange(2, device=device).reshape((1, 2))
    c = a + b
    by_rules = scratch.broadcast_shape(a.shape, b.shape)
    s.check(f"arange(3).reshape(3, 1) + arange(2).reshape(1, 2) = {fmt(c)}",
            f"shape {by_rules} by the rules == torch's",
            c.tolist() == [[0, 1], [1, 2], [2, 3]] and by_rules == tuple(c.shape)
            == concise.broadcast_shape(a.shape, b.shape))
    refused = []
    for fn, err in ((scratch.broadcast_shape, ValueError), (concise.broadcast_shape, RuntimeError)):
        try:
            fn((3,), (4,))
        except err:
            refused.append(err.__name__)
    s.check(f"broadcast (3,) with (4,): scratch and torch raise {' and '.join(refused)}",
            "both refuse", len(refused) == 2)

    # Saving memory: assignment to a slice and += reuse the storage, Y = Y + X does not.
    X = torch.arange(12, dtype=torch.float32).reshape((3, 4))
    Y = torch.tensor([[2.0, 1, 4, 3], [1, 2, 3, 4], [4, 3, 2, 1]])
    before = Y.data_ptr()
    Y = Y + X
    s.check("Y = Y + X", "allocates new memory", Y.data_ptr() != before)
    Z = torch.zeros_like(Y)
    before = Z.data_ptr()
    Z[:] = X + Y
    s.check("Z[:] = X + Y", "keeps Z's memory", Z.data_ptr() == before)
    before = X.data_ptr()
    X += Y
    s.check("X += Y", "keeps X's memory", X.data_ptr() == before)
    A = X.numpy()
    B = torch.from_numpy(A)
    A[0, 0] = -1.0
    s.check(f"A = X.numpy(), B = torch.from_numpy(A), A[0, 0] = -1: X[0, 0] = {fmt(X[0, 0])}, "
            f"B[0, 0] = {fmt(B[0, 0])}", "all share memory", X[0, 0] == -1 and B[0, 0] == -1)

    # Products and norms: the book's values, by loops and by torch.
    x = torch.arange(3, dtype=torch.float32, device=device)
    y = torch.ones(3, dtype=torch.float32, device=device)
    A = torch.arange(6, dtype=torch.float32, device=device).reshape(2, 3)
    Bm = torch.ones(3, 4, device=device)
    u = torch.tensor([3.0, -4.0], device=device)
    F = torch.ones((4, 9), device=device)
    pairs = [
        ("dot(arange(3), ones(3))", scratch.dot(x, y), concise.dot(x, y), 3),
        ("mv(arange(6).reshape(2, 3), arange(3))", scratch.mv(A, x), concise.mv(A, x), [5, 14]),
        ("mm(arange(6).reshape(2, 3), ones(3, 4))", scratch.mm(A, Bm), concise.mm(A, Bm),
         [[3, 3, 3, 3], [12, 12, 12, 12]]),
        ("||[3, -4]||_1", scratch.norm_l1(u), concise.norm_l1(u), 7),
        ("||[3, -4]||_2", scratch.norm_l2(u), concise.norm_l2(u), 5),
        ("||ones(4, 9)||_F", scratch.norm_frobenius(F), concise.norm_frobenius(F), 6),
    ]
    for label, by_hand, by_torch, book in pairs:
        s.check(f"{label} = {fmt(by_hand)}", f"== book's {fmt(book)}, loops == torch",
                _close(by_hand, book) and _close(by_hand, by_torch.cpu()))
        s.results[label] = by_hand
    return s


# --- §2.2 data preprocessing ------------------------------------------------------------------

HOUSE_TINY_CSV = """\
NumRooms,Alley,Price
NA,Pave,127500
2,NA,106000
4,NA,178100
NA,NA,140000
"""

BOOK_INPUTS = [[3.0, 1.0, 0.0], [2.0, 0.0, 1.0], [4.0, 0.0, 1.0], [3.0, 0.0, 1.0]]
BOOK_OUTPUTS = [127500.0, 106000.0, 178100.0, 140000.0]
BOOK_COLUMNS = ["NumRooms", "Alley_Pave", "Alley_nan"]


def write_house_tiny(data_dir):
    """Write the book's ``house_tiny.csv`` into ``data_dir``, atomically; return the path (§2.2)."""
    path = Path(data_dir) / "house_tiny.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        tmp.write_text(HOUSE_TINY_CSV)
    return path


def preprocessing_tour(data_dir):
    """Read ``house_tiny.csv`` with the csv module and with pandas: the book's tensors (§2.2)."""
    s = Section("preprocessing", f"{cite('ch2.preprocessing')} "
                                 "data preprocessing: house_tiny.csv, csv module vs pandas")
    path = write_house_tiny(data_dir)
    s.check(f"wrote {path}", "reads back as the book's file", path.read_text() == HOUSE_TINY_CSV)
    X_s, y_s, cols_s = scratch.read_house_tiny(path)
    X_c, y_c, cols_c = concise.read_house_tiny(path)
    s.check(f"columns = {cols_s}", "== book's, csv module == pandas",
            cols_s == cols_c == BOOK_COLUMNS)
    s.check(f"inputs (NumRooms NA -> mean 3) = {fmt(X_s)}", "== book's",
            X_s.tolist() == BOOK_INPUTS)
    s.check(f"outputs = {fmt(y_s)}", "== book's", y_s.tolist() == BOOK_OUTPUTS)
    s.check(f"pandas tensors: {X_c.dtype} {tuple(X_c.shape)} and {tuple(y_c.shape)}",
            "identical to the csv module's", torch.equal(X_s, X_c) and torch.equal(y_s, y_c))
    s.results.update(path=str(path), columns=cols_s, inputs=X_s.tolist(), outputs=y_s.tolist())
    return s


# --- §2.4 calculus ----------------------------------------------------------------------------

def f_calculus(x):
    """The book's ``f(x) = 3x^2 - 4x`` (§2.4.1); ``f'(x) = 6x - 4`` so ``f'(1) = 2``."""
    return 3 * x ** 2 - 4 * x


BOOK_LIMITS = ("2.30000", "2.03000", "2.00300", "2.00030", "2.00003")


def calculus_tour():
    """The limit table for ``f(x) = 3x^2 - 4x`` at ``x = 1`` and its tangent line (§2.4)."""
    s = Section("calculus", f"{cite('ch2.calculus')} "
                            "calculus: f(x) = 3x^2 - 4x at x = 1, forward differences")
    f, h, rows = f_calculus, 0.1, []
    for book in BOOK_LIMITS:
        lim = scratch.numerical_lim(f, 1.0, h)
        # (f(1 + h) - f(1)) / h = 2 + 3h exactly, so the table closes in on f'(1) = 2.
        s.check(f"h={h:.5f}, numerical limit={lim:.5f}", f"== book's {book}, == 2 + 3h",
                f"{lim:.5f}" == book and math.isclose(lim, 2 + 3 * h, abs_tol=1e-9))
        rows.append({"h": h, "limit": lim})
        h *= 0.1
    s.results["limits"] = rows
    slope = concise.grad(f, torch.tensor(1.0, dtype=torch.float64)).item()
    s.check(f"f'(1) by autograd = {fmt(slope)}", "== 6x - 4 at x = 1 == 2", slope == 2)
    central = scratch.numerical_grad(f, torch.tensor(1.0)).item()
    s.check(f"f'(1) by central difference = {central:.6f}", "== 2 to 1e-6",
            abs(central - 2) < 1e-6)
    intercept = f(1.0) - slope * 1.0
    s.check(f"tangent at x = 1: y = {fmt(slope)}x - {fmt(-intercept)}", "== book's 2x - 3",
            (slope, intercept) == (2, -3))
    s.results.update(slope=slope, intercept=intercept)
    s.plot_data = {"slope": slope, "intercept": intercept}
    return s


def plot_tangent(path=None):
    """``f(x) = 3x^2 - 4x`` and its tangent ``y = 2x - 3`` at ``x = 1`` (the book's Fig. §2.4)."""
    from ..utils.plot import plot, save

    x = torch.arange(0, 3, 0.1)
    fig = plot(x, [f_calculus(x), 2 * x - 3], "x", "f(x)",
               legend=["f(x) = 3x² - 4x", "tangent line y = 2x - 3 at x = 1"],
               title="§2.4: f and its tangent at x = 1")
    fig.axes[0].plot([1.0], [-1.0], "ko", markersize=4)  # the point of contact (1, f(1))
    if path:
        save(fig, path)
    return fig


# --- §2.5 automatic differentiation -----------------------------------------------------------


def book_y(x):
    """The book's example ``y = 2 x^T x`` (§2.5.1)."""
    return 2 * torch.dot(x, x)


def book_f(a):
    """The book's ``f(a)`` with a while loop and an if: still differentiable (§2.5.4).

    For any ``a`` it returns ``k * a`` for some constant ``k`` that the control flow picks,
    so ``df/da = f(a) / a``.
    """
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c


def autograd_tour(seed=0, device="cpu"):
    """The four steps of autograd on ``y = 2 x^T x`` and each caveat, checked (§2.5)."""
    s = Section("autograd", f"{cite('ch2.autograd')} "
                            "automatic differentiation: y = 2 * x·x at x = arange(4.)")
    # 1. the point, 2. gradient tracking, 3. the function from torch ops, 4. backward.
    x = torch.arange(4.0, device=device)
    x.requires_grad_(True)
    y = 2 * torch.dot(x, x)
    s.check(f"y = 2 * x·x = {fmt(y)}", "== 28", y.item() == 28)
    s.check(f"y.grad_fn = {type(y.grad_fn).__name__}", "is set (y remembers its graph)",
            y.grad_fn is not None)
    y.backward()
    s.check(f"x.grad = {fmt(x.grad)}", "== 4x",
            torch.equal(x.grad, scratch.grad_of_2xx(x.detach())))
    x_cpu = x.detach().cpu()
    num = scratch.numerical_grad(book_y, x_cpu)
    gap = (num - x.grad.cpu().double()).abs().max().item()
    s.check(f"numerical_grad (central difference) = {fmt(num, 5)}, gap {gap:.1e}",
            "== x.grad to 1e-4", gap < 1e-4)
    s.results["y"], s.results["x_grad"] = y.item(), x.grad.tolist()
    s.results["numerical_grad_gap"] = gap

    # backward() needs a scalar.
    x.grad.zero_()
    y = x * x
    try:
        y.backward()
        message = None
    except RuntimeError as e:
        message = str(e)
    s.check(f"(x * x).backward() -> RuntimeError: {message}", "raises (y is not a scalar)",
            message is not None and "scalar" in message)
    y.sum().backward()
    by_sum = x.grad.clone()
    s.check(f"y.sum().backward(): x.grad = {fmt(by_sum)}", "== 2x",
            torch.equal(by_sum, 2 * x.detach()))
    x.grad.zero_()
    (x * x).backward(gradient=torch.ones(4, device=device))
    s.check(f"y.backward(gradient=ones(4)): x.grad = {fmt(x.grad)}", "== the y.sum() one",
            torch.equal(x.grad, by_sum))

    # Gradients accumulate.
    x.grad.zero_()
    (2 * torch.dot(x, x)).backward()
    (2 * torch.dot(x, x)).backward()
    s.check(f"backward twice without zeroing: x.grad = {fmt(x.grad)}", "== 2 * 4x (accumulated)",
            torch.equal(x.grad, 2 * scratch.grad_of_2xx(x.detach())))
    x.grad.zero_()
    (2 * torch.dot(x, x)).backward()
    s.check(f"x.grad.zero_() then backward: x.grad = {fmt(x.grad)}", "== 4x",
            torch.equal(x.grad, scratch.grad_of_2xx(x.detach())))

    # torch.no_grad() builds no graph.
    with torch.no_grad():
        w = 2 * x
    s.check(f"under torch.no_grad(): (2 * x).requires_grad = {w.requires_grad}, "
            f"grad_fn = {w.grad_fn}", "no graph", not w.requires_grad and w.grad_fn is None)

    # detach() cuts the graph: u is a constant, so dz/dx = u.
    x.grad.zero_()
    y = x * x
    u = y.detach()
    z = u * x
    z.sum().backward()
    s.check(f"u = y.detach(), z = u * x: x.grad = {fmt(x.grad)}", "== u (not 3x^2)",
            torch.equal(x.grad, u))
    x.grad.zero_()
    y.sum().backward()
    s.check(f"y itself still differentiates: x.grad = {fmt(x.grad)}", "== 2x",
            torch.equal(x.grad, 2 * x.detach()))

    # Python control flow is differentiated along the path taken.
    gen = torch.Generator().manual_seed(seed)
    a = torch.randn(size=(), generator=gen).to(device).requires_grad_(True)
    d = book_f(a)
    d.backward()
    s.check(f"a = {a.item():.4f}, f(a) = {d.item():.4f}, a.grad = {fmt(a.grad.item())}",
            "== f(a) / a", math.isclose(a.grad.item(), (d / a).item(), rel_tol=1e-6))
    s.results["control_flow"] = {"a": a.item(), "f_a": d.item(), "a_grad": a.grad.item()}

    # Any Python function built from torch ops: the concise helper runs the four steps.
    x0 = torch.arange(4.0, device=device)
    g = concise.grad(book_y, x0)
    s.check(f"concise.grad(book_y, x) = {fmt(g)}", "== 4x",
            torch.equal(g, scratch.grad_of_2xx(x0)))

    def smooth(x):
        return torch.sin(x).sum() + (x ** 3).sum() / 3

    g = concise.grad(smooth, x0)
    s.check(f"grad of sum(sin x + x^3 / 3) = {fmt(g, 5)}", "== cos x + x^2",
            _close(g, torch.cos(x0) + x0 ** 2))
    return s


# --- §2.6 probability -------------------------------------------------------------------------

# chi^2 with 5 degrees of freedom exceeds 40 with probability 1.5e-7: a fair die that fails
# this bound is a bug, not bad luck (and the seed is fixed anyway).
CHI2_BOUND = 40.0


def probability_tour(seed=0):
    """Roll a fair die by inverse CDF and with ``Multinomial``; both converge to 1/6 (§2.6).

    The scratch sampler draws from its own generator and ``Multinomial`` from torch's
    global one, both seeded with ``seed`` and used in lockstep, so on CPU the two give
    the very same counts: torch samples by inverse CDF as well.
    """
    s = Section("probability", f"{cite('ch2.sampling')} "
                               "probability: a fair die, inverse-CDF sampling vs Multinomial")
    fair_probs = torch.ones(6) / 6
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)  # Multinomial samples with the global generator.

    def both(total_count, num_samples, probs=fair_probs):
        return (scratch.multinomial_counts(total_count, probs, num_samples, gen),
                concise.multinomial_counts(total_count, probs, num_samples))

    u = torch.tensor([0.0, 0.1666, 0.1667, 0.49, 0.51, 0.9999], dtype=torch.float64)
    faces = scratch.inverse_cdf(fair_probs, u)
    cdf = fair_probs.double().cumsum(0)
    s.check(f"inverse_cdf(u = {fmt(u, 4)}) = {fmt(faces)}",
            "== searchsorted(cumsum(probs), u, right=True)",
            torch.equal(faces, torch.searchsorted(cdf, u, right=True)))

    by_hand, by_torch = (c[0] / 1000 for c in both(1000, 1))
    s.check(f"1000 rolls by inverse CDF: frequencies = {fmt(by_hand, 3)}",
            "all within 0.05 of 1/6", (by_hand - 1 / 6).abs().max().item() < 0.05)
    s.check("Multinomial(1000, fair_probs).sample() / 1000", "== the inverse-CDF ones (same seed)",
            torch.equal(by_hand, by_torch))

    # The book's experiment: 500 groups of 10 rolls, running estimates.
    counts_s, counts = both(10, 500)
    estimates = concise.running_estimates(counts)
    last = estimates[-1]
    s.check(f"500 groups of 10 rolls: estimates after 5000 rolls = {fmt(last, 3)}",
            "all within 0.02 of 1/6", (last - 1 / 6).abs().max().item() < 0.02)
    s.check(f"counts by inverse CDF, shape {tuple(counts_s.shape)}, every row sums to 10",
            "== Multinomial(10, fair_probs).sample((500,))",
            torch.equal(counts_s, counts) and bool((counts_s.sum(1) == 10).all()))

    # Pearson's chi-square on 6000 rolls from each sampler, and on a loaded die it must reject.
    stats = {}
    loaded = torch.tensor([0.15, 0.15, 0.15, 0.15, 0.15, 0.25])
    bound_p = scratch.chi_square_sf(CHI2_BOUND, 5)
    fair_s, fair_c = both(6000, 1)
    loaded_s, _ = both(6000, 1, loaded)
    for name, totals, fair in (("inverse CDF", fair_s[0], True), ("Multinomial", fair_c[0], True),
                               ("loaded die (p6 = 0.25)", loaded_s[0], False)):
        stat = scratch.chi_square(totals, fair_probs)
        p = scratch.chi_square_sf(stat, 5)
        stats[name] = {"chi_square": stat, "p_value": p}
        s.check(f"{name}, 6000 rolls: chi-square vs fair = {stat:.2f} (p = {p:.2g})",
                f"{'<' if fair else '>'} {CHI2_BOUND:g} (p = {bound_p:.2g})",
                stat < CHI2_BOUND if fair else stat > CHI2_BOUND)
    s.results.update(frequencies_1000=by_hand.tolist(), estimates_5000=last.tolist(),
                     chi_square=stats)
    s.plot_data = {"estimates": estimates}
    return s


def plot_die_convergence(estimates, path=None):
    """Running estimates of each face's probability over groups of rolls, with 1/6 (§2.6.1)."""
    from ..utils.plot import new_figure, save

    fig, ax = new_figure(figsize=(6, 4))
    groups = torch.arange(1, len(estimates) + 1)
    for i in range(estimates.shape[1]):
        ax.plot(groups.tolist(), estimates[:, i].tolist(), label=f"P(die={i + 1})", linewidth=1)
    ax.axhline(1 / 6, color="black", linestyle="dashed", label="1/6")
    ax.set(xlabel="groups of 10 rolls", ylabel="estimated probability",
           title="§2.6: running estimates of a fair die's probabilities")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    if path:
        save(fig, path)
    return fig
