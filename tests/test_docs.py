"""The README and docs/ hold only examples that work: their Python blocks run, their command
lines answer ``--help`` with the options they show, and every name they give as importable
resolves in a fresh process. How to mark a block is in docs/development.md."""

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from d2lnotes.__main__ import main as d2lnotes_main

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FEWER_EPOCHS = "<!-- fewer-epochs -->"
FENCE = re.compile(r"^(`{3,})(\w*)\s*$")
EPOCHS = re.compile(r"\b(num_epochs|max_epochs)=\d+")

def blocks(text):
    """``(language, code, fewer_epochs, line)`` for each fenced block of a Markdown text."""
    found, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        before = next((line.strip() for line in reversed(lines[:i]) if line.strip()), "")
        end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == fence[1]), None)
        if end is None:
            raise ValueError(f"line {i + 1}: the block opened here is never closed")
        found.append((fence[2], "\n".join(lines[i + 1:end]) + "\n", before == FEWER_EPOCHS,
                      i + 2))
        i = end + 1
    return found


def fewer_epochs(code):
    """``code`` with every ``num_epochs=N`` and ``max_epochs=N`` set to 1."""
    if not EPOCHS.search(code):
        raise ValueError(f"{FEWER_EPOCHS} marks a block with no num_epochs= or max_epochs=")
    return EPOCHS.sub(r"\1=1", code)


def python_blocks(page):
    return [b for b in blocks(page.read_text()) if b[0] == "python"]


def page_param(page):
    slow = any(fewer for _, _, fewer, _ in python_blocks(page))
    return pytest.param(page, id=page.name, marks=[pytest.mark.slow] if slow else [])


# --- the collector itself ----------------------------------------------------------------

SAMPLE = """\
Text.

```python
x = 1
```

<!-- fewer-epochs -->

```python
train(num_epochs=10, max_epochs=3)
```

```text
python not run
```
"""


def test_blocks_are_found_with_their_language_marker_and_line():
    assert blocks(SAMPLE) == [
        ("python", "x = 1\n", False, 4),
        ("python", "train(num_epochs=10, max_epochs=3)\n", True, 10),
        ("text", "python not run\n", False, 14)]


def test_fewer_epochs_sets_every_epoch_count_to_one():
    assert fewer_epochs("f(num_epochs=10)\ng(max_epochs=200, lr=0.1)\n") == \
        "f(num_epochs=1)\ng(max_epochs=1, lr=0.1)\n"


def test_a_fewer_epochs_marker_on_a_block_without_epochs_is_refused():
    with pytest.raises(ValueError, match="no num_epochs= or max_epochs="):
        fewer_epochs("net = make()\n")


def test_an_unclosed_block_is_refused():
    with pytest.raises(ValueError, match="line 2: .* never closed"):
        blocks("text\n```python\nx = 1\n")


def test_every_page_is_found():
    names = {page.name for page in PAGES}
    assert {"README.md", "chapters.md", "book.md", "data.md", "cli.md", "performance.md",
            "development.md"} <= names


# --- the Python blocks run ---------------------------------------------------------------

@pytest.mark.parametrize("page", [page_param(p) for p in PAGES if python_blocks(p)])
def test_python_blocks_run(page, fashion_mnist_raw, kaggle_house, tmp_path, monkeypatch):
    # The data the tests already have, and every file the examples write, in tmp_path.
    monkeypatch.setenv("D2LNOTES_DATA", str(Path(fashion_mnist_raw).resolve().parent.parent))
    monkeypatch.setenv("D2LNOTES_BOOK_OUT", str(tmp_path / "book"))
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__docs__"}
    for _, code, fewer, line in python_blocks(page):
        code = fewer_epochs(code) if fewer else code
        exec(compile(code, f"{page.name}, the block at line {line}", "exec"), namespace)


# --- the command lines parse -------------------------------------------------------------

COMMANDS = {"d2lnotes", "d2lnotes.ch2", "d2lnotes.ch3", "d2lnotes.ch4", "d2lnotes.bench"}
INLINE_COMMAND = re.compile(r"`python -m (d2lnotes[^`]*)`")


def command_lines(page):
    """Each ``python -m d2lnotes...`` of the page as argv: every one in its bash and console
    blocks, and the inline ones that name a command (prose also names ``ch5``, which is not)."""
    text, found = page.read_text(), []
    for language, code, _, _ in blocks(text):
        if language in ("bash", "console", "sh", "shell"):
            for line in code.splitlines():
                for part in line.removeprefix("$ ").split("&&"):
                    if part.strip().startswith("python -m d2lnotes"):
                        found.append(shlex.split(part, comments=True)[2:])
    for inline in INLINE_COMMAND.findall(text):
        argv = shlex.split(inline.replace("[", "").replace("]", "").replace("...", ""))
        if argv[0] in COMMANDS and (argv[0] != "d2lnotes" or argv[1:2] in (
                [], ["show"], ["book"], ["check"], ["exercises"])):
            found.append(argv)
    return found


