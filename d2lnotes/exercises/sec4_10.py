"""§4.10 Predicting house prices on Kaggle: predicting the logarithm of the price, and when
filling missing values with the mean goes wrong.

The Kaggle experiment uses the section's pipeline (``ch4.kaggle``: ``read_kaggle_house``,
``preprocess``, ``linear_net``, ``train_house``) on one random split of the 1460 training
houses: 1000 to train, 460 to validate.
"""

import torch

from ..ch4 import kaggle
from .core import Answer, exercise


def _split(seed, n_train=1000):
    train_data, test_data = kaggle.read_kaggle_house()
    X, _, y, _ = kaggle.preprocess(train_data, test_data)
    perm = torch.randperm(len(X), generator=torch.Generator().manual_seed(seed))
    tr, va = perm[:n_train], perm[n_train:]
    return X[tr], y[tr], X[va], y[va]


@exercise("4.10.2", zh="4.10.2", edition_1_0=None, kind="experiment",
          question="Can the model improve by predicting the logarithm of the price directly "
                   "instead of the price?")
def log_price(seed=0, num_epochs=100, lr=5.0, lr_log=0.01):
    X_train, y_train, X_valid, y_valid = _split(seed)
    torch.manual_seed(seed)
    book = kaggle.linear_net(X_train.shape[1])
    history = kaggle.train_house(book, X_train, y_train, X_valid, y_valid, num_epochs, lr)
    torch.manual_seed(seed)
    logs = kaggle.linear_net(X_train.shape[1])
    kaggle.train_house(logs, X_train, torch.log(y_train), num_epochs=num_epochs, lr=lr_log)
    with torch.no_grad():
        logs.eval()
        log_rmse = float(torch.sqrt(((logs(X_valid) - torch.log(y_valid)) ** 2).mean()))
    values = {"valid_log_rmse_price_target": history.test_loss[-1],
              "valid_log_rmse_log_target": log_rmse}
    return Answer(
        "Yes. The competition scores the RMSE between log prices, and the book trains on the "
        "squared error in dollars, which weighs expensive houses most and needs clipping "
        "before the log. Training on log(price) with the squared loss minimises the score "
        "itself (and keeps the targets near 12 instead of 10^5). On one split (1000 houses "
        f"to train, 460 to validate, {num_epochs} epochs, Adam): validation log-RMSE "
        f"{log_rmse:.4f} with log targets (lr {lr_log}) against "
        f"{values['valid_log_rmse_price_target']:.4f} with the book's price targets (lr "
        f"{lr}). Predictions are exp of the output.", values)


@exercise("4.10.3", zh="4.10.3", edition_1_0="5.7.2", kind="derivation",
          question="Is filling missing values with the mean always a good idea? (Hint: values "
                   "that are not missing at random.)")
def mean_imputation(n=100_000, seed=0, missing=0.3):
    gen = torch.Generator().manual_seed(seed)
    income = torch.exp(torch.randn(n, generator=gen) * 0.5 + 4)  # log-normal, in thousands
    random_mask = torch.rand(n, generator=gen) < missing  # missing completely at random
    high_mask = income > income.quantile(1 - missing)  # the richest do not answer
    values = {"true_mean": float(income.mean()),
              "observed_mean_at_random": float(income[~random_mask].mean()),
              "observed_mean_not_at_random": float(income[~high_mask].mean()),
              "true_std": float(income.std()),
              "std_after_mean_filling_at_random": float(
                  torch.where(random_mask, income[~random_mask].mean(), income).std())}
    return Answer(
        "No. When values are missing at random, the observed mean is unbiased (true mean "
        f"{values['true_mean']:.1f}, observed {values['observed_mean_at_random']:.1f}), yet "
        "filling a constant still shrinks the spread (standard deviation "
        f"{values['true_std']:.1f} -> {values['std_after_mean_filling_at_random']:.1f}) and "
        "the correlations. When the missingness depends on the value itself (here the top "
        f"{missing:.0%} of incomes go unreported), the observed mean is biased "
        f"({values['observed_mean_not_at_random']:.1f}) and every filled value is far too "
        "low. Then the fact that a value is missing is itself information: keep an "
        "indicator column, as the book's get_dummies(dummy_na=True) does for categories, "
        "or model the missingness.", values)
