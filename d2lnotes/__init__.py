"""d2lnotes: a tested study companion for *Dive into Deep Learning*, chapters 2-4.

Chapters: ``ch2`` preliminaries, ``ch3`` linear neural networks, ``ch4`` multilayer
perceptrons. Each has ``scratch.py`` beside ``concise.py`` and runs as ``python -m d2lnotes.chN``.
"""

__version__ = "0.1.0"

CHAPTERS = {
    "ch3": "linear neural networks: linear and softmax regression, scratch vs concise (§3.1-3.7)",
}
