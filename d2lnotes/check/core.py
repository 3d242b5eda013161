"""The runner behind ``check(topic, fn)``: properties, the learner's calls, and the report.

A topic is a list of named properties over one kind of input that Hypothesis draws. One
Hypothesis run tries every property on each input; when a property fails, Hypothesis
shrinks the input, the property is recorded with that smallest input, and the run starts
again without it, until the rest hold. Invariants:

- the learner's code only ever runs through :class:`Learner`: on copies of the inputs,
  with a time limit per call, its printing and warnings swallowed, and every exception
  (Ctrl-C aside) turned into a failed property;
- runs are reproducible (``derandomize=True``, torch and ``random`` seeded per input) and
  write nothing to disk (``database=None``);
- a failure of a *gate* (it runs, finishes in time, returns the right type or shape) stops
  the check: the later properties would only repeat it, so they read "not checked".
"""

import contextlib
import io
import random
import signal
import threading
import time
from dataclasses import dataclass, field

import torch

RUNS, IN_TIME, UNCHANGED = "runs without error", "finishes in time", "leaves its inputs unchanged"
GRADIENTS = "gradients agree with autograd's"
DEFAULT_EXAMPLES = 25  # random inputs per check, besides the topic's fixed edge cases
DEFAULT_TIME_LIMIT = 2.0  # seconds per call of the learner's function
FIRST_CALL = 5  # times the limit for the first call: torch imports and warms up on first use


class Fail(Exception):  # noqa: N818  (a property's verdict, not an error of ours)
    """A property did not hold; ``message`` says why in the book's terms."""

    def __init__(self, message, prop=None, gate=False):
        super().__init__(message)
        self.message, self.prop, self.gate = message, prop, gate
        self.example = None  # the input, as the learner would have written the call
        self.table = None  # gradient rows, for the gradient property


class Timeout(BaseException):  # noqa: N818
    """A call ran out of time; a BaseException, so that ``except Exception`` cannot swallow it."""


def fail(message):
    """Stop the property being checked with ``message``."""
    raise Fail(message)


