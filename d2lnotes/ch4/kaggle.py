"""Predicting house prices on Kaggle (§4.10): download, verify, preprocess, k-fold, submit.

The two CSVs come from the book's data hub and are checked against their SHA-1 before
anything reads them. A wrong hash is an error, never a silent re-download or retrain.
Training is a linear model, Adam and ``nn.MSELoss`` on the one loop of
``d2lnotes.utils.train``; models are judged by the log-RMSE, as the competition does.
"""

import csv
from dataclasses import dataclass

import torch
from torch import nn

from ..utils.data import data_root, load_array
from ..utils.errors import DataError
from ..utils.hub import DATA_HUB, DATA_URL, data_url, fetch, sha1_of
from ..utils.io import atomic_path
from ..utils.train import History, train

# file name -> SHA-1, from the book's DATA_HUB entries (§4.10)
KAGGLE_FILES = dict((url.split("/")[-1], sha1) for url, sha1 in (
    DATA_HUB["kaggle_house_train"], DATA_HUB["kaggle_house_test"]))
SUBFOLDER = "kaggle_house"

# The 79 explanatory columns, between ``Id`` (first) and ``SalePrice`` (last, train only).
FEATURE_COLUMNS = tuple("""
MSSubClass MSZoning LotFrontage LotArea Street Alley LotShape LandContour Utilities LotConfig
LandSlope Neighborhood Condition1 Condition2 BldgType HouseStyle OverallQual OverallCond
YearBuilt YearRemodAdd RoofStyle RoofMatl Exterior1st Exterior2nd MasVnrType MasVnrArea
ExterQual ExterCond Foundation BsmtQual BsmtCond BsmtExposure BsmtFinType1 BsmtFinSF1
BsmtFinType2 BsmtFinSF2 BsmtUnfSF TotalBsmtSF Heating HeatingQC CentralAir Electrical
1stFlrSF 2ndFlrSF LowQualFinSF GrLivArea BsmtFullBath BsmtHalfBath FullBath HalfBath
BedroomAbvGr KitchenAbvGr KitchenQual TotRmsAbvGrd Functional Fireplaces FireplaceQu
GarageType GarageYrBlt GarageFinish GarageCars GarageArea GarageQual GarageCond PavedDrive
WoodDeckSF OpenPorchSF EnclosedPorch 3SsnPorch ScreenPorch PoolArea PoolQC Fence MiscFeature
MiscVal MoSold YrSold SaleType SaleCondition
""".split())


# --- getting the data -----------------------------------------------------------------------

def download(name, root=None):
    """Return the path of ``name`` in ``data_root(root)/kaggle_house``, downloading it if missing.

    A file already there must have the book's SHA-1, or :class:`DataError`. A download
    (``hub.fetch``, from ``$D2LNOTES_DATA_URL`` when set) is checked *before* it is renamed
    into place, so a failed or corrupt download never leaves a file that looks valid.
    """
    expected = KAGGLE_FILES[name]
    folder = data_root(root) / SUBFOLDER
    path = folder / name
    if path.is_file():
        actual = sha1_of(path)
        if actual != expected:
            raise DataError(
                f"{path} has SHA-1 {actual}, expected {expected} (a corrupt, truncated or "
                f"different file); delete it so that it is downloaded again from "
                f"{data_url() + name}, or replace it with a good copy")
        return path
    return fetch(DATA_URL + name, path, expected, advice=(
        f"copy kaggle_house_pred_train.csv and kaggle_house_pred_test.csv into {folder}, "
        "or point --data-dir or D2LNOTES_DATA at a folder whose kaggle_house/ holds them"))


def read_kaggle_house(root=None):
    """Return ``(train_data, test_data)`` DataFrames of the verified CSVs (§4.10)."""
    import pandas as pd

    train_path = download("kaggle_house_pred_train.csv", root)
    test_path = download("kaggle_house_pred_test.csv", root)
    return pd.read_csv(train_path), pd.read_csv(test_path)


