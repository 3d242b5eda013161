"""§2.3 Linear algebra: transposes, len, reductions, norms (the Chinese edition has no
Manhattan-distance question, so its 7th and 8th exercises are the English 8th and 9th)."""

import math

import torch

from ..ch2 import concise, scratch
from .core import Answer, exercise


def _random(shape, seed):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed))


@exercise("2.3.1", zh="2.3.1", edition_1_0="2.3.1", kind="derivation",
          question="Show that transposing a matrix twice gives it back.")
def transpose_twice(seed=0):
    A = _random((3, 5), seed)
    equal = torch.equal(A.T.T, A)
    return Answer(
        f"(A^T)_ij = A_ji, so ((A^T)^T)_ij = (A^T)_ji = A_ij for every i, j. A random "
        f"{tuple(A.shape)} A: A.T.T equals A exactly ({equal}); a transpose only relabels "
        "the axes, so no rounding can enter.",
        {"shape": list(A.shape), "equal": equal})


@exercise("2.3.2", zh="2.3.2", edition_1_0="2.3.2", kind="derivation",
          question="Show that the transpose of a sum is the sum of the transposes.")
def transpose_of_sum(seed=0):
    A, B = _random((3, 4), seed), _random((3, 4), seed + 1)
    equal = torch.equal(A.T + B.T, (A + B).T)
    return Answer(
        f"((A + B)^T)_ij = (A + B)_ji = A_ji + B_ji = (A^T)_ij + (B^T)_ij. Two random 3x4 "
        f"matrices: A.T + B.T equals (A + B).T exactly ({equal}): the same additions, "
        "in the same order, only stored transposed.",
        {"equal": equal})


@exercise("2.3.3", zh="2.3.3", edition_1_0="2.3.3", kind="derivation",
          question="For a square A, is A + A^T always symmetric? Why?")
def sum_with_transpose_symmetric(seed=0):
    A = _random((4, 4), seed)
    S = A + A.T
    symmetric = torch.equal(S, S.T)
    return Answer(
        f"Yes: (A + A^T)^T = A^T + (A^T)^T = A^T + A = A + A^T, by the two exercises "
        f"before. In floats too: S_ij = a_ij + a_ji and S_ji = a_ji + a_ij, and addition "
        f"commutes exactly, so a random 4x4 gives S == S.T bit for bit ({symmetric}).",
        {"symmetric": symmetric})


@exercise("2.3.4", zh="2.3.4", edition_1_0="2.3.4", kind="fact",
          question="What is len(X) for the section's X of shape (2, 3, 4)?")
def len_of_x():
    X = torch.arange(24).reshape(2, 3, 4)
    return Answer(f"len(X) = {len(X)}: the size of the first axis, not the {X.numel()} "
                  f"elements nor the {X.ndim} axes.",
                  {"len": len(X), "shape": list(X.shape), "numel": X.numel()})


LEN_SHAPES = [(5,), (2, 3, 4), (7, 1), (1, 9, 9), (0, 3)]


@exercise("2.3.5", zh="2.3.5", edition_1_0="2.3.5", kind="fact",
          question="Does len(X) always give the length of one axis of X? Which one?")
def len_is_axis_0():
    lens = {str(s): (len(torch.zeros(s)), s[0]) for s in LEN_SHAPES}
    all_axis_0 = all(a == b for a, b in lens.values())
    try:
        len(torch.tensor(3.0))
        scalar = "no error"
    except TypeError as e:
        scalar = str(e)
    return Answer(
        f"Yes, axis 0: len(X) == X.shape[0] for every shape tried ({all_axis_0}), "
        f"{', '.join(f'{k}: {v[0]}' for k, v in lens.items())}. A 0-d tensor has no axis "
        f"and len() raises TypeError ({scalar!r}).",
        {"len_and_shape0": lens, "all_axis_0": all_axis_0, "scalar_error": scalar})


