"""§2.1 Data manipulation: comparisons and broadcasting beyond two axes."""

import torch

from ..ch2 import concise, scratch
from .core import Answer, exercise


def book_tensors():
    """The section's ``X`` (0..11 as 3x4) and ``Y``, in float32 as the book makes them."""
    X = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    Y = torch.tensor([[2.0, 1, 4, 3], [1, 2, 3, 4], [4, 3, 2, 1]])
    return X, Y


@exercise("2.1.1", zh="2.1.1", edition_1_0="2.1.1", kind="fact",
          question="Replace X == Y by X < Y and X > Y: what tensors come out?")
def comparisons():
    X, Y = book_tensors()
    less, greater, equal = X < Y, X > Y, X == Y
    # Exactly one of <, ==, > holds at each position: the three masks partition the grid.
    partition = bool(((less.int() + greater.int() + equal.int()) == 1).all())
    return Answer(
        f"Each comparison is elementwise and gives a {less.dtype} tensor of X's shape "
        f"{tuple(less.shape)}: X < Y holds at {int(less.sum())} places, X > Y at "
        f"{int(greater.sum())}, X == Y at {int(equal.sum())}; at every place exactly one of "
        f"the three is True ({partition}).",
        {"dtype": str(less.dtype), "shape": list(less.shape), "less": less.int(),
         "greater": greater.int(), "equal": equal.int(), "partition": partition})


BROADCAST_CASES = [((2, 1, 4), (1, 3, 1)), ((3, 1, 5), (4, 1)), ((2, 3, 4), (4,)),
                   ((1, 1, 1, 2), (3, 1, 2))]
CLASH = ((2, 3, 4), (3, 4, 2))


@exercise("2.1.2", zh="2.1.2", edition_1_0="2.1.2", kind="fact",
          question="Broadcast tensors with three or more axes: is the result what the rules "
                   "predict?")
def broadcasting_3d():
    shapes = {}
    for a, b in BROADCAST_CASES:
        got = tuple((torch.zeros(a) + torch.ones(b)).shape)
        shapes[f"{a} + {b}"] = {"torch": got, "rules": scratch.broadcast_shape(a, b),
                                "torch.broadcast_shapes": concise.broadcast_shape(a, b)}
    agree = all(s["torch"] == s["rules"] == s["torch.broadcast_shapes"] for s in shapes.values())
    try:
        torch.zeros(CLASH[0]) + torch.zeros(CLASH[1])
        clash = "no error"
    except RuntimeError as e:
        clash = str(e).splitlines()[0]
    examples = "; ".join(f"{k} -> {v['torch']}" for k, v in list(shapes.items())[:2])
    return Answer(
        f"Yes: align the shapes at the last axis, pad with 1s on the left, stretch size-1 "
        f"axes. {examples}. Torch agrees with the rules by hand on all {len(shapes)} cases "
        f"({agree}); {CLASH[0]} + {CLASH[1]} clashes (RuntimeError).",
        {"shapes": shapes, "all_agree": agree, "clash": clash})
