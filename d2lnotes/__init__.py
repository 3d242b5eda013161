"""d2lnotes: a tested study companion for *Dive into Deep Learning*, chapters 2-4.

Chapters: ``ch2`` preliminaries, ``ch3`` linear neural networks, ``ch4`` multilayer
perceptrons. Each has ``scratch.py`` beside ``concise.py`` and runs as ``python -m d2lnotes.chN``.
"""

__version__ = "0.1.0"

CHAPTERS = {
    "ch2": "preliminaries: autograd vs finite differences, calculus, linear algebra, "
           "preprocessing, probability, every value checked (§2.1-2.6)",
    "ch3": "linear neural networks: linear and softmax regression, scratch vs concise (§3.1-3.7)",
    "ch4": "multilayer perceptrons: MLP, hand backprop, model selection, weight decay, "
           "dropout, init, Kaggle house prices (§4.1-4.10)",
    "bench": "speed: the conventional torchvision pipeline against d2lnotes' loader and loop",
}


def show(topic=None):
    """Scratch and concise code of ``topic`` side by side (e.g. ``"ch3.softmax"``).

    ``print`` the result for text that fits the terminal; in Jupyter it displays as an
    HTML table with syntax highlighting. Without a topic, return the list of topics.
    """
    from .study import show as _show  # imported here so that `import d2lnotes` stays light

    return _show(topic)