@exercise("2.3.6", zh="2.3.6", edition_1_0="2.3.6", kind="fact",
          question="Run A / A.sum(axis=1) and explain what happens.")
def divide_by_row_sums():
    A = torch.arange(20, dtype=torch.float32).reshape(5, 4)
    try:
        A / A.sum(axis=1)
        error = "no error"
    except RuntimeError as e:
        error = str(e).splitlines()[0]
    # A square matrix hides the bug: the shapes broadcast, but along the wrong axis.
    S = torch.arange(1, 10, dtype=torch.float32).reshape(3, 3)
    wrong_rows = (S / S.sum(axis=1)).sum(axis=1)
    right_rows = (S / S.sum(axis=1, keepdim=True)).sum(axis=1)
    return Answer(
        f"For the book's 5x4 A it fails: A.sum(axis=1) has shape (5,), which broadcasts as a "
        f"row (1, 5) against (5, 4), so 4 and 5 clash (RuntimeError). For a square matrix "
        f"it silently divides column j by the sum of row j: the rows then sum to "
        f"{[round(v, 3) for v in wrong_rows.tolist()]}, not 1. keepdim=True keeps the sums "
        f"as a (n, 1) column, and every row sums to 1 "
        f"({bool(torch.allclose(right_rows, torch.ones(3)))}).",
        {"error": error, "square_wrong_row_sums": wrong_rows, "keepdim_row_sums": right_rows})


@exercise("2.3.7", zh=None, edition_1_0="2.3.7", kind="fact",
          question="How far do you walk between two points of Manhattan's street grid? Can you "
                   "go diagonally?")
def manhattan_distance():
    start, end = torch.tensor([1.0, 2.0]), torch.tensor([4.0, 6.0])  # (avenue, street)
    walk = float(scratch.norm_l1(end - start))
    crow = float(concise.norm_l2(end - start))
    return Answer(
        f"Along the grid the distance is the L1 norm |Δavenues| + |Δstreets| = {walk:g} "
        f"blocks from {start.tolist()} to {end.tolist()}; you cannot cut diagonally through "
        f"the blocks, which would be the L2 norm, {crow:g}. Every monotone route along the "
        "streets has the same L1 length.",
        {"l1": walk, "l2": crow, "start": start, "end": end})


@exercise("2.3.8", zh="2.3.7", edition_1_0="2.3.8", kind="fact",
          question="What shapes do sums over axis 0, 1 and 2 of a (2, 3, 4) tensor have?")
def sum_shapes():
    X = torch.arange(24.0).reshape(2, 3, 4)
    shapes = {axis: tuple(X.sum(axis=axis).shape) for axis in range(3)}
    return Answer(
        f"Summing removes that axis: axis 0 -> {shapes[0]}, axis 1 -> {shapes[1]}, axis 2 -> "
        f"{shapes[2]} (keepdim=True would keep it as size 1).",
        {"shapes": {str(k): v for k, v in shapes.items()}})


@exercise("2.3.9", zh="2.3.8", edition_1_0="2.3.9", kind="fact",
          question="What does linalg.norm compute for a tensor with three or more axes?")
def norm_of_tensor(seed=0):
    X = _random((2, 3, 4), seed)
    norm = float(torch.linalg.norm(X))
    by_hand = math.sqrt(sum(v * v for v in X.flatten().tolist()))
    frobenius_flat = float(scratch.norm_frobenius(X.reshape(6, 4)))
    return Answer(
        f"Without ord or dim it flattens the tensor and returns the L2 norm of all its "
        f"entries, sqrt(sum x^2): {norm:.6f} for a random (2, 3, 4) tensor, against "
        f"{by_hand:.6f} by hand and {frobenius_flat:.6f} as the Frobenius norm of it "
        "reshaped to 6x4.",
        {"linalg_norm": norm, "by_hand": by_hand, "frobenius_reshaped": frobenius_flat})
