"""§3.6 Softmax regression from scratch: where the naive softmax and cross-entropy break,
the fix, decisions that are not the arg-max, and large vocabularies."""

import math

import torch

from ..ch3 import scratch
from .core import Answer, exercise


def overflow_point(dtype=torch.float32):
    """The largest ``x`` with a finite ``exp(x)``: ``log`` of the largest finite number."""
    return math.log(torch.finfo(dtype).max)


def underflow_point(dtype=torch.float32):
    """Below this ``exp(x)`` rounds to 0: ``log`` of half the smallest subnormal number."""
    info = torch.finfo(dtype)
    return math.log(info.smallest_normal * info.eps / 2)  # smallest subnormal = normal * eps


@exercise("3.6.1", zh="3.6.1", edition_1_0="4.4.1", kind="fact",
          question="The softmax follows its definition: what can go wrong? (Try exp(50).)")
def naive_softmax_overflow():
    x_max, x_min = overflow_point(), underflow_point()
    exp50 = float(torch.exp(torch.tensor(50.0)))
    just_below = float(torch.exp(torch.tensor(x_max - 0.01)))
    just_above = float(torch.exp(torch.tensor(x_max + 0.01)))
    big = torch.tensor([[100.0, 0.0]])
    small = torch.tensor([[-200.0, -201.0]])
    naive_big, naive_small = scratch.softmax_naive(big), scratch.softmax_naive(small)
    stable_big, stable_small = scratch.softmax(big), scratch.softmax(small)
    return Answer(
        f"exp(50) is fine: {exp50:.4g} in float32. exp overflows to inf only past "
        f"log(float32 max) = {x_max:.4f} (exp({x_max - 0.01:.2f}) = {just_below:.4g}, "
        f"exp({x_max + 0.01:.2f}) = {just_above}), and then inf / inf = nan: the naive "
        f"softmax of logits [100, 0] is {naive_big.tolist()[0]}. The other end breaks too: "
        f"exp of anything below {x_min:.2f} rounds to 0, so if every logit is that small, "
        f"0 / 0 gives "
        f"{naive_small.tolist()[0]} for [-200, -201]. Subtracting the row maximum first "
        f"gives {[float(f'{v:.4g}') for v in stable_big.tolist()[0]]} and "
        f"{[round(v, 4) for v in stable_small.tolist()[0]]}.",
        {"exp_50": exp50, "overflow_point": x_max, "exp_just_below": just_below,
         "exp_just_above": just_above, "underflow_point": x_min, "naive_100_0": naive_big,
         "naive_-200_-201": naive_small,
         "stable_100_0": stable_big, "stable_-200_-201": stable_small})


@exercise("3.6.2", zh="3.6.2", edition_1_0="4.4.2", kind="fact",
          question="cross_entropy takes the log of a probability: what can go wrong?")
def cross_entropy_log_zero():
    logits = torch.tensor([[0.0, -120.0]], requires_grad=True)
    y_hat = scratch.softmax(logits)  # the second probability underflows to exactly 0
    loss = scratch.cross_entropy(y_hat, torch.tensor([1]))
    loss.sum().backward()
    y_hat, loss = y_hat.detach(), loss.detach()
    return Answer(
        f"log is defined on (0, inf) only. A probability that underflows to 0 (the second "
        f"class at logits [0, -120] gets {float(y_hat[0, 1])} in float32) gives -log 0 = "
        f"{float(loss)} as the loss, and the gradient through it is "
        f"{logits.grad.tolist()[0]}: one such example poisons the whole step. (A probability "
        "computed as exactly 1 gives a loss of 0 for the right class: no harm there.)",
        {"probability": float(y_hat[0, 1]), "loss": float(loss), "grad": logits.grad.clone()})


def cross_entropy_from_logits(o, y):
    """``l = log sum_k exp(o_k) - o_y``: softmax and log fused, never taking log 0 (§3.7)."""
    return torch.logsumexp(o, dim=1) - o[torch.arange(len(o)), y]


