"""§3.4 Softmax regression: the loss's curvature is the softmax's covariance, coding three
equally likely classes, and why log-sum-exp is the "real" soft maximum."""

import math

import torch

from .core import Answer, exercise


def softmax_covariance(p):
    """The covariance of a one-hot ``y ~ Categorical(p)``: ``diag(p) - p p^T`` (§3.4)."""
    return torch.diag(p) - torch.outer(p, p)


@exercise("3.4.1", zh="3.4.1", edition_1_0="4.1.1", kind="derivation",
          question="Compute the second derivative of the softmax cross-entropy loss and show that "
                   "it is the variance of the distribution softmax(o).")
def cross_entropy_hessian(seed=0, num_classes=5):
    generator = torch.Generator().manual_seed(seed)
    o = torch.randn(num_classes, generator=generator, dtype=torch.float64)
    p = torch.softmax(o, dim=0)
    hessians = [torch.autograd.functional.hessian(
        lambda logits, y=y: torch.nn.functional.cross_entropy(logits[None], torch.tensor([y])), o)
        for y in range(num_classes)]
    covariance = softmax_covariance(p)
    # The same covariance as an expectation over the one-hot outcomes: E[yy^T] - E[y]E[y]^T.
    eye = torch.eye(num_classes, dtype=torch.float64)
    second_moment = (p[:, None, None] * eye[:, :, None] * eye[:, None, :]).sum(0)
    by_expectation = second_moment - torch.outer(p, p)
    gap = max(float((H - covariance).abs().max()) for H in hessians)
    return Answer(
        "l = log sum_k exp(o_k) - o_y, so dl/do_j = softmax(o)_j - y_j and "
        "d2l/do_i do_j = p_i [i = j] - p_i p_j: the Hessian is diag(p) - p p^T, whatever "
        "the label. A one-hot y drawn from p has E[y] = p and E[y y^T] = diag(p), so its "
        "covariance is the same diag(p) - p p^T. Autograd's Hessian for all "
        f"{num_classes} labels matches it to {gap:.1e} at random logits; its rows sum to 0 "
        "(shifting every logit changes nothing).",
        {"p": p, "covariance": covariance, "max_gap": gap,
         "expectation_gap": float((by_expectation - covariance).abs().max()),
         "row_sums": covariance.sum(dim=1)})


@exercise("3.4.2", zh="3.4.2", edition_1_0="4.1.2", kind="derivation",
          question="Three classes are equally likely: what is wrong with a binary code for them, "
                   "and what code does better?")
def coding_three_classes(max_block=20):
    entropy = math.log2(3)
    per_symbol = {n: math.ceil(n * entropy) / n for n in range(1, max_block + 1)}
    return Answer(
        f"Two bits can name 4 things, so coding 3 classes one at a time wastes one of the "
        f"four codewords: 2 bits per class against the entropy log2 3 = {entropy:.4f}. Code "
        f"n observations jointly instead: 3^n outcomes need ceil(n log2 3) bits. Pairs still "
        f"cost {per_symbol[2]:.2f} bits per class (9 of 16 codes used), blocks of 3 "
        f"{per_symbol[3]:.2f} (27 of 32), blocks of 5 {per_symbol[5]:.2f} (243 of 256), "
        f"blocks of 17 {per_symbol[17]:.3f}: not monotone in n, but approaching "
        f"{entropy:.4f} as n grows.",
        {"entropy_bits": entropy, "bits_per_class": {str(n): b for n, b in per_symbol.items()}})


def real_softmax(values, lam=1.0):
    """``lam^-1 log sum_i exp(lam x_i)``, computed stably by logsumexp."""
    return torch.logsumexp(lam * values, dim=-1) / lam


@exercise("3.4.3", zh="3.4.3", edition_1_0="4.1.5", kind="derivation",
          question="RealSoftMax(a, b) = log(exp(a) + exp(b)): show it exceeds max(a, b), scale it "
                   "by lambda, let lambda grow, build a soft-min, extend to more numbers.")
def real_softmax_limits(seed=0):
    generator = torch.Generator().manual_seed(seed)
    pairs = torch.randn(1000, 2, generator=generator, dtype=torch.float64) * 3
    gaps = real_softmax(pairs) - pairs.max(dim=1).values
    lambdas = [0.5, 1, 2, 5, 10, 100]
    x = torch.randn(1000, 5, generator=generator, dtype=torch.float64)
    largest_gap = {lam: float((real_softmax(x, lam) - x.max(dim=1).values).max())
                   for lam in lambdas}
    soft_min = -real_softmax(-x, 100.0)
    return Answer(
        "exp(a) + exp(b) > exp(max(a, b)) because the other term is positive, and log is "
        "increasing: RealSoftMax(a, b) > max(a, b); the gap is at most log 2, reached at "
        "a = b. For lambda > 0 the same argument applies to lambda a and lambda b, and "
        "max < lambda^-1 RSM(lambda a, lambda b) <= max + (log n) / lambda, which goes to "
        "max as lambda grows. The soft-min is -lambda^-1 RSM(-lambda a, -lambda b); for n "
        "numbers use log sum_i exp. On random pairs the gap lies in "
        f"({float(gaps.min()):.2e}, {float(gaps.max()):.4f}]; for 5 numbers the largest gap "
        f"falls as {', '.join(f'{v:.3g}' for v in largest_gap.values())} for lambda = "
        f"{', '.join(map(str, lambdas))}, always under log(5)/lambda.",
        {"pair_gap_min": float(gaps.min()), "pair_gap_max": float(gaps.max()),
         "largest_gap_5": {str(k): v for k, v in largest_gap.items()},
         "soft_min_gap": float((soft_min - x.min(dim=1).values).abs().max())})
