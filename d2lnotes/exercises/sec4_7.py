"""§4.7 Forward and backward propagation: the gradient's shape, the section's model with a
hidden bias, memory for training and prediction, and second derivatives."""

import torch
from torch import nn

from ..ch4 import concise, scratch, variants
from .core import Answer, exercise


@exercise("4.7.1", zh="4.7.1", edition_1_0="5.3.1", kind="fact",
          question="For a scalar function f of an n x m matrix X, what shape is the gradient "
                   "of f with respect to X?")
def gradient_shape(n=3, m=5, seed=0):
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(n, m, generator=gen, requires_grad=True)
    f = (X.sin() ** 2).sum() * X.norm()  # any scalar function of X
    f.backward()
    values = {"shape_of_X": tuple(X.shape), "shape_of_gradient": tuple(X.grad.shape)}
    return Answer(
        "n x m, the shape of X: one partial derivative df/dX_ij per entry. For a random "
        f"{n} x {m} X and f = ||X|| sum sin(X)^2, autograd's X.grad has shape "
        f"{values['shape_of_gradient']}.", values)


@exercise("4.7.2", zh="4.7.2", edition_1_0="5.3.2", kind="derivation",
          question="Add a bias to the section's hidden layer (not penalised): draw the graph "
                   "and derive forward and backward propagation.")
def hidden_bias(lambd=0.1, seed=0):
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(16, 20, dtype=torch.float64, generator=gen)
    y = torch.randint(0, 4, (16,), generator=gen)
    W1 = (0.3 * torch.randn(20, 8, dtype=torch.float64, generator=gen)).requires_grad_(True)
    b1 = (0.3 * torch.randn(8, dtype=torch.float64, generator=gen)).requires_grad_(True)
    W2 = (0.3 * torch.randn(8, 4, dtype=torch.float64, generator=gen)).requires_grad_(True)
    hand = variants.regularized_mlp_gradients(X, y, W1.detach(), b1.detach(), W2.detach(), lambd)
    O = scratch.relu(X @ W1 + b1) @ W2
    J = scratch.softmax_cross_entropy(O, y).mean() \
        + lambd * (scratch.l2_penalty(W1) + scratch.l2_penalty(W2))
    J.backward()
    gaps = {name: float((h - p.grad).abs().max())
            for name, h, p in zip(("W1", "b1", "W2"), hand, (W1, b1, W2))}
    return Answer(
        "Graph: X, W1 -> (matmul, + b1) -> z -> ReLU -> h; h, W2 -> matmul -> o; o, y -> loss "
        "L; W1, W2 -> s = (lambda/2)(||W1||_F^2 + ||W2||_F^2); J = L + s. Forward (rows as "
        "examples): z = X W1 + b1, h = ReLU(z), o = h W2. Backward: dJ/do = (softmax(o) - "
        "onehot(y)) / n; dJ/dW2 = h^T dJ/do + lambda W2; dJ/dh = dJ/do W2^T; dJ/dz = dJ/dh * "
        "[z > 0]; dJ/dW1 = X^T dJ/dz + lambda W1; and the new term dJ/db1 = the column sums "
        "of dJ/dz (the bias is not penalised). In float64 these hand formulas match autograd "
        "to " + ", ".join(f"{k}: {v:.1e}" for k, v in gaps.items()) + ".", {"max_abs_diff": gaps})


def saved_bytes(net, X, training=True):
    """Bytes of tensors that autograd keeps from a forward pass for the backward pass (§4.7)."""
    total = 0

    def pack(t):
        nonlocal total
        total += t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        with torch.set_grad_enabled(training):
            net(X)
    return total


@exercise("4.7.3", zh="4.7.3", edition_1_0="5.3.3", kind="fact",
          question="What memory do training and prediction need for the section's model?")
def memory_footprint(batch_sizes=(64, 256)):
    net = concise.mlp(784, 10, 256)
    num_params = sum(p.numel() for p in net.parameters())
    saved = {n: saved_bytes(net, torch.randn(n, 1, 28, 28)) for n in batch_sizes}
    predict = {n: saved_bytes(net, torch.randn(n, 1, 28, 28), training=False)
               for n in batch_sizes}
    n = batch_sizes[-1]
    values = {"num_parameters": num_params, "parameter_bytes": 4 * num_params,
              "saved_for_backward_bytes": saved, "saved_when_predicting_bytes": predict}
    return Answer(
        f"The weights: {num_params} float32 numbers ({4 * num_params / 1e6:.2f} MB), and as "
        "much again for their gradients when training (plus optimizer state, none for plain "
        "SGD). Training also keeps, until the backward pass, every intermediate the chain "
        "rule needs: the input X (n x 784, for dL/dW1), the ReLU's output (n x 256: one "
        "tensor, kept for its own derivative and again as the second layer's input, for "
        "dL/dW2) and W2 "
        "(for dL/dh), so 4 (n (784 + 2 x 256) + 256 x 10) bytes: autograd saves "
        f"{saved[batch_sizes[0]] / 1e6:.2f} MB for a batch of "
        f"{batch_sizes[0]} and {saved[n] / 1e6:.2f} MB for {n}. Prediction keeps none of it "
        f"({predict[n]} bytes saved): each layer's input can be freed once the next is "
        "computed, so it needs only the weights and the largest single activation.", values)


@exercise("4.7.4", zh="4.7.4", edition_1_0="5.3.4", kind="derivation",
          question="What happens to the computational graph when we want second derivatives, "
                   "and how long will they take?")
def second_derivatives(num_classes=5, seed=0):
    gen = torch.Generator().manual_seed(seed)
    o = torch.randn(num_classes, dtype=torch.float64, generator=gen, requires_grad=True)
    y = torch.tensor([1])
    loss = nn.functional.cross_entropy(o.reshape(1, -1), y)
    (grad,) = torch.autograd.grad(loss, o, create_graph=True)  # the backward pass, recorded
    hessian = torch.stack([torch.autograd.grad(grad[i], o, retain_graph=True)[0]
                           for i in range(num_classes)])
    p = torch.softmax(o.detach(), 0)
    values = {"max_abs_diff_vs_diag_p_minus_ppT":
              float((hessian - (torch.diag(p) - torch.outer(p, p))).abs().max()),
              "backward_passes": num_classes}
    return Answer(
        "The backward pass must itself be recorded (create_graph=True), so the graph grows "
        "by the backward's operations, and every intermediate of both passes stays in "
        "memory. Differentiating the gradient again costs about one more backward pass per "
        "Hessian-vector product, so a full d x d Hessian takes d of them: d times the cost "
        "of a gradient, and d^2 numbers, impossible for millions of weights (a "
        "Hessian-vector product, though, costs only a few passes). Example: the Hessian of "
        "softmax cross-entropy in the logits o, from "
        f"{num_classes} double-backward passes, equals diag(p) - p p^T, the covariance of "
        "the softmax, to "
        f"{values['max_abs_diff_vs_diag_p_minus_ppT']:.1e}.", values)
