"""§2.6 Probability: how estimates sharpen, bounds on unions, a Markov chain, repeated tests."""

import math

import torch

from ..ch2 import concise
from .core import Answer, exercise

DIE = torch.full((6,), 1 / 6)
GROUPS = [(10, 10), (100, 10), (10, 100), (100, 100)]  # (m groups, n draws per group)


def estimate_error(m, n, repeats, probs=DIE):
    """Root-mean-square error of the frequencies after ``m`` groups of ``n`` rolls, over
    ``repeats`` repetitions of the whole experiment and all outcomes."""
    counts = concise.multinomial_counts(n, probs, m * repeats)  # every group of every repeat
    totals = counts.reshape(repeats, m, len(probs)).sum(dim=1)
    return float((totals / (m * n) - probs).pow(2).mean().sqrt())


@exercise("2.6.1", zh="2.6.1", edition_1_0=None, kind="experiment",
          question="Repeat the die experiment with other numbers of groups m and draws per "
                   "group n: what changes?")
def groups_and_draws(seed=0, repeats=100):
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        rows = {}
        for m, n in GROUPS:
            theory = math.sqrt(1 / 6 * 5 / 6 / (m * n))
            rows[f"m={m}, n={n}"] = {"draws": m * n, "rms_error": estimate_error(m, n, repeats),
                                     "theory": theory}
    table = "; ".join(f"{k}: {v['rms_error']:.4f} (theory {v['theory']:.4f})"
                      for k, v in rows.items())
    return Answer(
        "Only the total number of rolls N = m n matters for the final estimate: each "
        "frequency is a binomial proportion with standard deviation sqrt(p(1-p)/N), so "
        "10 times more rolls gives sqrt(10) ~ 3.2 times less error; m = 10, n = 100 and "
        "m = 100, n = 10 end up alike. m sets how many points the "
        f"running-average curve has, n how far apart they are. RMS error over {repeats} "
        f"repetitions: {table}.",
        {"rows": rows, "repeats": repeats})


def bounds(p_a, p_b):
    """``(union_low, union_high, inter_low, inter_high)`` for events with these probabilities."""
    return (max(p_a, p_b), min(1.0, p_a + p_b), max(0.0, p_a + p_b - 1), min(p_a, p_b))


@exercise("2.6.2", zh="2.6.2", edition_1_0="2.6.5", kind="derivation",
          question="Given P(A) and P(B), bound P(A or B) and P(A and B) from above and below.")
def union_intersection_bounds(seed=0, outcomes=100, trials=100):
    # Outcomes 0..N-1 equally likely; an event is a set of them.
    cases = {}
    for p_a, p_b in ((0.3, 0.5), (0.7, 0.6)):
        a, b = round(p_a * outcomes), round(p_b * outcomes)
        nested = (set(range(a)), set(range(b)))
        apart = (set(range(a)), set(range(outcomes - b, outcomes)))
        low_u, high_u, low_i, high_i = bounds(p_a, p_b)
        reached = {"union_low": len(nested[0] | nested[1]) / outcomes,
                   "union_high": len(apart[0] | apart[1]) / outcomes,
                   "inter_low": len(apart[0] & apart[1]) / outcomes,
                   "inter_high": len(nested[0] & nested[1]) / outcomes}
        generator = torch.Generator().manual_seed(seed)
        inside = True
        for _ in range(trials):  # random events of the same sizes stay within the bounds
            A = set(torch.randperm(outcomes, generator=generator)[:a].tolist())
            B = set(torch.randperm(outcomes, generator=generator)[:b].tolist())
            u, i = len(A | B) / outcomes, len(A & B) / outcomes
            inside &= low_u - 1e-12 <= u <= high_u + 1e-12 and low_i - 1e-12 <= i <= high_i + 1e-12
        cases[f"P(A)={p_a}, P(B)={p_b}"] = {"bounds": [low_u, high_u, low_i, high_i],
                                             "reached": reached, "random_inside": inside}
    return Answer(
        "max(P(A), P(B)) <= P(A ∪ B) <= min(1, P(A) + P(B)) and max(0, P(A) + P(B) - 1) <= "
        "P(A ∩ B) <= min(P(A), P(B)): the union is smallest and the intersection largest when "
        "one event contains the other; the union is largest and the intersection smallest "
        "when they overlap as little as the space allows. Nested and pushed-apart events "
        f"reach each bound, and {trials} random pairs of each size stay inside: "
        f"{ {k: v['bounds'] for k, v in cases.items()} }.",
        {"cases": cases})


@exercise("2.6.3", zh="2.6.3", edition_1_0="2.6.6", kind="derivation",
          question="B depends only on A, and C only on B: simplify P(A, B, C).")
def markov_chain(seed=0, k=3):
    generator = torch.Generator().manual_seed(seed)

    def conditional(rows):  # a random table P(next | previous), rows sum to 1
        return torch.softmax(torch.randn(rows, k, generator=generator, dtype=torch.float64), 1)

    p_a = torch.softmax(torch.randn(k, generator=generator, dtype=torch.float64), 0)
    p_b_given_a, p_c_given_b = conditional(k), conditional(k)
    joint = p_a[:, None, None] * p_b_given_a[:, :, None] * p_c_given_b[None, :, :]
    # From the joint: P(C | A, B) = P(A, B, C) / P(A, B); it should not depend on A.
    p_c_given_ab = joint / joint.sum(dim=2, keepdim=True)
    gap = float((p_c_given_ab - p_c_given_b[None]).abs().max())
    return Answer(
        "Always P(A, B, C) = P(A) P(B | A) P(C | A, B); when C depends only on B, "
        "P(C | A, B) = P(C | B), so P(A, B, C) = P(A) P(B | A) P(C | B): three small tables "
        f"instead of one with k^3 entries. Built that way from random {k}-state tables, the "
        f"joint sums to {float(joint.sum()):.6f}, and P(C | A, B) read back from it equals "
        f"P(C | B) for every A to {gap:.1e}.",
        {"total": float(joint.sum()), "max_gap": gap, "states": k})


# The section's HIV test numbers: prior, then P(D=1 | H=1) and P(D=1 | H=0) for each test.
PRIOR = 0.0015
TEST_1 = (1.0, 0.01)
TEST_2 = (0.98, 0.03)


def posterior(*tests, prior=PRIOR):
    """``P(H=1 | all tests positive)`` for tests whose errors are independent given H."""
    sick, healthy = prior, 1 - prior
    for p_pos_sick, p_pos_healthy in tests:
        sick, healthy = sick * p_pos_sick, healthy * p_pos_healthy
    return sick / (sick + healthy)


@exercise("2.6.4", zh="2.6.4", edition_1_0=None, kind="derivation",
          question="The first HIV test is the more accurate one: why not simply run it twice?")
def repeat_the_first_test():
    once = posterior(TEST_1)
    both = posterior(TEST_1, TEST_2)
    twice_independent = posterior(TEST_1, TEST_1)
    return Answer(
        f"Bayes' rule only multiplies the likelihoods when the tests' errors are independent "
        f"given H. One positive first test gives P(H=1) = {once:.4f}; adding the second test "
        f"gives {both:.4f}. Repeating the first test would give {twice_independent:.4f} only "
        f"if its false positives were independent draws, but a false positive usually has a "
        f"cause in the patient's sample that repeats: with fully repeated errors the second "
        f"run adds nothing and P(H=1) stays {once:.4f}. A different test fails for other "
        "reasons, so its errors are far closer to independent.",
        {"one_test": once, "both_tests": both, "first_twice_if_independent": twice_independent,
         "first_twice_if_errors_repeat": once})
