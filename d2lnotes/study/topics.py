"""The topics ``python -m d2lnotes show`` knows: one ``topic(...)`` call each.

Paths are ``"module:name"`` strings, imported only when a topic is shown. Twins share a
position in the two lists, so they are printed on the same row; ``None`` leaves a gap
where one side has nothing to match (the other side gets it built in).
"""

from .sidebyside import topic

S2, C2 = "d2lnotes.ch2.scratch:", "d2lnotes.ch2.concise:"
S3, C3 = "d2lnotes.ch3.scratch:", "d2lnotes.ch3.concise:"

# --- Chapter 2 ---------------------------------------------------------------------------
topic("ch2.broadcast", "Broadcasting by the rules", "§2.1.4",
      scratch=[S2 + "broadcast_shape"], concise=[C2 + "broadcast_shape"])
topic("ch2.linalg", "Products and norms", "§2.3",
      scratch=[S2 + "dot", S2 + "mv", S2 + "mm", S2 + "norm_l1", S2 + "norm_l2",
               S2 + "norm_frobenius"],
      concise=[C2 + "dot", C2 + "mv", C2 + "mm", C2 + "norm_l1", C2 + "norm_l2",
               C2 + "norm_frobenius"])
topic("ch2.preprocessing", "Reading house_tiny.csv", "§2.2",
      scratch=[S2 + "read_house_tiny"], concise=[C2 + "read_house_tiny"])
topic("ch2.grad", "Numerical gradient vs autograd", "§2.4-2.5",
      scratch=[S2 + "numerical_grad", S2 + "grad_of_2xx"], concise=[C2 + "grad", None])
topic("ch2.sampling", "Rolling a die", "§2.6",
      scratch=[S2 + "inverse_cdf", S2 + "multinomial_counts"],
      concise=[None, C2 + "multinomial_counts"])

# --- Chapter 3 ---------------------------------------------------------------------------
topic("ch3.linreg", "Linear regression", "§3.2-3.5",
      scratch=[S3 + "LinearRegression", S3 + "linreg", S3 + "squared_loss", S3 + "SGD"],
      concise=[C3 + "linear_regression", None, C3 + "linear_regression_loss",
               "torch.optim.sgd:SGD"])
topic("ch3.softmax", "Softmax regression", "§3.6-3.7",
      scratch=[S3 + "SoftmaxRegression", S3 + "softmax", S3 + "cross_entropy"],
      concise=[C3 + "softmax_regression", None, C3 + "softmax_regression_loss"])

# --- Chapter 4 ---------------------------------------------------------------------------
S4, C4 = "d2lnotes.ch4.scratch:", "d2lnotes.ch4.concise:"
topic("ch4.activations", "Activation functions and their derivatives", "§4.1",
      scratch=[S4 + "relu", S4 + "relu_grad", S4 + "sigmoid", S4 + "sigmoid_grad", S4 + "tanh",
               S4 + "tanh_grad"],
      concise=[C4 + "activations"])
topic("ch4.mlp", "Multilayer perceptron", "§4.2-4.3",
      scratch=[S4 + "MLP", S4 + "softmax_cross_entropy"], concise=[C4 + "mlp", C4 + "mlp_loss"])
topic("ch4.model_selection", "Polynomial regression", "§4.4",
      scratch=[S4 + "PolynomialRegression"], concise=[C4 + "polynomial_regression"])
topic("ch4.weight_decay", "Weight decay: a penalty in the loss vs the optimizer's", "§4.5",
      scratch=[S4 + "l2_penalty", S4 + "penalized_loss"],
      concise=[None, C4 + "weight_decay_sgd"])
topic("ch4.dropout", "Dropout", "§4.6",
      scratch=[S4 + "dropout_layer", S4 + "DropoutMLP"],
      concise=["torch.nn.modules.dropout:Dropout", C4 + "dropout_mlp"])
topic("ch4.backprop", "Backpropagation by hand vs autograd", "§4.7",
      scratch=[S4 + "HandMLP", S4 + "mlp_gradients", S4 + "linear_backward",
               S4 + "relu_backward", S4 + "softmax_cross_entropy_backward"],
      concise=[S4 + "MLP"])
topic("ch4.init", "Xavier initialisation", "§4.8",
      scratch=[S4 + "xavier_uniform", S4 + "xavier_normal"],
      concise=["torch.nn.init:xavier_uniform_", "torch.nn.init:xavier_normal_"])