def check_columns(train_data, test_data):
    """Raise :class:`DataError` unless the frames have ``Id``, the 79 features, ``SalePrice``."""
    for what, frame, needed in (("training", train_data, ("Id", *FEATURE_COLUMNS, "SalePrice")),
                                ("test", test_data, ("Id", *FEATURE_COLUMNS))):
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise DataError(
                f"the {what} data lacks the column(s) {', '.join(missing)}; use the book's "
                f"kaggle_house_pred_*.csv files, whose SHA-1 d2lnotes checks")


# --- preprocessing (§4.10) -------------------------------------------------------------------

def preprocess(train_data, test_data):
    """Standardise numeric features, fill NaN with 0, one-hot the rest with a NA column (§4.10).

    Returns ``(train_features, test_features, train_labels, columns)``: float32 tensors
    ``(n, d)``, ``(m, d)``, ``(n, 1)`` and the ``d`` feature names. Statistics come from
    train and test together, as in the book.

    Two pandas traps. Numeric columns are chosen by kind, ``select_dtypes('number')``: on
    pandas 3 text columns have the ``str`` dtype, so the book's ``dtypes != 'object'``
    would call all 79 columns numeric. And ``get_dummies`` returns bool columns, which
    must become float before they reach torch.

    The result is 36 numeric + 294 dummy = 330 features; the book printed 331. The missing
    one is ``MasVnrType_None``: since pandas 2.0, ``read_csv`` counts the string "None" as
    missing, so the "None" veneer type (864 train / 878 test houses) joins the NaN column
    instead of getting its own.
    """
    import pandas as pd

    check_columns(train_data, test_data)
    all_features = pd.concat((train_data[list(FEATURE_COLUMNS)],
                              test_data[list(FEATURE_COLUMNS)]))
    numeric = all_features.select_dtypes(include="number").columns
    # x <- (x - mean) / std, then NaN <- 0, which is the mean after standardising.
    all_features[numeric] = all_features[numeric].apply(lambda x: (x - x.mean()) / x.std())
    all_features[numeric] = all_features[numeric].fillna(0)
    all_features = pd.get_dummies(all_features, dummy_na=True).astype("float32")
    n_train = len(train_data)
    values = torch.tensor(all_features.to_numpy())
    labels = torch.tensor(train_data["SalePrice"].to_numpy(), dtype=torch.float32).reshape(-1, 1)
    return values[:n_train], values[n_train:], labels, list(all_features.columns)


# --- the model and its measure ---------------------------------------------------------------

def linear_net(num_inputs):
    """The book's baseline, one ``nn.Linear(num_inputs, 1)`` with PyTorch's default init (§4.10)."""
    return nn.Sequential(nn.Linear(num_inputs, 1))


@torch.no_grad()
def log_rmse(net, features, labels):
    """``sqrt(mean((log y_hat - log y)^2))`` with ``y_hat`` clipped to ``[1, inf)`` (§4.10).

    Relative errors matter for prices, so the logs are compared; clipping keeps the log of
    a negative prediction from being NaN early in training.
    """
    if callable(getattr(net, "eval", None)):
        net.eval()
    clipped = torch.clamp(net(features), 1, float("inf"))
    return float(torch.sqrt(nn.functional.mse_loss(torch.log(clipped), torch.log(labels))))


def train_house(net, train_features, train_labels, valid_features=None, valid_labels=None,
                num_epochs=100, lr=5.0, weight_decay=0.0, batch_size=64, quiet=True):
    """Train with Adam on ``nn.MSELoss``; return a History of the log-RMSE per epoch (§4.10).

    ``train_loss`` / ``test_loss`` hold the log-RMSE on the training / validation set after
    each epoch (the MSE the loop minimises is in dollars squared and says little).
    """
    train_iter = load_array((train_features, train_labels), batch_size)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
    curves = History()

    def record(_history):
        curves.train_loss.append(log_rmse(net, train_features, train_labels))
        if valid_features is not None:
            curves.test_loss.append(log_rmse(net, valid_features, valid_labels))

    history = train(net, train_iter, None, nn.MSELoss(), num_epochs, optimizer, quiet=quiet,
                    callback=record, desc="kaggle")
    curves.seconds = history.seconds
    return curves


