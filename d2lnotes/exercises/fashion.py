"""Small Fashion-MNIST subsets for the exercises' experiments, read once per process."""

import functools

import torch

from ..utils.data import load_array, read_fashion_mnist


@functools.lru_cache(maxsize=1)
def _fashion_mnist():
    return read_fashion_mnist()


def images(X):
    """uint8 ``(N, 28, 28)`` images as float32 ``(N, 1, 28, 28)`` in [0, 1], as the loader gives."""
    return X.unsqueeze(1).to(torch.float32).div_(255)


def subset(num_train, num_test, batch_size):
    """``(train_iter, test_iter)`` over the first ``num_train`` training and ``num_test`` test
    images (the files are already in random order)."""
    X_train, y_train, X_test, y_test = _fashion_mnist()
    train = load_array((images(X_train[:num_train]), y_train[:num_train]), batch_size)
    test = load_array((images(X_test[:num_test]), y_test[:num_test]), batch_size, shuffle=False)
    return train, test
