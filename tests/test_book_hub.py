"""The book layer's data hub: where a download looks first, the mirror, the verified fetch
and the safe extract, shared by both editions' ``download`` and by ``ch4 kaggle``.

No test reaches the network: a download goes to a server on 127.0.0.1 that a test starts,
or to ``$D2LNOTES_DATA_URL`` pointing at a closed local port.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TRAIN, TEST = "kaggle_house_pred_train.csv", "kaggle_house_pred_test.csv"


def run_book(path, out, env=None):
    """``python -m d2lnotes book path --out out`` in a child process, as a reader runs it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-m", "d2lnotes", "book", str(path), "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120, env=env)


# The 1.0 edition's §5.7 opening, in book style: imports; the notebook's own stand-ins for
# download and extract (the book shows their signatures); a DataModule that reads both CSVs
# through d2l.download into self.root; and the cell that builds it.
KAGGLE_1_0_CELLS = '''
# %%
from d2l import torch as d2l
import pandas as pd
import torch

# %%
def download(url, folder, sha1_hash=None):
    """Fetch url into folder, return the file's path (shown in the book, run by d2l)."""

def extract(filename, folder):
    """Unpack a zip or tar file into folder (shown in the book, run by d2l)."""

# %%
class HousePrices(d2l.DataModule):
    def __init__(self, batch_size, train=None, val=None):
        super().__init__()
        self.save_hyperparameters()
        if self.train is None:
            self.raw_train = pd.read_csv(d2l.download(
                d2l.DATA_URL + 'kaggle_house_pred_train.csv', self.root,
                sha1_hash='585e9cc93e70b39160e7921475f9bcd7d31219ce'))
            self.raw_val = pd.read_csv(d2l.download(
                d2l.DATA_URL + 'kaggle_house_pred_test.csv', self.root,
                sha1_hash='fa19780a7b011d9b009e8bff8e99922a8ee2eb90'))

# %%
data = HousePrices(batch_size=64)
print("shapes", data.raw_train.shape, data.raw_val.shape)
'''


def test_the_1_0_kaggle_cells_find_the_csvs_in_the_books_data_folder_offline(
        tmp_path, kaggle_house):
    # The book's layout: chapter folders beside ../data, where an earlier run left the CSVs.
    book = tmp_path / "d2l-en"
    (book / "chapter_multilayer-perceptrons").mkdir(parents=True)
    (book / "data").mkdir()
    for name in (TRAIN, TEST):
        shutil.copyfile(kaggle_house / name, book / "data" / name)
    notebook = book / "chapter_multilayer-perceptrons" / "kaggle-house-price.py"
    notebook.write_text(KAGGLE_1_0_CELLS)
    empty = tmp_path / "d2lnotes-data"  # d2lnotes' own data folder holds nothing
    proc = run_book(notebook, tmp_path / "out", env={
        "D2LNOTES_DATA": str(empty), "D2LNOTES_DATA_URL": "http://127.0.0.1:9/"})
    said = proc.stdout + proc.stderr
    assert proc.returncode == 0, said
    assert "shapes (1460, 81) (1459, 80)" in proc.stdout
    # one line per file, naming the book's folder it came from; nothing downloaded
    for name in (TRAIN, TEST):
        lines = [line for line in said.splitlines() if name in line]
        assert len(lines) == 1, said
        assert str(book / "data" / name) in lines[0], lines[0]
    assert "Downloading" not in said and "127.0.0.1" not in said
