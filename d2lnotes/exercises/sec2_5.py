"""§2.5 Automatic differentiation: second derivatives, a second backward, control flow."""

import torch

from ..ch2.tour import book_f
from .core import Answer, exercise


def graph_size(tensor):
    """How many autograd nodes ``tensor``'s ``grad_fn`` reaches (its backward graph)."""
    seen, todo = set(), [tensor.grad_fn]
    while todo:
        node = todo.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        todo.extend(next_fn for next_fn, _ in node.next_functions)
    return len(seen)


def tanh_chain(x):
    """``y = sum(tanh(tanh(tanh(x))))``: three layers, so the backward pass has work to do."""
    return torch.tanh(torch.tanh(torch.tanh(x))).sum()


@exercise("2.5.1", zh="2.5.1", edition_1_0="2.5.1", kind="derivation",
          question="Why is a second derivative much more expensive to compute than the first?")
def second_derivative_cost(seed=0):
    n = 6
    x = torch.randn(n, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    x.requires_grad_(True)
    y = tanh_chain(x)
    # create_graph=True records the backward pass itself, so that it can be differentiated.
    (g,) = torch.autograd.grad(y, x, create_graph=True)
    rows = [torch.autograd.grad(g[i], x, retain_graph=True)[0] for i in range(n)]
    H = torch.stack(rows)
    reference = torch.autograd.functional.hessian(tanh_chain, x.detach())
    gap = float((H - reference).abs().max())
    return Answer(
        f"The gradient of a scalar costs one backward pass. Differentiating it again needs "
        f"(1) that backward pass recorded as a graph of its own (create_graph=True): for "
        f"y = sum tanh(tanh(tanh(x))) it has {graph_size(g)} nodes against {graph_size(y)} "
        f"for y, and (2) one more pass through that bigger graph per input for the whole "
        f"Hessian: {len(rows)} passes for n = {n}, and n^2 = {n * n} entries to store. "
        f"(torch.autograd.functional.hessian agrees to {gap:.1e}.)",
        {"nodes_y": graph_size(y), "nodes_grad": graph_size(g), "passes": len(rows),
         "inputs": n, "hessian_gap": gap})


@exercise("2.5.2", zh="2.5.2", edition_1_0="2.5.2", kind="fact",
          question="Run the backward pass a second time right after the first: what happens?")
def backward_twice():
    x = torch.arange(4.0, requires_grad=True)
    y = 2 * torch.dot(x, x)
    y.backward()
    try:
        y.backward()
        error = "no error"
    except RuntimeError as e:
        error = str(e).split(".")[0]
    x.grad = None
    y = 2 * torch.dot(x, x)
    y.backward(retain_graph=True)
    once = x.grad.clone()
    y.backward()
    twice = x.grad.clone()
    return Answer(
        f"It raises RuntimeError ({error!r}): the first pass frees the graph's saved "
        f"tensors. With retain_graph=True the second pass runs, and the gradients add up in "
        f"x.grad: {twice.tolist()} = 2 x {once.tolist()} (8x instead of 4x). Zero the "
        "gradient between passes, as the training loop does.",
        {"error": error, "once": once, "twice": twice})


@exercise("2.5.3", zh="2.5.3", edition_1_0="2.5.3", kind="fact",
          question="Feed the control-flow example a random vector or matrix: what becomes of "
                   "the gradient?")
def control_flow_vector(seed=0):
    generator = torch.Generator().manual_seed(seed)
    results = {}
    for shape in ((4,), (2, 3)):
        a = torch.randn(shape, generator=generator, requires_grad=True)
        d = book_f(a)
        try:
            d.backward()
            error = "no error"
        except RuntimeError as e:
            error = str(e)
        d.sum().backward()
        k = (d / a).detach()
        results[str(shape)] = {"error": error, "grad": a.grad,
                               "grad_is_d_over_a": bool(torch.allclose(a.grad, k)),
                               "one_factor": bool(torch.allclose(k, k.flatten()[0]))}
    return Answer(
        "d = f(a) is now a tensor, so d.backward() alone fails (the gradient can only be "
        "made implicitly for a scalar). Back-propagate d.sum() (a vector-Jacobian product "
        "with ones): f multiplies the whole tensor by one factor k that the loop picks from "
        "the norm of a, so a.grad is k in every entry and equals d / a "
        f"({all(r['grad_is_d_over_a'] and r['one_factor'] for r in results.values())} for a "
        "vector and a 2x3 matrix).",
        {"cases": results})


def power_until(a, limit=100.0):
    """``a^k`` for the least ``k >= 1`` with ``|a^k| >= limit``, by a while loop (``|a| > 1``)."""
    b = a
    while b.abs() < limit:
        b = b * a
    return b


@exercise("2.5.4", zh="2.5.4", edition_1_0=None, kind="fact",
          question="Design another function with control flow and check its gradient.")
def control_flow_power():
    cases = {}
    for value in (3.0, -2.5, 1.5, 11.0):
        a = torch.tensor(value, dtype=torch.float64, requires_grad=True)
        b = power_until(a)
        b.backward()
        k = round(float(torch.log(b.detach().abs()) / torch.log(a.detach().abs())))
        cases[str(value)] = {"k": k, "autograd": float(a.grad),
                             "k_a_to_k_minus_1": k * value ** (k - 1)}
    agree = all(abs(c["autograd"] - c["k_a_to_k_minus_1"]) <= 1e-9 * abs(c["autograd"])
                for c in cases.values())
    listing = ", ".join(f"a={v}: k={c['k']}, grad {c['autograd']:g}" for v, c in cases.items())
    return Answer(
        "power_until(a) multiplies by a until |a^k| >= 100, so k depends on a. Autograd "
        f"differentiates the path actually taken, a^k, giving k a^(k-1) "
        f"({listing}); it agrees with k a^(k-1) in every case ({agree}). The function is not "
        "differentiable where k jumps, and autograd cannot see that.",
        {"cases": cases, "agree": agree})


@exercise("2.5.5", zh="2.5.5", edition_1_0="2.5.4", kind="fact",
          question="Plot sin(x) and its derivative without using that the derivative is cos(x).")
def sine_derivative():
    from ..utils.plot import plot

    x = torch.linspace(-2 * torch.pi, 2 * torch.pi, 200, requires_grad=True)
    y = torch.sin(x)
    y.sum().backward()  # each y_i depends on x_i only, so this gives dy_i/dx_i
    gap = float((x.grad - torch.cos(x.detach())).abs().max())
    fig = plot(x.detach(), [y.detach(), x.grad], "x", legend=["sin(x)", "d sin(x)/dx (autograd)"],
               title="§2.5 exercise 5: autograd's derivative of sin is cos")
    return Answer(
        f"Back-propagate sin(x).sum() on a grid of {len(x)} points: x.grad is the derivative "
        f"at each point, and it matches cos(x) to {gap:.1e} (float32).",
        {"max_gap_to_cos": gap, "points": len(x)}, figure=fig)