@contextlib.contextmanager
def _alarm(seconds):
    """Raise :class:`Timeout` in the main thread after ``seconds`` (no-op elsewhere)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal,
                                                                                  "setitimer"):
        yield
        return

    def on_alarm(signum, frame):
        raise Timeout

    outer = signal.getitimer(signal.ITIMER_REAL)[0]  # e.g. a cell time limit around us
    old = signal.signal(signal.SIGALRM, on_alarm)
    start = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        if outer:
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - start), 1e-3))


def _in_thread(call, seconds):
    """Run ``call()`` in a daemon thread, waiting ``seconds`` (outside the main thread)."""
    box = {}

    def target():
        try:
            box["value"] = call()
        except BaseException as e:  # handed back to the caller's thread
            box["error"] = e

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise Timeout
    if "error" in box:
        raise box["error"]
    return box.get("value")


def limited(call, seconds):
    """``call()`` with a time limit, quietly: its printing and warnings are dropped."""
    import warnings

    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if threading.current_thread() is threading.main_thread() and hasattr(signal,
                                                                             "setitimer"):
            with _alarm(seconds):
                return call()
        return _in_thread(call, seconds)


def copy(value):
    """A deep copy of tensors (and lists or tuples of them), keeping ``requires_grad``."""
    if isinstance(value, torch.Tensor):
        # A tensor that requires grad is cloned inside the graph, so gradients reach it.
        return value.clone() if value.requires_grad else value.detach().clone()
    if isinstance(value, (list, tuple)):
        return type(value)(copy(v) for v in value)
    return value


def same(a, b):
    """Whether two inputs hold the same values (NaN equal to NaN)."""
    if isinstance(a, torch.Tensor):
        return (isinstance(b, torch.Tensor) and a.shape == b.shape and a.dtype == b.dtype
                and torch.equal(torch.nan_to_num(a.detach()), torch.nan_to_num(b.detach())))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return True


class Learner:
    """The learner's function as the properties call it: copies in, a time limit, no escapes.

    ``returns(out)`` is the topic's type check; it raises :class:`Fail` for a wrong type.
    """

    def __init__(self, fn, name, returns, time_limit, check_unchanged=True, call=None):
        self.fn, self.name, self.returns = fn, name, returns
        self.time_limit, self.check_unchanged = time_limit, check_unchanged
        self.call_style = call  # e.g. list(fn(...)) for a generator
        self.timed_out = None  # the message of the first timeout: later calls fail at once
        self.reported = set()  # generic properties already recorded as failed
        self.calls = 0

    def __call__(self, *args):
        if self.timed_out:
            raise Fail(self.timed_out, IN_TIME, gate=True)
        given = copy(args) if self.check_unchanged else args
        fn = self.fn if self.call_style is None else (lambda *a: self.call_style(self.fn, *a))
        self.calls += 1
        limit = self.time_limit * (FIRST_CALL if self.calls == 1 else 1)
        try:
            out = limited(lambda: fn(*given), limit)
        except KeyboardInterrupt:
            raise
        except Timeout:
            self.timed_out = (f"{self.name}{show_args(args)} did not return within "
                              f"{limit:g} s: look for a loop whose condition never "
                              "changes (a while loop, or a generator that never stops)")
            raise Fail(self.timed_out, IN_TIME, gate=True) from None
        except BaseException as e:  # the learner's error is a finding, not a crash
            raise Fail(f"{self.name}{show_args(args)} raised {type(e).__name__}: {e}", RUNS,
                       gate=True) from None
        if self.check_unchanged and UNCHANGED not in self.reported and not same(given, args):
            raise Fail(f"{self.name}{show_args(args)} changed its input in place (an in-place "
                       "operation such as X -= ..., X.exp_() or X[mask] = 0): the caller's "
                       "tensor, and autograd's record of it, are overwritten; compute a new "
                       "tensor instead", UNCHANGED)
        self.returns(out)
        return out


# --- showing inputs ----------------------------------------------------------------------

def show_value(value):
    """A short readable form of one argument: small tensors in full, big ones by shape."""
    if isinstance(value, torch.Tensor):
        if value.numel() <= 12:
            text = repr(value.detach()).replace("\n", "").replace("       ", " ")
            return " ".join(text.split())
        return f"<tensor of shape {tuple(value.shape)}, {str(value.dtype)[6:]}>"
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], torch.Tensor):
        inner = ", ".join(show_value(v) for v in value)
        return f"[{inner}]"
    if isinstance(value, torch.nn.Module):
        return "net"
    if callable(value):
        return getattr(value, "__name__", "f")
    return repr(value)


def show_args(args):
    return "(" + ", ".join(show_value(a) for a in args) + ")"


# --- gradients, in Karpathy's cmp style ----------------------------------------------------

@dataclass(frozen=True)
class GradRow:
    """One parameter's gradient, the learner's against the twin's."""

    name: str
    exact: bool
    close: bool
    max_diff: float
    shape: tuple  # the learner's gradient's shape (None: no gradient reached it)
    twin_shape: tuple

    def __str__(self):
        shapes = f"{self.shape} vs {self.twin_shape}" if self.shape != self.twin_shape \
            else str(self.shape)
        diff = "-" if self.max_diff != self.max_diff else f"{self.max_diff:.1e}"
        return (f"{self.name:<8} exact: {str(self.exact):<5}  allclose: {str(self.close):<5}  "
                f"max diff: {diff:<8}  shape: {shapes}")


