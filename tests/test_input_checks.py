"""The API refuses bad labels, shapes and empty data by name, in the book's terms."""

import numpy as np
import pytest
import torch

from d2lnotes import d2l
from d2lnotes.ch3 import scratch as ch3
from d2lnotes.ch4 import kaggle
from d2lnotes.ch4 import scratch as ch4
from d2lnotes.utils import data, train


def test_uint8_labels_just_work():
    y_hat = torch.full((3, 10), 0.1)
    y = torch.tensor([0, 9, 3], dtype=torch.uint8)
    torch.testing.assert_close(ch3.cross_entropy(y_hat, y), ch3.cross_entropy(y_hat, y.long()))
    logits = torch.randn(3, 10)
    torch.testing.assert_close(ch4.softmax_cross_entropy(logits, y),
                               torch.nn.functional.cross_entropy(logits, y.long(),
                                                                 reduction="none"))


@pytest.mark.parametrize("loss", [ch3.cross_entropy, ch4.softmax_cross_entropy])
@pytest.mark.parametrize("bad", [-1, 3, 200])
def test_out_of_range_labels_are_a_value_error_naming_the_value(loss, bad):
    with pytest.raises(ValueError, match=rf"labels must lie in \[0, 2\], got {bad}\b"):
        loss(torch.full((2, 3), 1 / 3), torch.tensor([0, bad]))


@pytest.mark.parametrize("loss", [ch3.cross_entropy, ch4.softmax_cross_entropy])
def test_bool_labels_are_a_type_error(loss):
    with pytest.raises(TypeError, match="torch.bool"):
        loss(torch.full((2, 3), 1 / 3), torch.tensor([True, False]))


def test_linreg_refuses_a_bias_that_would_grow_the_output():
    with pytest.raises(ValueError, match=r"b of shape \(7,\).*\(5, 1\)"):
        ch3.linreg(torch.ones(5, 2), torch.ones(2, 1), torch.zeros(7))


@pytest.mark.parametrize("batch_size", [0, -1, 0.5, True])
def test_sgd_refuses_a_batch_size_below_1(batch_size):
    w = torch.ones(2, requires_grad=True)
    (w * 2).sum().backward()
    with pytest.raises(ValueError, match="batch_size"):
        d2l.sgd([w], 0.1, batch_size)  # the book's convention lives in the book API
    assert torch.equal(w.detach(), torch.ones(2))


@pytest.mark.parametrize("batch_size", [np.int64(2), np.int32(2), torch.tensor(2)])
def test_load_array_takes_any_integral_batch_size(batch_size):
    loader = data.load_array((torch.arange(5.0),), batch_size, shuffle=False)
    assert [len(b[0]) for b in loader] == [2, 2, 1]


@pytest.mark.parametrize("labels, error", [([-1], ValueError), ([10], ValueError),
                                            ([1.5], TypeError), ([True], TypeError)])
def test_fashion_mnist_labels_are_range_checked(labels, error):
    with pytest.raises(error, match="fashion_mnist_labels"):
        data.fashion_mnist_labels(labels)


def test_fashion_mnist_labels_takes_tensors_of_any_integer_dtype():
    y = torch.tensor([0, 9], dtype=torch.uint8)
    assert data.fashion_mnist_labels(y) == ["t-shirt", "ankle boot"]


def test_train_on_an_empty_loader_is_a_value_error():
    empty = data.load_array((torch.zeros(0, 2), torch.zeros(0, 1)), 4)
    net = ch3.LinearRegression(2)
    with pytest.raises(ValueError, match="no batches"):
        train.train(net, empty, None, ch3.squared_loss, 1, ch3.SGD(net.parameters(), 0.1))


def test_evaluate_and_accuracy_on_empty_data_are_value_errors():
    empty = data.load_array((torch.zeros(0, 4), torch.zeros(0, dtype=torch.long)), 4)
    with pytest.raises(ValueError, match="no examples"):
        train.evaluate(lambda X: X, empty)
    with pytest.raises(ValueError, match="no examples"):
        train.accuracy(torch.zeros(0, 4), torch.zeros(0, dtype=torch.long))


def test_k_fold_with_more_folds_than_examples_is_a_value_error():
    with pytest.raises(ValueError, match="k = 5 examples.*got 3"):
        kaggle.k_fold(5, torch.zeros(3, 2), torch.zeros(3, 1), num_epochs=1)

