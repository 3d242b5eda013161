"""The topics ``python -m d2lnotes show`` knows: one ``topic(...)`` call each.

Paths are ``"module:name"`` strings, imported only when a topic is shown. Twins share a
position in the two lists, so they are printed on the same row; ``None`` leaves a gap
where one side has nothing to match (the other side gets it built in).
"""

from .sidebyside import topic

S3, C3 = "d2lnotes.ch3.scratch:", "d2lnotes.ch3.concise:"

# --- Chapter 3 ---------------------------------------------------------------------------
topic("ch3.linreg", "Linear regression", "§3.2-3.5",
      scratch=[S3 + "LinearRegression", S3 + "linreg", S3 + "squared_loss", S3 + "SGD"],
      concise=[C3 + "linear_regression", None, C3 + "linear_regression_loss", C3 + "sgd"])
topic("ch3.softmax", "Softmax regression", "§3.6-3.7",
      scratch=[S3 + "SoftmaxRegression", S3 + "softmax", S3 + "cross_entropy"],
      concise=[C3 + "softmax_regression", None, C3 + "softmax_regression_loss"])
