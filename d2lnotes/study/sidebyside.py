"""Scratch beside concise: the topic registry, and the text and HTML layouts of a topic.

A topic names its pieces by ``"module:qualname"`` strings. They are imported, and their
source read with :mod:`inspect`, only when the topic is shown, so what is printed is
always the code as it stands. Module-level aliases such as
``softmax_regression_loss = nn.CrossEntropyLoss`` are shown as their assignment line
with the comment above it, not as torch's source.

Text layout: two columns (scratch left, concise right, twins on the same row) when the
width allows, otherwise the scratch side above the concise side. Lines longer than their
column wrap, and the continuation starts with ``↪``. "Plain" text (for a pipe or a file)
is the same layout without ANSI colour codes.
"""

import ast
import difflib
import html
import importlib
import inspect
import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path

from ..editions import ALIASES, PLACES
from ..utils.errors import UsageError

TOPICS = {}
"""Registered topics by name, in registration order."""

MIN_COLUMN = 56  # narrowest column worth reading code in; two of them need 115 characters
SEP, RULE_SEP = " │ ", "─┼─"
MARK = "↪ "  # starts the continuation of a wrapped line
_PACKAGE_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Topic:
    """One thing to compare: its scratch and concise pieces as ``"module:qualname"`` paths."""

    name: str
    title: str
    section: str
    scratch: tuple
    concise: tuple
    edition_1: str = ""  # the section in the 1.0 edition; ``section`` is the classic one

    @property
    def where(self):
        """``§3.6-3.7; 1.0 edition: §4.4-4.5`` (or just ``section`` when 1.0's is unknown)."""
        return f"{self.section}; 1.0 edition: {self.edition_1}" if self.edition_1 else self.section


@dataclass(frozen=True)
class Block:
    """The source of one piece, as read when the topic was shown."""

    path: str
    source: str
    file: str
    lineno: int


def _check_path(path):
    if path is None:
        return
    if not isinstance(path, str) or path.count(":") != 1 or not all(path.split(":")):
        raise ValueError(f"topic paths look like 'package.module:name', got {path!r}")


def topic(name, title, section=None, *, scratch, concise):
    """Register a topic; ``scratch`` and ``concise`` list ``"module:qualname"`` strings.

    Pieces at the same position are twins and share a row; ``None`` leaves a gap.
    Without ``section``, both editions' sections come from :data:`d2lnotes.editions.PLACES`.
    Nothing is imported here.
    """
    edition_1 = ""
    if section is None:
        place = PLACES[name]
        section, edition_1 = place.classic, place.edition_1
    for path in (*scratch, *concise):
        _check_path(path)
    if name in TOPICS:
        raise ValueError(f"topic {name!r} is registered twice")
    TOPICS[name] = Topic(name, title, section, tuple(scratch), tuple(concise), edition_1)
    return TOPICS[name]


# --- reading the source ------------------------------------------------------------------

def _resolve(path):
    module_name, qualname = path.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise LookupError(f"{path}: cannot import {module_name} ({e})") from e
    obj = module
    for part in qualname.split("."):
        if not hasattr(obj, part):
            raise LookupError(f"{path}: {module_name} has no {qualname}")
        obj = getattr(obj, part)
    return module, qualname, obj


def _display_file(module):
    file = Path(inspect.getsourcefile(module)).resolve()
    if module.__name__.split(".")[0] == "d2lnotes":
        return file.relative_to(_PACKAGE_ROOT).as_posix()
    # torch's own code: name it by its module, e.g. torch/nn/init.py (a venv inside the
    # checkout would otherwise give .venv/lib/python3.11/site-packages/torch/...)
    tail = "/__init__.py" if file.name == "__init__.py" else ".py"
    return module.__name__.replace(".", "/") + tail


def _assignment_lines(module, qualname):
    """``(lines, first line number)`` of a top-level ``name = ...`` and the comment above it."""
    lines = inspect.getsource(module).splitlines(keepends=True)
    for node in ast.parse("".join(lines)).body:
        targets = (node.targets if isinstance(node, ast.Assign)
                   else [node.target] if isinstance(node, ast.AnnAssign) else [])
        if any(isinstance(t, ast.Name) and t.id == qualname for t in targets):
            start = node.lineno - 1
            while start > 0 and lines[start - 1].lstrip().startswith("#"):
                start -= 1
            return lines[start:node.end_lineno], start + 1
    raise LookupError(f"{module.__name__}:{qualname} is neither defined nor assigned at the top "
                      f"level of {module.__name__}, so there is no source to show")