def command_and_options(argv):
    """``python -m`` argv -> (the ``python -m d2lnotes`` argv naming the command, options)."""
    module, rest = argv[0], argv[1:]
    if module != "d2lnotes":  # d2lnotes.ch3 is d2lnotes ch3 (d2lnotes/__main__.py)
        command = [module.removeprefix("d2lnotes.")]
    else:
        command = rest[:1] if rest and not rest[0].startswith("-") else []
    options = [arg.split("=")[0] for arg in rest if arg.startswith("--")]
    return command, options


ALL_COMMANDS = sorted({(page.name, " ".join(argv)) for page in PAGES
                       for argv in command_lines(page)})


def test_the_pages_show_commands():
    assert any(line.startswith("d2lnotes.ch4") for _, line in ALL_COMMANDS)


def help_and_unknown_options(line, capsys):
    """The exit status of ``python -m LINE``'s ``--help``, and the options it does not list."""
    command, options = command_and_options(shlex.split(line))
    try:
        status = d2lnotes_main([*command, "--help"])
    except SystemExit as e:
        status = e.code
    out = capsys.readouterr().out
    return status or 0, [option for option in options
                         if not re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", out)]


@pytest.mark.parametrize("page, line", ALL_COMMANDS)
def test_each_command_shown_answers_help_with_its_options(page, line, capsys):
    assert help_and_unknown_options(line, capsys) == (0, []), f"{page}: python -m {line}"


def test_a_wrong_option_or_command_is_caught(capsys):
    assert help_and_unknown_options("d2lnotes.ch3 --epochs 1 --epoch 2", capsys) == (
        0, ["--epoch"])
    assert help_and_unknown_options("d2lnotes shwo ch3.softmax", capsys)[0] == 2


# --- the importable names resolve --------------------------------------------------------

FROM_IMPORT = re.compile(r"\bfrom (d2lnotes(?:\.\w+)*) import ([\w, ]+)")
DOTTED = re.compile(r"`(?:%load_ext )?(d2lnotes(?:\.\w+)+)[`(\[]")


def importable_names(text):
    """Every ``d2lnotes.x.y`` the text gives in backticks or imports with ``from ... import``."""
    names = set(DOTTED.findall(text))
    for module, imported in FROM_IMPORT.findall(text):
        names |= {f"{module}.{name.strip()}" for name in imported.split(",") if name.strip()}
    return names


def test_importable_names_are_found_in_backticks_and_imports():
    text = ("Use `d2lnotes.utils.train.train` or `d2lnotes.show(\"x\")`, not `d2lnotes-out/`;\n"
            "`%load_ext d2lnotes.book`\nfrom d2lnotes.ch4 import kaggle, recipe\n")
    assert importable_names(text) == {"d2lnotes.utils.train.train", "d2lnotes.show",
                                      "d2lnotes.book", "d2lnotes.ch4.kaggle",
                                      "d2lnotes.ch4.recipe"}


# Run in a fresh process; d2lnotes is forgotten before each name, so that no name resolves
# only because an earlier one imported its module. A name resolves the way Python reads it
# (import the longest module prefix, then attributes); inside a chapter package, which
# re-exports its modules, it must also resolve by attribute from `from d2lnotes import chN`.
RESOLVE = r"""
import importlib, json, sys

def forget():
    for key in [k for k in sys.modules if k == "d2lnotes" or k.startswith("d2lnotes.")]:
        del sys.modules[key]

def resolve(name):
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for part in parts[cut:]:
            obj = getattr(obj, part)
        return

def chapter_gap(name):
    parts = name.split(".")
    if len(parts) < 3 or not parts[1].startswith("ch"):
        return None
    obj = importlib.import_module(".".join(parts[:2]))
    for i, part in enumerate(parts[2:], start=3):
        if not hasattr(obj, part):
            return ".".join(parts[:i])
        obj = getattr(obj, part)

result = {"unresolved": {}, "gaps": {}}
for name in json.loads(sys.argv[1]):
    forget()
    try:
        resolve(name)
    except Exception as e:
        result["unresolved"][name] = f"{type(e).__name__}: {e}"
        continue
    forget()
    gap = chapter_gap(name)
    if gap:
        result["gaps"][name] = gap
print(json.dumps(result))
"""


@pytest.mark.slow
def test_names_resolve_in_a_fresh_process():
    names = sorted(set().union(*(importable_names(page.read_text()) for page in PAGES)))
    assert "d2lnotes.utils.train.compare" in names  # the README's, found
    names.append("d2lnotes.utils.train.no_such_name")  # and a wrong one, caught
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # the code under test, installed or not
    done = subprocess.run([sys.executable, "-c", RESOLVE, json.dumps(names)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["unresolved"].pop("d2lnotes.utils.train.no_such_name").startswith(
        "AttributeError")
    assert result["unresolved"] == {}
    # e.g. `from d2lnotes import ch4; ch4.kaggle` must work, not only `import d2lnotes.ch4.kaggle`
    assert result["gaps"] == {}, (
        f"names a chapter package does not give by attribute: {result['gaps']}; "
        "add them to its lazy map")