def gradient_rows(learner, twin, args, wrt, names, rtol=1e-6, atol=1e-9):
    """Gradients of ``sum(out * v)`` for the arguments at ``wrt``, in float64, both ways.

    ``v`` is fixed noise, so that every entry of the output matters. Raises :class:`Fail`
    when the learner's output does not reach the parameters; None when it is not finite.
    """
    grads = []
    for f, who in ((learner, "yours"), (twin, "twin")):
        args64 = [a.detach().double().requires_grad_(i in wrt)
                  if isinstance(a, torch.Tensor) and a.is_floating_point() else a
                  for i, a in enumerate(args)]
        out = f(*args64)
        if who == "yours" and not (isinstance(out, torch.Tensor) and out.requires_grad):
            fail("the result carries no gradient back to "
                 f"{', '.join(names)}: it was cut from autograd's graph (.detach(), "
                 ".numpy(), .item() or torch.tensor(...) on an intermediate result)")
        if who == "yours" and not torch.isfinite(out).all():
            return None  # "stays finite" says so; a nan gradient would only repeat it
        g = torch.Generator().manual_seed(0)
        v = torch.rand(out.shape, generator=g, dtype=torch.float64) + 0.5
        leaves = [args64[i] for i in wrt]
        got = torch.autograd.grad((out.double() * v).sum(), leaves, allow_unused=True)
        grads.append(got)
    rows = []
    for name, mine, theirs in zip(names, *grads):
        if mine is None or mine.shape != theirs.shape:
            rows.append(GradRow(name, False, False, float("nan"),
                                None if mine is None else tuple(mine.shape), tuple(theirs.shape)))
            continue
        diff = (mine - theirs).abs().max().item() if mine.numel() else 0.0
        rows.append(GradRow(name, torch.equal(mine, theirs),
                            torch.allclose(mine, theirs, rtol=rtol, atol=atol), diff,
                            tuple(mine.shape), tuple(theirs.shape)))
    return rows


# --- topics and their properties -------------------------------------------------------------

@dataclass
class Property:
    name: str
    check: object  # check(run, *args): raises Fail
    gate: bool = False
    section: str = ""  # where the property's lesson is, when not the topic's own section


@dataclass
class Topic:
    """A checkable function of the book: its signature, twin, inputs and properties."""

    name: str
    signature: str
    show_topic: str  # the ``python -m d2lnotes show`` topic it belongs to
    classic: str
    edition_1: str
    twin: object
    inputs: object  # a Hypothesis strategy of argument tuples
    examples: list  # argument tuples always tried first: the edges that matter
    returns: object  # returns(out) raises Fail for a wrong type
    properties: list = field(default_factory=list)
    call: object = None  # how to call the learner's fn, e.g. list(fn(*args))
    check_unchanged: bool = True
    gradients: object = None  # (wrt, names) for the table of gradients
    warmup: object = None  # loads what a learner's version may use on its first call...
    warmup_if: str = ""  # ...when its code names this (e.g. "optim")
    note: str = ""

    @property
    def where(self):
        same_place = self.edition_1 == self.classic
        return f"{self.classic}; 1.0 edition: {'the same' if same_place else self.edition_1}"

    @property
    def function(self):
        return self.signature.split("(")[0]

    def property(self, name, gate=False, section=""):
        """Decorator: register ``check(run, *args)`` as the property ``name``."""
        def register(check):
            self.properties.append(Property(name, check, gate, section))
            return check
        return register


# --- the result -----------------------------------------------------------------------------

@dataclass
class Outcome:
    """One property's verdict: ``passed`` is True, False, or None (not checked)."""

    name: str
    passed: bool | None
    message: str = ""
    example: str = ""


