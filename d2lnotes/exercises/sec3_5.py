"""§3.5 The image classification dataset: what the batch size does to reading speed."""

import math
import time

import torch

from .core import Answer, exercise
from .fashion import subset

BATCH_SIZES = (1, 16, 256)


def read_epoch(data_iter):
    """Read every batch once; return (seconds, number of batches, examples seen, label sum)."""
    start = time.perf_counter()
    batches, seen, label_sum = 0, 0, 0
    for X, y in data_iter:
        batches += 1
        seen += len(X)
        label_sum += int(y.sum())
    return time.perf_counter() - start, batches, seen, label_sum


@exercise("3.5.1", zh="3.5.1", edition_1_0="4.2.1", kind="experiment",
          question="Does a smaller batch size (down to 1) change how fast the data are read?")
def batch_size_and_reading(num_examples=3000):
    rows = {}
    for batch_size in BATCH_SIZES:
        train_iter, _ = subset(num_examples, 1, batch_size)
        seconds, batches, seen, label_sum = read_epoch(train_iter)
        rows[str(batch_size)] = {"seconds": seconds, "batches": batches, "examples": seen,
                                 "label_sum": label_sum,
                                 "microseconds_per_example": 1e6 * seconds / seen}
    one, big = rows["1"], rows[str(BATCH_SIZES[-1])]
    return Answer(
        f"Yes. Each batch costs a fixed overhead (a Python loop step, an index_select per "
        f"tensor) whatever its size, and one epoch over {num_examples} images takes "
        f"ceil(n / batch_size) batches: {one['batches']} at batch size 1 against "
        f"{big['batches']} at {BATCH_SIZES[-1]}. Measured here: "
        f"{one['microseconds_per_example']:.1f} µs per image at batch 1, "
        f"{big['microseconds_per_example']:.2f} µs at {BATCH_SIZES[-1]} (timings vary by "
        "machine; the batch counts do not). Every batch size reads each image once.",
        {"rows": rows, "num_examples": num_examples,
         "expected_batches": {str(b): math.ceil(num_examples / b) for b in BATCH_SIZES},
         "num_threads": torch.get_num_threads()})
