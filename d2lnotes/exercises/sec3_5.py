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


class CountingDataset(torch.utils.data.TensorDataset):
    """A ``TensorDataset`` that counts its ``__getitem__`` calls: one per example read."""

    def __init__(self, *tensors):
        super().__init__(*tensors)
        self.calls = 0

    def __getitem__(self, index):
        self.calls += 1
        return super().__getitem__(index)


@exercise("3.5.2", zh="3.5.2", edition_1_0="4.2.2", kind="experiment",
          question="Is the data iterator fast enough? Compare ways of reading the images.")
def iterator_speed(num_examples=3000, batch_size=256):
    train_iter, _ = subset(num_examples, 1, batch_size)
    dataset = CountingDataset(*train_iter.tensors)
    loader = torch.utils.data.DataLoader(dataset, batch_size, shuffle=True)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        ours = read_epoch(train_iter)
        theirs = read_epoch(loader)
    ratio = theirs[0] / ours[0]
    return Answer(
        f"d2lnotes keeps each split as one tensor in memory and cuts a batch with one "
        f"index_select: {ours[1]} batch reads for {num_examples} images. torch's DataLoader "
        f"over a TensorDataset fetches image by image ({dataset.calls} __getitem__ calls) "
        f"and stacks them, the way it must for files on disk. Reading one epoch took "
        f"{1e3 * ours[0]:.1f} ms against {1e3 * theirs[0]:.1f} ms here ({ratio:.0f}x; "
        "timings vary by machine). The book's torchvision pipeline also decodes every "
        "image each epoch (python -m d2lnotes bench measures it); worker processes "
        "(num_workers) hide that cost, an in-memory tensor removes it.",
        {"array_loader": {"seconds": ours[0], "batches": ours[1], "examples": ours[2],
                          "label_sum": ours[3]},
         "data_loader": {"seconds": theirs[0], "batches": theirs[1], "examples": theirs[2],
                         "label_sum": theirs[3], "getitem_calls": dataset.calls},
         "num_examples": num_examples})