def read_block(path):
    """Read the current source of ``"module:qualname"`` with :mod:`inspect`."""
    module, qualname, obj = _resolve(path)
    defined_here = ((inspect.isfunction(obj) or inspect.isclass(obj))
                    and obj.__module__ == module.__name__ and obj.__qualname__ == qualname)
    if defined_here:
        lines, lineno = inspect.getsourcelines(obj)
        comments = (inspect.getcomments(obj) or "").splitlines(keepends=True)
        lines, lineno = comments + lines, lineno - len(comments)
    else:
        lines, lineno = _assignment_lines(module, qualname)
    source = textwrap.dedent("".join(lines)).expandtabs()
    source = "\n".join(line.rstrip() for line in source.strip("\n").split("\n"))
    return Block(path, source, _display_file(module), lineno)


# --- text layout -------------------------------------------------------------------------

def _ansi_styles():
    from pygments.token import Comment, Keyword, Name, Number, Operator, String

    return [(Comment, "90"), (String, "32"), (Keyword, "35"), (Operator.Word, "35"),
            (Name.Function, "94"), (Name.Class, "94"), (Name.Decorator, "33"),
            (Name.Builtin, "33"), (Number, "36")]


def _pieces(source, color):
    """The source as lines of ``(ansi_code, text)`` pieces; the code is "" for no colour."""
    lines = source.split("\n")
    if not color:
        return [[("", line)] for line in lines]
    try:
        from pygments.lexers import PythonLexer
        styles = _ansi_styles()
    except ImportError:  # pygments is optional in a terminal: no colour then
        return [[("", line)] for line in lines]
    out, current = [], []
    for ttype, text in PythonLexer(stripnl=False, ensurenl=False).get_tokens(source):
        code = next((c for t, c in styles if ttype in t), "")
        for i, part in enumerate(text.split("\n")):
            if i:
                out.append(current)
                current = []
            if part:
                current.append((code, part))
    out.append(current)
    return out


def _slice(pieces, start, end):
    out, pos = [], 0
    for code, text in pieces:
        a, b = max(start - pos, 0), min(end - pos, len(text))
        if a < b:
            out.append((code, text[a:b]))
        pos += len(text)
    return out