@exercise("3.6.3", zh="3.6.3", edition_1_0=None, kind="fact",
          question="Fix both problems.")
def log_sum_exp_fix():
    o = torch.tensor([[0.0, -120.0], [100.0, 0.0], [-200.0, -201.0], [1.0, 2.0]])
    y = torch.tensor([1, 1, 0, 1])
    ours = cross_entropy_from_logits(o, y)
    reference = cross_entropy_from_logits(o.double(), y)  # float64 has room to spare
    torch_loss = torch.nn.functional.cross_entropy(o, y, reduction="none")
    naive = scratch.cross_entropy(scratch.softmax_naive(o), y)
    return Answer(
        "Never form the probabilities: subtract the row maximum (no overflow) and compute "
        "the loss from the logits as log sum_k exp(o_k) - o_y (log-sum-exp), so no log of 0 "
        "is taken. This is what nn.CrossEntropyLoss does on logits, and why the concise "
        f"model has no softmax layer. On four hard rows the naive pair gives "
        f"{naive.tolist()}, the fused loss {[round(v, 4) for v in ours.tolist()]} (float64: "
        f"{[round(v, 4) for v in reference.tolist()]}).",
        {"naive": naive, "fused": ours, "float64": reference, "torch": torch_loss,
         "gap_to_float64": float((ours.double() - reference).abs().max())})


@exercise("3.6.4", zh="3.6.4", edition_1_0="4.4.3", kind="derivation",
          question="Is returning the most likely label always right, e.g. in medical diagnosis?")
def costly_mistakes(p_disease=0.2, miss_cost=50.0, false_alarm_cost=1.0):
    p = torch.tensor([1 - p_disease, p_disease])  # (healthy, ill)
    # cost[decision, truth]: deciding "healthy" for an ill patient is the expensive mistake.
    cost = torch.tensor([[0.0, miss_cost], [false_alarm_cost, 0.0]])
    expected = cost @ p
    argmax, best = int(p.argmax()), int(expected.argmin())
    threshold = false_alarm_cost / (false_alarm_cost + miss_cost)
    labels = ["healthy", "ill"]
    return Answer(
        f"No: the arg-max minimises the number of mistakes, not their cost. With P(ill) = "
        f"{p_disease} the arg-max says {labels[argmax]!r}, but if missing the illness costs "
        f"{miss_cost:g} times a false alarm, the expected costs are "
        f"{[round(v, 3) for v in expected.tolist()]} for saying healthy / ill, so the best "
        f"decision is {labels[best]!r}: treat whenever P(ill) > {threshold:.3f}. Choose the "
        "decision with the least expected cost, and, when unsure, defer to a human.",
        {"probabilities": p, "expected_cost": expected, "argmax": labels[argmax],
         "least_cost": labels[best], "threshold": threshold})


@exercise("3.6.5", zh="3.6.5", edition_1_0="4.4.4", kind="derivation",
          question="Predict the next word with softmax regression: what goes wrong with a large "
                   "vocabulary?")
def large_vocabulary(num_inputs=512, vocab_size=100_000, batch_size=256):
    params = num_inputs * vocab_size + vocab_size
    megabytes = params * 4 / 1e6
    flops = 2 * batch_size * num_inputs * vocab_size
    return Answer(
        f"The output layer grows with the vocabulary: {num_inputs} features and "
        f"{vocab_size:,} words make {params:,} parameters ({megabytes:.0f} MB in float32), "
        f"{flops / 1e9:.1f} GFLOP per batch of {batch_size} just for the logits, and every "
        "step normalises over all words and updates every row, though most words are rare "
        "and get little signal. Remedies: hierarchical softmax, sampled softmax / negative "
        "sampling, subword vocabularies.",
        {"parameters": params, "megabytes_float32": megabytes, "flops_per_batch": flops})
