"""Chapter 4, concise: the same networks with ``torch.nn`` (§4.1, §4.3, §4.6, §4.8)."""

from torch import nn

from ..ch3.concise import sgd

__all__ = ["activations", "mlp", "mlp_loss", "dropout_mlp", "sgd"]

# torch's twins of scratch.relu / sigmoid / tanh, for the side-by-side checks (§4.1).
activations = {"relu": nn.functional.relu, "sigmoid": nn.functional.sigmoid,
               "tanh": nn.functional.tanh}


def _init_normal(module, std=0.01):
    """The book's init: weights ``N(0, std^2)``, biases 0."""
    if isinstance(module, nn.Linear):
        nn.init.normal_(module.weight, std=std)
        nn.init.zeros_(module.bias)


def mlp(num_inputs=784, num_outputs=10, num_hiddens=256):
    """Flatten, ``Linear -> ReLU -> Linear`` giving logits; init ``N(0, 0.01^2)``, bias 0 (§4.3)."""
    net = nn.Sequential(nn.Flatten(), nn.Linear(num_inputs, num_hiddens), nn.ReLU(),
                        nn.Linear(num_hiddens, num_outputs))
    net.apply(_init_normal)
    return net


# Takes logits and applies log-softmax with the log-sum-exp trick, like
# scratch.softmax_cross_entropy.
mlp_loss = nn.CrossEntropyLoss


def dropout_mlp(num_inputs=784, num_outputs=10, num_hiddens1=256, num_hiddens2=256,
                dropout1=0.2, dropout2=0.5):
    """Two hidden ReLU layers with ``nn.Dropout`` after each (§4.6.5); init ``N(0, 0.01^2)``.

    ``nn.Dropout`` is active after ``net.train()`` and the identity after ``net.eval()``.
    """
    net = nn.Sequential(nn.Flatten(), nn.Linear(num_inputs, num_hiddens1), nn.ReLU(),
                        nn.Dropout(dropout1), nn.Linear(num_hiddens1, num_hiddens2), nn.ReLU(),
                        nn.Dropout(dropout2), nn.Linear(num_hiddens2, num_outputs))
    net.apply(_init_normal)
    return net