def get_k_fold_data(k, i, X, y):
    """Fold ``i`` of ``k``: ``(X_train, y_train, X_valid, y_valid)``, the book's slicing (§4.10).

    Fold ``j`` is rows ``[j * n // k, (j + 1) * n // k)``; the last ``n % k`` rows are in no
    fold, as in the book.
    """
    if not 0 <= i < k or k < 2:
        raise ValueError(f"need 0 <= i < k and k >= 2, got i={i}, k={k}")
    if k > len(X):
        raise ValueError(f"k-fold needs at least k = {k} examples, one per fold, got {len(X)}")
    fold_size = len(X) // k
    valid = slice(i * fold_size, (i + 1) * fold_size)
    keep = torch.ones(len(X), dtype=torch.bool)
    keep[valid] = False
    keep[k * fold_size:] = False
    return X[keep], y[keep], X[valid], y[valid]


def k_fold(k, X_train, y_train, num_epochs=100, lr=5.0, weight_decay=0.0, batch_size=64,
           quiet=True):
    """Train a fresh linear model on each of ``k`` folds; return their Histories (§4.10)."""
    folds = []
    for i in range(k):
        X_tr, y_tr, X_va, y_va = get_k_fold_data(k, i, X_train, y_train)
        net = linear_net(X_train.shape[1]).to(X_train.device)
        folds.append(train_house(net, X_tr, y_tr, X_va, y_va, num_epochs, lr, weight_decay,
                                 batch_size, quiet=quiet))
    return folds


def write_submission(path, ids, predictions):
    """Write ``Id,SalePrice`` rows to ``path`` atomically, the Kaggle submission format."""
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["Id", "SalePrice"])
        for i, p in zip(ids, predictions):
            writer.writerow([int(i), f"{float(p):.6f}"])
    return path


# --- the experiment -------------------------------------------------------------------------

@dataclass
class HousePrices:
    """§4.10's results: a History per fold, the final model's History and its predictions."""

    folds: list
    full: History
    ids: list
    predictions: torch.Tensor
    num_features: int
    num_train: int
    settings: dict

    @property
    def avg_train_log_rmse(self):
        return sum(h.train_loss[-1] for h in self.folds) / len(self.folds)

    @property
    def avg_valid_log_rmse(self):
        return sum(h.test_loss[-1] for h in self.folds) / len(self.folds)


def house_prices(k=5, num_epochs=100, lr=5.0, weight_decay=0.0, batch_size=64, seed=0, root=None,
                 device=None, quiet=True) -> HousePrices:
    """k-fold validation of the linear model, then one model trained on all houses (§4.10).

    Reads and checks the CSVs in ``data_root(root)/kaggle_house``; the predictions for the
    test houses are what ``write_submission`` writes.
    """
    train_data, test_data = read_kaggle_house(root)
    X_train, X_test, y_train, columns = preprocess(train_data, test_data)
    X_train, X_test, y_train = X_train.to(device), X_test.to(device), y_train.to(device)
    torch.manual_seed(seed)
    folds = k_fold(k, X_train, y_train, num_epochs, lr, weight_decay, batch_size, quiet=quiet)
    net = linear_net(X_train.shape[1]).to(device)
    full = train_house(net, X_train, y_train, None, None, num_epochs, lr, weight_decay,
                       batch_size, quiet=quiet)
    with torch.no_grad():
        net.eval()
        predictions = net(X_test).reshape(-1).cpu()
    return HousePrices(folds, full, test_data["Id"].tolist(), predictions, len(columns),
                       len(X_train), {"k": k, "num_epochs": num_epochs, "lr": lr,
                                      "weight_decay": weight_decay, "batch_size": batch_size})
