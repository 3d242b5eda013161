"""§4.8 Numerical stability and initialisation: other symmetries, equal starting weights in
linear and softmax regression, bounds on a product's eigenvalues, and LARS."""

import torch

from ..ch3 import scratch as scratch3
from ..ch3.experiments import compare_linear_regression
from ..ch4 import variants
from ..ch4.experiments import matrix_product
from ..utils.data import load_array, synthetic_data
from ..utils.train import train
from .core import Answer, exercise
from .sec4_2 import fashion_subset


@exercise("4.8.1", zh="4.8.1", edition_1_0="5.4.1", kind="derivation",
          question="Besides permuting an MLP's hidden units, which other symmetries can a "
                   "network have?")
def other_symmetries(seed=0, c=3.0):
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(32, 6, dtype=torch.float64, generator=gen)
    W1, b1, W2 = (torch.randn(*shape, dtype=torch.float64, generator=gen)
                  for shape in ((6, 5), (5,), (5, 2)))

    def net(act, W1, b1, W2):
        return act(X @ W1 + b1) @ W2

    relu, tanh = torch.relu, torch.tanh
    scaled = net(relu, c * W1, c * b1, W2 / c)  # ReLU(c z) = c ReLU(z) for c > 0
    flip = torch.ones(5, dtype=torch.float64)
    flip[0] = -1  # tanh(-z) = -tanh(z): flip a unit's incoming and outgoing signs
    flipped = net(tanh, W1 * flip, b1 * flip, W2 * flip.reshape(-1, 1))
    values = {"relu_rescaling_diff": float((scaled - net(relu, W1, b1, W2)).abs().max()),
              "tanh_sign_flip_diff": float((flipped - net(tanh, W1, b1, W2)).abs().max())}
    return Answer(
        "Any map of the weights that leaves the function unchanged. In ReLU nets a hidden "
        f"unit's incoming weights and bias can be multiplied by any c > 0 and its outgoing "
        f"weights divided by c (here c = {c}: outputs differ by "
        f"{values['relu_rescaling_diff']:.1e}); in tanh nets a unit's signs can be flipped "
        f"in and out ({values['tanh_sign_flip_diff']:.1e}). Units that start equal stay "
        "equal in any layer type (the filters of a convolution, the units of a recurrent "
        "cell, the heads of attention): that is the symmetry random initialisation breaks. "
        "The rescaling symmetry is why plain weight decay and per-layer learning rates "
        "(4.8.4) can matter so much in ReLU nets.", values)


@exercise("4.8.2", zh="4.8.2", edition_1_0="5.4.2", kind="experiment",
          question="Can all weights of linear regression or softmax regression start at the "
                   "same value?")
def equal_start(seed=0, num_epochs=2, lr=0.1):
    # Linear regression from w = 0, b = 0: Chapter 3's run with its weights zeroed first.
    torch.manual_seed(seed)
    cmp = compare_linear_regression(seed=seed, impl="scratch")
    net = cmp.nets["scratch"]
    linear_error = float((net.w.detach().reshape(-1) - torch.tensor([2.0, -3.4])).abs().max())
    torch.manual_seed(seed)
    zero = scratch3.LinearRegression(2, sigma=0.0)
    features, labels = synthetic_data(torch.tensor([2.0, -3.4]), 4.2, 1000)
    train(zero, load_array((features, labels), 10), None, scratch3.squared_loss, 3,
          scratch3.SGD(zero.parameters(), 0.03), quiet=True)
    zero_error = float((zero.w.detach().reshape(-1) - torch.tensor([2.0, -3.4])).abs().max())
    # Softmax regression from W = 0 on Fashion-MNIST.
    train_data, test_data = fashion_subset(seed)
    softmax_net = scratch3.SoftmaxRegression(784, 10, sigma=0.0)
    torch.manual_seed(seed + 1)
    history = train(softmax_net, load_array(train_data, 32),
                    load_array(test_data, len(test_data[1]), shuffle=False),
                    scratch3.cross_entropy, num_epochs, scratch3.SGD(softmax_net.parameters(), lr),
                    quiet=True)
    W = softmax_net.W.detach()
    values = {"linear_zero_init_max_error": zero_error,
              "linear_random_init_max_error": linear_error,
              "softmax_zero_init_test_acc": history.test_acc[-1],
              "softmax_columns_min_distance":
                  float(torch.cdist(W.T, W.T)[~torch.eye(10, dtype=torch.bool)].min())}
    return Answer(
        "Yes. Symmetry only hurts when several hidden units compute the same thing and so "
        "get the same gradient; with no hidden layer, each output's weights get a gradient "
        "driven by the data (x times that output's error), which differs from output to "
        "output. Linear regression started at w = 0, b = 0 reaches w within "
        f"{zero_error:.1e} of the truth (random start: {linear_error:.1e}); softmax "
        f"regression started at W = 0 reaches test accuracy "
        f"{values['softmax_zero_init_test_acc']:.3f} after {num_epochs} epochs on 2000 "
        "Fashion-MNIST images, its ten weight columns at least "
        f"{values['softmax_columns_min_distance']:.2f} apart. (The loss is convex: any "
        "start reaches the same optimum.)", values)