def _wrap(pieces, width):
    """Split one line into rows of at most ``width`` characters, breaking at a space if
    there is one in the second half of the row; continuations are indented and marked."""
    text = "".join(t for _, t in pieces)
    if len(text) <= width:
        return [pieces]
    indent = len(text) - len(text.lstrip())
    prefix = " " * min(indent + 4, width // 2) + MARK
    cuts, start, room = [], 0, width
    while len(text) - start > room:
        end = start + room
        space = text.rfind(" ", start + room // 2, end)
        if space > start:
            end = space + 1
        cuts.append((start, end))
        start, room = end, width - len(prefix)
    cuts.append((start, len(text)))
    # the space a row breaks at is not shown: rows end without trailing blanks
    cuts = [(a, max(a + len(text[a:b].rstrip(" ")), a + 1)) for a, b in cuts]
    return [_slice(pieces, a, b) if i == 0 else [("90", prefix)] + _slice(pieces, a, b)
            for i, (a, b) in enumerate(cuts)]


def _paint(pieces, color):
    """``(text, visible width)`` of a row of pieces."""
    width = sum(len(t) for _, t in pieces)
    if not color:
        return "".join(t for _, t in pieces), width
    return "".join(f"\x1b[{c}m{t}\x1b[0m" if c else t for c, t in pieces), width


def _cell(block, width, color):
    """The rows of one block wrapped to ``width``, as ``(text, visible width)``."""
    if block is None:
        return []
    return [_paint(row, color) for line in _pieces(block.source, color)
            for row in _wrap(line, width)]


def _header(side, blocks, color):
    files = list(dict.fromkeys(b.file for b in blocks if b is not None))
    return [[("1" if color else "", side)], [("", "  " + ", ".join(files))]]


def _widest(blocks, header):
    lines = [line for b in blocks if b is not None for line in b.source.split("\n")]
    return max([len(header), *map(len, lines)])


def render_text(shown, width=80, color=False, layout="auto"):
    """Lay ``shown`` out in at most ``width`` characters (``layout``: auto, columns, stacked).

    ``auto`` puts the sides in two columns when each can be at least ``MIN_COLUMN`` wide
    or when everything fits unwrapped, and stacks them otherwise.
    """
    if layout not in ("auto", "columns", "stacked"):
        raise ValueError(f"layout must be auto, columns or stacked, got {layout!r}")
    width = max(int(width), 2 * 20 + len(SEP) if layout == "columns" else 20)
    t = shown.topic
    sides = [("scratch", shown.scratch), ("concise", shown.concise)]
    headers = [_header(side, blocks, color) for side, blocks in sides]
    heads = ["".join(x for _, x in h[0] + h[1]) for h in headers]
    title = f"{t.name}: {t.title} ({t.where})"
    out = [_paint(row, color)[0] for row in _wrap([("1" if color else "", title)], width)] + [""]
    avail = width - len(SEP)
    lw, rw = (_widest(blocks, head) for (_, blocks), head in zip(sides, heads))
    if layout == "auto":
        layout = "columns" if avail >= 2 * MIN_COLUMN or lw + rw <= avail else "stacked"

    if layout == "stacked":
        for n, ((_, blocks), header) in enumerate(zip(sides, headers)):
            if n:
                out.append("")
            out += [_paint(row, color)[0] for row in _wrap(header[0] + header[1], width)]
            out.append("─" * width)
            cells = [_cell(b, width, color) for b in blocks if b is not None]
            for i, cell in enumerate(cells):
                out += [""] * (i > 0) + [text for text, _ in cell]
        return "\n".join(line.rstrip(" ") for line in out)

    wl = min(lw, max(avail // 2, avail - rw)) if lw + rw > avail else lw
    wl, wr = max(wl, 20), max(avail - wl, 20)
    rows = [([_paint(r, color) for r in _wrap(headers[0][0] + headers[0][1], wl)],
             [_paint(r, color) for r in _wrap(headers[1][0] + headers[1][1], wr)])]
    pairs = max(len(shown.scratch), len(shown.concise))
    for i in range(pairs):
        left = shown.scratch[i] if i < len(shown.scratch) else None
        right = shown.concise[i] if i < len(shown.concise) else None
        rows.append((_cell(left, wl, color), _cell(right, wr, color)))
    for r, (left, right) in enumerate(rows):
        if r == 1:
            out.append("─" * wl + RULE_SEP + "─" * wr)
        elif r > 1:
            out.append(" " * wl + SEP.rstrip())
        for k in range(max(len(left), len(right))):
            text, visible = left[k] if k < len(left) else ("", 0)
            right_text = right[k][0] if k < len(right) else ""
            out.append(text + " " * (wl - visible) + SEP + right_text)
    return "\n".join(line.rstrip(" ") for line in out)


# --- HTML layout (Jupyter) ---------------------------------------------------------------

def _html_code(source):
    try:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer
    except ImportError:
        return f"<pre>{html.escape(source)}</pre>"
    # Inline styles rather than a stylesheet: notebook front ends may drop <style> tags.
    return highlight(source, PythonLexer(), HtmlFormatter(noclasses=True, nobackground=True))


def render_html(shown):
    """An HTML table, scratch left and concise right, twins on one row, highlighted."""
    t = shown.topic
    cell = 'style="vertical-align: top; text-align: left; padding: 0 1em 0 0;"'
    head = ""
    for side, blocks in (("scratch", shown.scratch), ("concise", shown.concise)):
        files = ", ".join(dict.fromkeys(b.file for b in blocks if b is not None))
        head += f"<th {cell}>{side} <code>{html.escape(files)}</code></th>"
    body = ""
    for i in range(max(len(shown.scratch), len(shown.concise))):
        body += "<tr>"
        for blocks in (shown.scratch, shown.concise):
            block = blocks[i] if i < len(blocks) else None
            body += f"<td {cell}>{_html_code(block.source) if block else ''}</td>"
        body += "</tr>\n"
    return (f'<div class="d2lnotes-show"><p><b>{html.escape(t.name)}</b>: '
            f"{html.escape(t.title)} ({html.escape(t.where)})</p>\n"
            f'<table style="border-collapse: collapse;"><tr>{head}</tr>\n{body}</table></div>')


# --- the objects show() returns ----------------------------------------------------------

class Shown:
    """One topic's source, read now; ``print`` it, or let Jupyter show its HTML table."""

    def __init__(self, topic):
        self.topic = topic
        self.scratch = [read_block(p) if p else None for p in topic.scratch]
        self.concise = [read_block(p) if p else None for p in topic.concise]

    def render(self, width=None, color=False, layout="auto"):
        """The text layout for ``width`` characters (default: the terminal's, or $COLUMNS)."""
        width = shutil.get_terminal_size().columns if width is None else width
        checks = self.checks()
        return render_text(self, width, color, layout) + (
            "\n\n" + "\n".join(textwrap.wrap(checks, max(int(width), 20))) if checks else "")

    def checks(self):
        """``Check your own: python -m d2lnotes check ...`` for this topic's pieces, or ""."""
        from ..check.names import CHECKS, for_show_topic

        names = for_show_topic(self.topic.name)
        if not names:
            return ""
        first = CHECKS[names[0]]
        return (f"Check your own {', '.join(CHECKS[n].function for n in names)}: python -m "
                f"d2lnotes check {first.name} my_work.py:{first.function} (topics: "
                f"{', '.join(names)})")

    def __str__(self):
        return self.render()

    def __repr__(self):
        return f"<Shown {self.topic.name}: {self.topic.title} ({self.topic.where})>"

    def _repr_pretty_(self, p, cycle):
        p.text(self.render())

    def _repr_html_(self):
        checks = self.checks()
        return render_html(self) + (f"<p>{html.escape(checks)}</p>" if checks else "")


class TopicList:
    """The registered topics, one a line."""

    def __init__(self, topics):
        self.topics = list(topics.values())

    def __str__(self):
        if not self.topics:
            return "no topics registered"
        rows = [(t.name, t.section, t.edition_1 or "?", t.title) for t in self.topics]
        # Topics with no scratch/concise pair still get their row, saying where the code is.
        rows += [(k, p.classic, p.edition_1, f"{p.title}: no pair to show; {p.code}")
                 for k, p in PLACES.items() if p.code and k not in TOPICS]
        rows.insert(0, ("topic", "classic", "1.0 edition", "what"))
        w = [max(len(r[i]) for r in rows) for i in range(3)]
        return "\n".join(f"  {a:<{w[0]}}  {b:<{w[1]}}  {c:<{w[2]}}  {d}" for a, b, c, d in rows)

    def __repr__(self):
        return f"<TopicList of {len(self.topics)}>"

    def _repr_pretty_(self, p, cycle):
        p.text(str(self))


def _unknown(name):
    key = next((k for k in PLACES if name in (k, k.split(".")[1]) and PLACES[k].code), None)
    if key:
        name, p = key, PLACES[key]
        return (f"{name} ({p.title}, {p.classic}; 1.0 edition: {p.edition_1}) has no "
                f"scratch/concise pair to show; its code is in {p.code}")
    names = list(TOPICS)
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
    close += [n for n in names if name and name in n and n not in close]
    hint = f"did you mean {', '.join(close[:5])}? " if close else ""
    return f"unknown topic {name!r}; {hint}run 'python -m d2lnotes show' to list the topics"


def show(name=None):
    """Show a topic's scratch and concise code side by side; without a name, list topics.

    >>> print(show("ch3.softmax"))  # doctest: +SKIP
    """
    if name is None:
        return TopicList(TOPICS)
    name = ALIASES.get(name, name)  # ch2.probability is ch2.sampling
    if name not in TOPICS:
        raise UsageError(_unknown(name))
    return Shown(TOPICS[name])