@dataclass
class Result:
    """What ``check(topic, fn)`` found: true when every property held."""

    topic: Topic
    fn_name: str
    outcomes: list
    gradients: list = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self):
        return all(o.passed for o in self.outcomes)

    def __bool__(self):
        return self.passed

    @property
    def failed(self):
        """The properties that did not hold, in order."""
        return [o for o in self.outcomes if o.passed is False]

    @property
    def failed_names(self):
        return [o.name for o in self.failed]

    def __str__(self):
        t, n_failed = self.topic, len(self.failed)
        verdict = f"PASSED all {len(self.outcomes)} properties" if self.passed else \
            f"FAILED {n_failed} of {len(self.outcomes)} properties"
        lines = [f"check {t.name}: {self.fn_name} against the book's {t.signature} "
                 f"({t.where})"] + ([f"({t.note})"] if t.note else []) + [verdict]
        for o in self.outcomes:
            if o.passed is None:
                continue
            lines.append(f"  {'ok  ' if o.passed else 'FAIL'} {o.name}")
            if o.passed is False:
                lines.append(f"       {o.message}")
                if o.example:
                    lines.append(f"       smallest failing input: {o.example}")
        skipped = [o for o in self.outcomes if o.passed is None]
        if skipped:
            lines.append(f"  -    {skipped[0].message[:-6]}, then: "
                         f"{'; '.join(o.name for o in skipped)}")
        if self.gradients:
            lines.append("  gradients, yours vs d2lnotes' (float64):")
            lines.extend(f"    {row}" for row in self.gradients)
        return "\n".join(lines)

    def __repr__(self):
        verdict = "passed" if self.passed else f"failed: {', '.join(self.failed_names)}"
        return f"<check {self.topic.name} {self.fn_name}: {verdict}>"

    def _repr_pretty_(self, p, cycle):
        p.text(str(self))

    def _repr_html_(self):
        from html import escape

        t = self.topic
        colour = {True: "#1a7f37", False: "#cf222e", None: "#6e7781"}
        word = {True: "ok", False: "FAIL", None: "not checked"}
        rows = []
        for o in self.outcomes:
            detail = escape(o.message)
            if o.example:
                detail += f"<br><small>smallest failing input: <code>{escape(o.example)}</code>"\
                          "</small>"
            rows.append(f'<tr><td style="color:{colour[o.passed]}"><b>{word[o.passed]}</b></td>'
                        f"<td>{escape(o.name)}</td><td style=\"text-align:left\">{detail}</td>"
                        "</tr>")
        grads = ""
        if self.gradients:
            cells = "".join(
                f"<tr><td>{escape(g.name)}</td><td>{g.exact}</td><td>{g.close}</td>"
                f"<td>{g.max_diff:.1e}</td><td>{g.shape}</td><td>{g.twin_shape}</td></tr>"
                for g in self.gradients)
            grads = ("<p>Gradients, yours vs d2lnotes' (float64)</p><table><tr><th>param</th>"
                     "<th>exact</th><th>allclose</th><th>max diff</th><th>yours</th>"
                     f"<th>twin</th></tr>{cells}</table>")
        verdict = "passed" if self.passed else f"failed {len(self.failed)} of " \
            f"{len(self.outcomes)}"
        return (f'<div class="d2lnotes-check"><p><b>check {escape(t.name)}</b>: '
                f"{escape(self.fn_name)} against <code>{escape(t.signature)}</code> "
                f"({escape(t.where)}): <b>{verdict}</b></p><table><tr><th></th>"
                f"<th>property</th><th>why</th></tr>{''.join(rows)}</table>{grads}</div>")


# --- running a check -----------------------------------------------------------------------------

@contextlib.contextmanager
def _seeded(seed=0):
    """Seed torch and ``random`` for one input, restoring the caller's generators after."""
    state = random.getstate()
    with torch.random.fork_rng(devices=[]):
        # The CPU generator only: torch.manual_seed would also queue a seed for every
        # uninitialised accelerator, recording a stack trace each time (slow, per input).
        torch.random.default_generator.manual_seed(seed)
        random.seed(seed)
        try:
            yield
        finally:
            random.setstate(state)


def _first_fail(error):
    """The :class:`Fail` inside what Hypothesis raised (it may wrap it in a group)."""
    if isinstance(error, Fail):
        return error
    for inner in getattr(error, "exceptions", ()):
        found = _first_fail(inner)
        if found is not None:
            return found
    return None


def _body(topic, learner, pending):
    """The Hypothesis test: every pending property on one input, the first failure raised."""
    def body(args):
        current = None
        try:
            with _seeded():
                for prop in pending:
                    current = prop
                    prop.check(learner, *args)
        except Fail as f:
            f.prop = f.prop or current.name
            f.gate = f.gate or current.gate
            f.example = f"{topic.function}{show_args(args)}"
            f.section = current.section if f.prop == current.name else ""
            raise
        except KeyboardInterrupt:
            raise
        except Exception as e:  # the output confused the check: still a finding
            raise Fail(f"its result could not be checked ({type(e).__name__}: {e})",
                       current.name, current.gate) from None
    return body


