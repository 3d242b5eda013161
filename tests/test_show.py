"""Side-by-side code (``show``) and the live training plot.

Every registered topic is rendered by the parametrised tests below, so topics added to
``d2lnotes/study/topics.py`` later are checked without touching this file.
"""

import html
import importlib
import inspect
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import d2lnotes
from d2lnotes import study
from d2lnotes.editions import PLACES
from d2lnotes.study import TOPICS, Topic
from d2lnotes.study.sidebyside import MARK, read_block, render_text
from d2lnotes.utils.errors import UsageError

ROOT = Path(__file__).resolve().parents[1]
ANSI = re.compile(r"\x1b\[[0-9;]*m")
ALL = list(TOPICS)


def run_cli(*args, columns=None):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("NO_COLOR", None)
    if columns is not None:
        env["COLUMNS"] = str(columns)
    return subprocess.run([sys.executable, "-m", "d2lnotes", *args], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=120)


def show_here(monkeypatch, capsys, *args, columns):
    """``python -m d2lnotes show ...`` in this process, where torch is imported already,
    with stdout captured (so not a terminal) and $COLUMNS set."""
    from types import SimpleNamespace

    from d2lnotes.__main__ import main

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("COLUMNS", str(columns))
    code = main(["show", *args])
    captured = capsys.readouterr()
    return SimpleNamespace(returncode=code, stdout=captured.out, stderr=captured.err)


def unwrap(lines):
    """Undo the layout's line wrapping: glue each ``↪`` continuation to the line before.

    A row may break at a space that is then not shown, so compare with :func:`squeeze`.
    """
    out = []
    for line in lines:
        stripped = line.lstrip(" ")
        if stripped.startswith(MARK.strip()) and out:  # a blank continuation loses its space
            out[-1] += stripped[1:]
        else:
            out.append(line)
    return [squeeze(line) for line in out]


def squeeze(line):
    return re.sub(r"\s+", "", line)


def column(text, side):
    """The left or right column of a two-column layout, unwrapped, header and rule dropped."""
    rows = [line for line in text.split("\n")[2:] if "│" in line or "┼" in line]
    rule = next(i for i, r in enumerate(rows) if "┼" in r)
    at = rows[rule].index("┼")
    cells = [(r[:at - 1] if side == 0 else r[at + 2:]).rstrip() for r in rows[rule + 1:]]
    return unwrap(cells)


def source_lines(topic, side):
    blocks = [read_block(p) for p in getattr(topic, side) if p]
    return [line for b in blocks for line in b.source.split("\n")]


def file_lines_of(path):
    """The lines of ``module:qualname``'s definition, found in the file by plain text search,
    independently of inspect: from its ``def``/``class`` line to the next top-level line."""
    module_name, name = path.split(":")
    file = ROOT / (module_name.replace(".", "/") + ".py")
    lines = file.read_text().split("\n")
    start = next(i for i, line in enumerate(lines)
                 if re.match(rf"(def|class) {name}\b|{name} = ", line))
    end = start + 1
    while end < len(lines) and (not lines[end] or lines[end][0] in " )"):
        end += 1
    while not lines[end - 1].strip():
        end -= 1
    return [line.rstrip() for line in lines[start:end]]


# --- every registered topic ----------------------------------------------------------------

def test_chapter_3_topics_are_registered():
    assert {"ch3.linreg", "ch3.softmax"} <= set(TOPICS)


@pytest.mark.parametrize("name", ALL)
def test_topic_paths_resolve_to_code_in_the_named_module(name):
    topic = TOPICS[name]
    assert topic.title and topic.section.startswith("§")
    for side in ("scratch", "concise"):
        paths = [p for p in getattr(topic, side) if p]
        assert paths, f"{name} has no {side} piece"
        for path in paths:
            block = read_block(path)
            module_file = path.split(":")[0].replace(".", "/") + ".py"
            assert block.file == module_file
            assert block.source.strip()


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("width", [80, 160])
def test_every_topic_renders_all_its_source_within_the_width(name, width):
    shown = d2lnotes.show(name)
    text = shown.render(width)
    lines = text.split("\n")
    title = unwrap(lines[:lines.index("")])  # a long title wraps like code does
    assert title == [squeeze(f"{name}: {shown.topic.title} ({shown.topic.where})")]
    assert max(map(len, lines)) <= width
    assert "\x1b" not in text
    columns = "┼" in text
    for side in ("scratch", "concise"):
        body = column(text, 0 if side == "scratch" else 1) if columns else unwrap(lines)
        for line in source_lines(shown.topic, side):
            assert squeeze(line) in body


