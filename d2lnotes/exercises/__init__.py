"""The book's end-of-section exercises (classic §2.1-§4.10), answered by code that runs.

``run("3.6")`` answers one section's exercises. Each answer is data: ``values`` computed
afresh, and a test in ``tests/test_exercises_chN.py`` that recomputes and asserts the claim.
Questions are paraphrased in d2lnotes' own words. One module per section (``sec3_6.py``)
registers its answers with :func:`~d2lnotes.exercises.core.exercise`.
"""

from .core import EXERCISES, KINDS, Answer, Exercise, exercise, record, select


class Answers(list):
    """``(Exercise, Answer)`` pairs: prints as text, displays as a table in Jupyter."""

    def __init__(self, pairs, edition="classic"):
        super().__init__(pairs)
        self.edition = edition

    def __str__(self):
        blocks = []
        for ex, answer in self:
            blocks.append(f"{ex.number(self.edition)} ({ex.kind}) {ex.question}\n"
                          f"  {answer.answer}")
        return "\n\n".join(blocks)

    def _repr_html_(self):
        from html import escape

        rows = "".join(
            f"<tr><td>{escape(ex.number(self.edition))}</td><td>{escape(ex.kind)}</td>"
            f"<td>{escape(ex.question)}</td><td>{escape(answer.answer)}</td></tr>"
            for ex, answer in self)
        return ("<table><tr><th>exercise</th><th>kind</th><th>question</th><th>answer</th></tr>"
                f"{rows}</table>")

    def to_json(self):
        return {"exercises": [record(ex, answer) for ex, answer in self]}


def run(section=None, seed=0, edition="classic"):
    """Answer the exercises of ``section`` (``"3.6"``; all if None) as ``edition`` numbers
    them (``classic``, ``zh`` or ``1.0``); return :class:`Answers`."""
    exercises = select(section, edition)
    if not exercises:
        raise ValueError(f"no answered exercise is numbered {section} in the {edition} edition")
    return Answers([(ex, ex.answer(seed=seed)) for ex in exercises], edition)


__all__ = ["EXERCISES", "KINDS", "Answer", "Answers", "Exercise", "exercise", "run", "select"]