@exercise("4.8.3", zh="4.8.3", edition_1_0="5.4.3", kind="derivation",
          question="What bounds the eigenvalues of a product of two matrices, and what does "
                   "that say about well-conditioned gradients?")
def product_bounds(seed=0, size=6, trials=200, depth=50):
    gen = torch.Generator().manual_seed(seed)
    worst_radius, worst_cond = 0.0, 0.0
    for _ in range(trials):
        A = torch.randn(size, size, dtype=torch.float64, generator=gen)
        B = torch.randn(size, size, dtype=torch.float64, generator=gen)
        radius = torch.linalg.eigvals(A @ B).abs().max()
        norms = torch.linalg.matrix_norm(A, 2) * torch.linalg.matrix_norm(B, 2)
        worst_radius = max(worst_radius, float(radius / norms))
        cond = torch.linalg.cond(A @ B) / (torch.linalg.cond(A) * torch.linalg.cond(B))
        worst_cond = max(worst_cond, float(cond))
    gaussian = float(torch.linalg.matrix_norm(matrix_product(depth, size, seed=seed), 2))
    Q = torch.eye(size, dtype=torch.float64)
    for _ in range(depth):
        Q = Q @ torch.linalg.qr(torch.randn(size, size, dtype=torch.float64, generator=gen))[0]
    values = {"max_radius_over_norm_product": worst_radius,
              "max_cond_over_cond_product": worst_cond,
              "gaussian_product_norm": gaussian,
              "orthogonal_product_norm": float(torch.linalg.matrix_norm(Q, 2))}
    return Answer(
        "Every eigenvalue of AB is at most its spectral norm: |lambda(AB)| <= ||AB||_2 <= "
        "||A||_2 ||B||_2 = sigma_max(A) sigma_max(B), and the condition number obeys "
        "kappa(AB) <= kappa(A) kappa(B). On "
        f"{trials} random {size} x {size} pairs the largest |lambda(AB)| / (||A|| ||B||) was "
        f"{worst_radius:.2f} and kappa(AB) / (kappa(A) kappa(B)) at most {worst_cond:.2f}. "
        "Backpropagation multiplies one Jacobian per layer, so the gradient's size is bounded "
        "by the product of their norms, which explodes or vanishes geometrically unless each "
        f"is near 1: a product of {depth} N(0, 1) matrices has norm {gaussian:.1e}, one of "
        f"{depth} orthogonal matrices {values['orthogonal_product_norm']:.3f}. Hence "
        "initialisations that keep each layer's singular values near 1 (Xavier, orthogonal).",
        values)


@exercise("4.8.4", zh="4.8.4", edition_1_0="5.4.4", kind="experiment",
          question="If some terms diverge, can we fix it after the fact? (Layer-wise adaptive "
                   "rate scaling, LARS.)")
def lars(lr=0.1, eta=0.01, seed=0):
    gen = torch.Generator().manual_seed(seed)
    small = torch.randn(50, 50, generator=gen).requires_grad_(True)
    large = torch.randn(50, 50, generator=gen).requires_grad_(True)
    before = [small.detach().clone(), large.detach().clone()]
    # gradients 10^4 apart in size, as in a badly scaled deep net
    small.grad, large.grad = 1e-2 * torch.randn(50, 50, generator=gen), \
        1e2 * torch.randn(50, 50, generator=gen)
    variants.LARS([small, large], lr, eta).step()
    relative = [float(torch.norm(p.detach() - b) / torch.norm(b))
                for p, b in zip((small, large), before)]
    values = {"lr_times_eta": lr * eta, "relative_update": relative}
    return Answer(
        "Partly: instead of one learning rate, give each layer a step proportional to "
        "||w|| / ||grad||, so that every layer moves by the same fraction of its weights "
        "however large or small its gradient (You, Gitman and Ginsburg, 2017). Two layers "
        "whose gradients differ 10^4-fold both move by "
        + " and ".join(f"{r:.4f}" for r in relative)
        + f" of their norm (lr x eta = {lr * eta}). This rescues the step size, not a "
        "forward pass that already overflowed; gradient clipping is the blunter cousin.",
        values)