@pytest.mark.parametrize("name", ALL)
def test_every_topic_renders_as_an_html_table(name):
    shown = d2lnotes.show(name)
    page = shown._repr_html_()
    assert page.count("<th") == 2 and "<table" in page
    visible = html.unescape(re.sub(r"<[^>]+>", "", page))
    for side in ("scratch", "concise"):
        for line in source_lines(shown.topic, side):
            assert line in visible


# --- the source shown is the code as it stands -----------------------------------------------

@pytest.mark.parametrize("path", ["d2lnotes.ch3.scratch:softmax",
                                  "d2lnotes.ch3.scratch:SoftmaxRegression",
                                  "d2lnotes.ch3.concise:softmax_regression"])
def test_shown_source_is_the_file_text(path):
    assert read_block(path).source.split("\n") == file_lines_of(path)


def test_an_alias_shows_its_assignment_and_comment_not_torch_source():
    block = read_block("d2lnotes.ch3.concise:softmax_regression_loss")
    assert block.source.split("\n")[-1] == "softmax_regression_loss = nn.CrossEntropyLoss"
    assert block.source.startswith("# CrossEntropyLoss takes logits")
    assert "class CrossEntropyLoss" not in block.source


def test_a_change_to_a_function_shows_up(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    module = tmp_path / "d2l_show_demo.py"
    module.write_text("def relu(x):\n    return max(x, 0)\n\n\nclass Net:\n    pass\n")
    monkeypatch.setitem(TOPICS, "demo.relu", Topic(
        "demo.relu", "ReLU", "§4.1", ("d2l_show_demo:relu",), ("d2l_show_demo:Net",)))
    importlib.import_module("d2l_show_demo")
    assert "return max(x, 0)" in str(d2lnotes.show("demo.relu"))

    module.write_text("def relu(x):\n    # clamp is the tensor version\n"
                      "    return x.clamp(min=0)\n\n\nclass Net:\n    pass\n")
    importlib.reload(sys.modules["d2l_show_demo"])
    text = d2lnotes.show("demo.relu").render(100)
    assert "return x.clamp(min=0)" in text and "max(x, 0)" not in text
    monkeypatch.delitem(sys.modules, "d2l_show_demo")


# --- layouts -----------------------------------------------------------------------------

def test_wide_layout_puts_twins_on_the_same_row():
    text = d2lnotes.show("ch3.softmax").render(160)
    row = next(line for line in text.split("\n") if line.startswith("class SoftmaxRegression"))
    assert row.split("│")[1].strip() == "def softmax_regression(num_inputs=784, num_outputs=10):"
    header = text.split("\n")[2]
    assert "scratch  d2lnotes/ch3/scratch.py" in header
    assert "concise  d2lnotes/ch3/concise.py" in header
    # the gap (None) keeps cross_entropy level with the loss it corresponds to
    row = next(line for line in text.split("\n") if line.startswith("def cross_entropy"))
    assert "# CrossEntropyLoss takes logits" in row


def test_narrow_layout_stacks_scratch_above_concise():
    lines = d2lnotes.show("ch3.softmax").render(80).split("\n")
    assert not any("│" in line for line in lines)
    scratch = lines.index("scratch  d2lnotes/ch3/scratch.py")
    concise = lines.index("concise  d2lnotes/ch3/concise.py")
    assert scratch < lines.index("class SoftmaxRegression:") < concise
    assert concise < lines.index("def softmax_regression(num_inputs=784, num_outputs=10):")
    assert lines[scratch + 1] == lines[concise + 1] == "─" * 80


@pytest.mark.parametrize("width", [20, 33, 57, 100, 114, 115, 139, 200])
def test_wrapping_keeps_every_character_within_any_width(width):
    shown = d2lnotes.show("ch3.softmax")
    lines = shown.render(width, layout="stacked").split("\n")
    assert max(map(len, lines)) <= width
    body = unwrap(lines)
    for side in ("scratch", "concise"):
        for line in source_lines(shown.topic, side):
            assert squeeze(line) in body
    assert ("│" in shown.render(width)) == (width >= 115)


def test_colour_codes_only_when_asked_and_they_take_no_width():
    shown = d2lnotes.show("ch3.softmax")
    plain, coloured = shown.render(160), shown.render(160, color=True)
    assert "\x1b[" not in plain and "\x1b[" in coloured
    assert ANSI.sub("", coloured) == plain


def test_unknown_topic_lists_close_matches():
    with pytest.raises(UsageError, match=r"unknown topic 'ch3.sotfmax'; did you mean ch3.softmax"):
        d2lnotes.show("ch3.sotfmax")


def test_registration_checks_paths_and_duplicates():
    with pytest.raises(ValueError, match="package.module:name"):
        study.topic("bad", "Bad", "§0", scratch=["d2lnotes.ch3.scratch.softmax"], concise=[])
    with pytest.raises(ValueError, match="registered twice"):
        study.topic("ch3.softmax", "Again", "§3.6", scratch=[], concise=[])
    assert "bad" not in TOPICS


def test_a_wrong_path_names_itself():
    with pytest.raises(LookupError, match="d2lnotes.ch3.scratch:softmaxx"):
        read_block("d2lnotes.ch3.scratch:softmaxx")


# --- the command -------------------------------------------------------------------------

@pytest.mark.slow
def test_registering_and_listing_import_no_torch():
    code = textwrap.dedent("""
        import sys
        from d2lnotes.__main__ import main
        import d2lnotes.study
        main(["show"])
        print("torch loaded:", "torch" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, timeout=120).stdout
    assert re.search(r"ch3.softmax +§3.6-3.7 +§4.4-4.5 +Softmax regression", out)
    assert out.strip().endswith("torch loaded: False")


@pytest.mark.slow
def test_cli_lists_topics_and_chapters():
    r = run_cli("show")
    assert r.returncode == 0
    # Every topic of the editions table has its row with both editions' sections, the
    # ones without a scratch/concise pair included.
    for name, place in PLACES.items():
        if name in TOPICS or place.code:
            cells = [re.escape(x) for x in (name, place.classic, place.edition_1)]
            assert re.search("^  " + " +".join(cells) + " ", r.stdout, re.M), name
    assert set(TOPICS) <= set(PLACES)
    r = run_cli()
    assert r.returncode == 0 and "python -m d2lnotes.ch3" in r.stdout
    assert "python -m d2lnotes show" in r.stdout


@pytest.mark.parametrize("columns", [80, 160])
def test_cli_fits_columns_and_is_plain_when_piped(columns, monkeypatch, capsys):
    r = show_here(monkeypatch, capsys, "ch3.softmax", columns=columns)
    assert r.returncode == 0, r.stderr
    assert "\x1b" not in r.stdout
    lines = r.stdout.rstrip("\n").split("\n")
    assert max(map(len, lines)) <= columns
    assert ("│" in r.stdout) == (columns == 160)
    assert r.stdout.rstrip("\n") == d2lnotes.show("ch3.softmax").render(columns)


def test_cli_width_layout_and_colour_options(monkeypatch, capsys):
    r = show_here(monkeypatch, capsys, "ch3.linreg", "--width", "200", "--layout", "stacked",
                  "--color", "always", columns=80)
    assert r.returncode == 0, r.stderr
    assert "\x1b[" in r.stdout and "│" not in r.stdout
    assert ANSI.sub("", r.stdout).rstrip("\n") == d2lnotes.show("ch3.linreg").render(
        200, layout="stacked")


@pytest.mark.parametrize("name", ["ch4.kaggle", "kaggle", "ch4.best"])
def test_a_topic_without_a_pair_says_where_its_code_is(name):
    with pytest.raises(UsageError) as e:
        d2lnotes.show(name)
    key = name if "." in name else "ch4." + name
    message = str(e.value)
    assert "\n" not in message and "did you mean" not in message
    code = PLACES[key].code.split()[0]
    assert code in message and Path(ROOT, code).is_file()


@pytest.mark.slow
def test_cli_unknown_topic_is_a_usage_error():
    r = run_cli("show", "softmax")
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.startswith("error: unknown topic 'softmax'; did you mean ch3.softmax")
    assert "Traceback" not in r.stderr


# --- live plot (terminal side; the notebook side runs in tests/test_notebook.py) ----------

@pytest.mark.slow
def test_live_plot_records_every_version_and_writes_the_png_at_the_end(tmp_path):
    import torch
    from torch import nn

    from d2lnotes.ch3 import concise, scratch
    from d2lnotes.utils.data import load_array
    from d2lnotes.utils.plot import LivePlot, plot_history
    from d2lnotes.utils.train import compare, train

    torch.manual_seed(0)
    X, y = torch.randn(64, 4), torch.randint(0, 3, (64,))
    data = load_array((X, y), 16)
    net_s, net_c = scratch.SoftmaxRegression(4, 3), concise.softmax_regression(4, 3)
    versions = {"scratch": (net_s, scratch.cross_entropy, scratch.SGD(net_s.parameters(), 0.1)),
                "concise": (net_c, nn.CrossEntropyLoss(), torch.optim.SGD(net_c.parameters(), 0.1))}
    path = tmp_path / "out" / "live.png"  # the folder is made when the PNG is written
    calls = []
    with LivePlot(title="live", path=path, notebook=False) as live:
        cmp = compare(
            versions, data, data, 3, quiet=True,
            callback=lambda name, h: (calls.append((name, len(h.train_loss))), live(name, h)))
        assert not path.exists()  # a terminal gets the PNG at the end, not every epoch
    assert calls == [("scratch", 1), ("scratch", 2), ("scratch", 3),
                     ("concise", 1), ("concise", 2), ("concise", 3)]
    assert live.histories == cmp.histories and live._handle is None
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # train() passes the history alone; separate runs get separate names
    live = LivePlot(notebook=False)
    first = train(net_s, data, None, scratch.cross_entropy, 2, scratch.SGD(net_s.parameters(),
                  0.1), quiet=True, callback=live)
    second = train(net_c, data, None, nn.CrossEntropyLoss(), 1,
                   torch.optim.SGD(net_c.parameters(), 0.1), quiet=True, callback=live)
    assert live.histories == {"": first, "run 2": second}
    assert len(first.train_loss) == 2 and live.close() is None  # no path, no file
    fig = live.figure()
    assert len(fig.axes) == 2 and fig._repr_png_()[:4] == b"\x89PNG"
    legend = fig.axes[0].get_legend_handles_labels()[1]
    assert legend == ["train", "run 2 train"]  # not "train train"

    # plot_history takes one History as well as a dict of them
    fig = plot_history(first)
    assert [ax.get_legend_handles_labels()[1] for ax in fig.axes] == [["train"], ["train"]]


def test_show_module_source_read_by_inspect_matches_inspect():
    from d2lnotes.ch3 import scratch

    assert read_block("d2lnotes.ch3.scratch:softmax").source == inspect.getsource(
        scratch.softmax).rstrip()
    assert render_text(d2lnotes.show("ch3.softmax"), 160).count("│") > 20


def test_without_pygments_html_is_escaped_pre_and_text_has_no_colour(monkeypatch):
    for name in ("pygments", "pygments.lexers", "pygments.formatters", "pygments.token"):
        monkeypatch.setitem(sys.modules, name, None)  # makes `import pygments...` fail
    shown = d2lnotes.show("ch3.softmax")
    # no syntax colours; bold headings and grey wrap marks remain
    assert set(re.findall(r"\x1b\[([0-9;]*)m", shown.render(160, color=True))) == {"0", "1", "90"}
    page = shown._repr_html_()
    assert 'style="color:' not in page
    assert "every exponent &lt;= 0" in page