def run_check(topic, fn, fn_name, max_examples=DEFAULT_EXAMPLES,
              time_limit=DEFAULT_TIME_LIMIT):
    """Check ``fn`` against every property of ``topic``; return a :class:`Result`."""
    from hypothesis import HealthCheck, Phase, Verbosity, example, given, settings

    start = time.perf_counter()
    learner = Learner(fn, topic.function, topic.returns, time_limit, topic.check_unchanged,
                      topic.call)
    returns = getattr(topic.returns, "label", None)
    generic = [RUNS, IN_TIME] + ([returns] if returns else []) + (
        [UNCHANGED] if topic.check_unchanged else [])
    verdicts = {}  # property name -> Outcome, for the ones that failed
    table = None  # the gradient rows of the gradient property's failing input
    pending = list(topic.properties)
    stopped = None  # the gate that failed
    # torch's first calls are slow (imports, kernels): that time is not the learner's.
    warmups = [lambda: topic.twin(*copy(topic.examples[0]))] if topic.examples else []
    if topic.warmup is not None and topic.warmup_if in getattr(
            getattr(fn, "__code__", None), "co_names", ()):
        warmups.append(topic.warmup)
    for warmup in warmups:
        with _seeded(), contextlib.suppress(Exception):
            limited(warmup, 60.0)

    while pending and stopped is None:
        test = given(topic.inputs)(_body(topic, learner, pending))
        for args in reversed(topic.examples):
            test = example(args)(test)
        test = settings(max_examples=max_examples, derandomize=True, database=None,
                        deadline=None, suppress_health_check=list(HealthCheck),
                        verbosity=Verbosity.quiet, report_multiple_bugs=False,
                        phases=(Phase.explicit, Phase.generate, Phase.shrink),
                        print_blob=False)(test)
        try:
            test()
            break
        except KeyboardInterrupt:
            raise
        except Exception as e:
            found = _first_fail(e)
            if found is None:
                found = Fail(f"the check itself could not run ({type(e).__name__}: {e})",
                             pending[0].name, gate=True)
            section = getattr(found, "section", "") or topic.where
            message = f"{found.message} ({section})"
            verdicts[found.prop] = Outcome(found.prop, False, message, found.example or "")
            table = found.table if found.prop == GRADIENTS else table
            learner.reported.add(found.prop)
            if found.gate:
                stopped = found.prop
            pending = [p for p in pending if p.name != found.prop]

    names = generic + [p.name for p in topic.properties]
    outcomes = []
    for name in dict.fromkeys(names):
        if name in verdicts:
            outcomes.append(verdicts[name])
        elif stopped is not None and (name not in generic or stopped in generic[:3]):
            outcomes.append(Outcome(name, None, f"not checked: fix '{stopped}' first"))
        else:
            outcomes.append(Outcome(name, True))
    gradients = table or []
    if not gradients and stopped is None and topic.gradients is not None and topic.examples:
        try:  # the table for the first edge case, to show what agreeing looks like
            with _seeded():
                gradients = gradient_rows(learner, topic.twin, topic.examples[0],
                                          *topic.gradients) or []
        except Fail:
            gradients = []
    return Result(topic, fn_name, outcomes, gradients, time.perf_counter() - start)


def gradient_property(topic, rtol=1e-6, atol=1e-9):
    """Register the property that compares the learner's gradients with the twin's."""
    wrt, names = topic.gradients

    @topic.property(GRADIENTS)
    def gradients_agree(run, *args):
        rows = gradient_rows(run, topic.twin, args, wrt, names, rtol, atol) or []
        bad = [r for r in rows if not r.close]
        if bad:
            detail = "; ".join(f"d{r.name}: " + ("none reached it" if r.shape is None else
                                                  f"shape {r.shape} vs {r.twin_shape}"
                                                  if r.shape != r.twin_shape else
                                                  f"off by up to {r.max_diff:.2g}")
                               for r in bad)
            error = Fail(f"the gradients differ from autograd's through d2lnotes' "
                         f"{topic.function}: {detail}")
            error.table = rows
            raise error
