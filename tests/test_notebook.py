"""A real notebook in a real kernel: a chapter comparison with the live plot, then ``show``.

The notebook is built here with nbformat and run with nbclient on an ipykernel started
from this very Python (a kernelspec written to a temporary folder), so it tests the
environment pytest runs in, whatever kernels the machine has installed. It trains on the
real Fashion-MNIST at ``$D2LNOTES_DATA`` (else ``./data``): two epochs per version on the
first 4096 training and 1024 test images, to keep it short.
"""

import base64
from pathlib import Path

import ipykernel  # noqa: F401  (the kernel; nbformat, nbclient, ipykernel: the test extra)
import nbclient
import nbformat
import pytest

pytestmark = pytest.mark.slow  # a kernel process, and training

ROOT = Path(__file__).resolve().parents[1]
PNG = b"\x89PNG\r\n\x1a\n"

CELLS = [
    # 0: import a chapter and the live plot
    "import d2lnotes\n"
    "from d2lnotes import ch3\n"
    "from d2lnotes.utils.plot import LivePlot\n"
    "from d2lnotes.utils.plot import in_notebook\n"
    "print('in notebook:', in_notebook())",
    # 1: a short comparison, drawn live; the PNG is written at the end as well
    "from d2lnotes.utils.data import load_array, load_fashion_mnist\n"
    "(X, y), (X_test, y_test) = (it.tensors for it in load_fashion_mnist(256))\n"
    "data = (load_array((X[:4096], y[:4096]), 256),\n"
    "        load_array((X_test[:1024], y_test[:1024]), 256, shuffle=False))\n"
    "live = LivePlot(title='softmax regression', path={png!r})\n"
    "cmp = ch3.compare_softmax_regression(num_epochs=2, data=data, callback=live, quiet=False)\n"
    "live.close()\n"
    "print('versions:', sorted(live.histories), 'epochs:', "
    "[len(h.train_loss) for h in live.histories.values()])\n"
    "print('max_param_diff below 1e-4:', cmp.max_param_diff < 1e-4)",
    # 2: a figure as the last expression shows inline through Figure._repr_png_
    "live.figure()",
    # 3: the code side by side
    "d2lnotes.show('ch3.softmax')",
]


def outputs_of(cell, kind):
    return [o for o in cell.outputs if o.output_type == kind]


def images(cell):
    return [base64.b64decode(o.data["image/png"]) for o in cell.outputs
            if "image/png" in o.get("data", {})]


def test_notebook_live_plot_and_side_by_side(tmp_path, kernel_name, fashion_mnist_raw):
    png = tmp_path / "live.png"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src.format(png=str(png))) for src in CELLS]
    client = nbclient.NotebookClient(nb, kernel_name=kernel_name, timeout=600,
                                     resources={"metadata": {"path": str(ROOT)}})
    client.execute()  # raises CellExecutionError if a cell fails

    assert all(not outputs_of(c, "error") for c in nb.cells)
    setup, train, figure, show = nb.cells
    assert "in notebook: True" in "".join(o.text for o in outputs_of(setup, "stream"))

    text = "".join(o.text for o in outputs_of(train, "stream") if o.name == "stdout")
    assert "versions: ['concise', 'scratch'] epochs: [2, 2]" in text
    assert "max_param_diff below 1e-4: True" in text
    # One live image, redrawn in place (update_display_data) rather than appended per epoch:
    # its final state is the same figure the next cell draws from the same histories.
    live_images = images(train)
    assert len(live_images) == 1 and live_images[0].startswith(PNG)
    assert [o.output_type for o in train.outputs if "image/png" in o.get("data", {})] == [
        "display_data"]
    final = images(figure)
    assert len(final) == 1 and final[0].startswith(PNG)
    assert live_images[0] == final[0]
    assert png.read_bytes().startswith(PNG)  # close() wrote the PNG too

    (result,) = outputs_of(show, "execute_result")
    page = result.data["text/html"]
    assert '<div class="d2lnotes-show">' in page and page.count("<th") == 2
    assert "scratch <code>d2lnotes/ch3/scratch.py</code>" in page
    assert "SoftmaxRegression" in page and "softmax_regression" in page
    assert 'style="color:' in page  # pygments highlighting, inline styles
    assert result.data["text/plain"].startswith("ch3.softmax: Softmax regression")


def test_without_ipywidgets_the_bar_is_text_and_quiet(tmp_path, kernel_name):
    # README's plain install has no ipywidgets: block it before anything imports tqdm.
    cells = [
        "import sys, warnings\n"
        "sys.modules['ipywidgets'] = None\n"
        "warnings.simplefilter('always')\n"
        "import torch\n"
        "from torch import nn\n"
        "from d2lnotes.utils.data import load_array\n"
        "from d2lnotes.ch3.scratch import SGD\n"
        "from d2lnotes.utils.train import train\n"
        "X, y = torch.randn(64, 2), torch.randn(64, 1)\n"
        "net = nn.Linear(2, 1)\n"
        "h = train(net, load_array((X, y), 16), None, nn.MSELoss(), 2,\n"
        "          SGD(net.parameters(), lr=0.1), quiet=False)\n"
        "print('epochs:', len(h.train_loss))",
        # What the loop avoids: tqdm.auto itself warns in this same kernel.
        "from tqdm.auto import tqdm\n"
        "tqdm(total=1).close()",
    ]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    nbclient.NotebookClient(nb, kernel_name=kernel_name, timeout=300,
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    ours, plain = nb.cells
    assert "epochs: 2" in "".join(o.text for o in outputs_of(ours, "stream"))
    assert not [o for o in ours.outputs if "Warning" in o.get("text", "")]
    assert "TqdmWarning" in "".join(o.get("text", "") for o in plain.outputs)
