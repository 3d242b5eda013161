"""Study tools: read a scratch implementation beside its concise twin.

``show("ch3.softmax")`` returns a :class:`Shown`: ``print`` it for a two-column text layout
that fits the terminal, or let Jupyter display it as an HTML table with syntax
highlighting. The source is read with :mod:`inspect` from the code itself, when asked for.

Topics are registered in :mod:`d2lnotes.study.topics`, one line each, by dotted path
strings, so registering imports nothing (in particular not torch).
"""

from . import topics  # noqa: F401  (registers the topics)
from .sidebyside import TOPICS, Shown, Topic, TopicList, render_text, show, topic

__all__ = ["TOPICS", "Shown", "Topic", "TopicList", "render_text", "show", "topic"]
