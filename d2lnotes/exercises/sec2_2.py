"""§2.2 Data preprocessing: drop the column with the most missing values, then make tensors."""

import io

import torch

from .core import Answer, exercise

# A larger raw table than the book's house_tiny.csv: five inputs, eight rows, the price last.
HOUSE_CSV = """\
NumRooms,Alley,Garage,YearBuilt,Pool,Price
NA,Pave,1,1990,NA,127500
2,NA,NA,1985,NA,106000
4,NA,2,NA,NA,178100
NA,NA,1,2001,Yes,140000
3,Grvl,NA,1978,NA,118000
5,Pave,2,2010,NA,215000
NA,NA,1,NA,NA,99000
3,NA,2,1995,NA,152000
"""


def house_table():
    import pandas as pd

    return pd.read_csv(io.StringIO(HOUSE_CSV))


def drop_most_missing(inputs):
    """``inputs`` without the column that has the most missing values; also its name."""
    missing = inputs.isna().sum()
    name = missing.idxmax()
    return inputs.drop(columns=name), name, missing


@exercise("2.2.1", zh="2.2.1", edition_1_0=None, kind="fact",
          question="Build a larger raw table and delete the column with the most missing values.")
def drop_column():
    data = house_table()
    inputs = data.iloc[:, :-1]
    kept, name, missing = drop_most_missing(inputs)
    counts = {k: int(v) for k, v in missing.items()}
    return Answer(
        f"Count the missing values per column with isna().sum() ({counts}) and drop the "
        f"arg-max with drop(columns=...): {name!r} ({counts[name]} of {len(data)} missing) "
        f"goes, leaving {list(kept.columns)}.",
        {"missing": counts, "dropped": name, "kept": list(kept.columns)})


@exercise("2.2.2", zh="2.2.2", edition_1_0=None, kind="fact",
          question="Convert the preprocessed table to tensors.")
def to_tensor():
    import pandas as pd

    data = house_table()
    inputs, outputs = data.iloc[:, :-1], data.iloc[:, -1]
    inputs, _, _ = drop_most_missing(inputs)
    inputs = inputs.fillna(inputs.mean(numeric_only=True))
    inputs = pd.get_dummies(inputs, dummy_na=True)
    # get_dummies makes bool columns: as an object array torch cannot read them, so cast.
    X = torch.tensor(inputs.to_numpy(dtype=float))
    y = torch.tensor(outputs.to_numpy(dtype=float))
    return Answer(
        f"Fill numeric gaps with the column mean, one-hot the text columns (with a _nan "
        f"column), then torch.tensor(frame.to_numpy(dtype=float)): X has shape "
        f"{tuple(X.shape)} and y {tuple(y.shape)}, both {X.dtype}, with no NaN left "
        f"({not bool(X.isnan().any())}).",
        {"X_shape": list(X.shape), "y_shape": list(y.shape), "dtype": str(X.dtype),
         "columns": [str(c) for c in inputs.columns], "no_nan": not bool(X.isnan().any()),
         "X": X})
