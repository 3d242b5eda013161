import pytest


@pytest.fixture(scope="session")
def fashion_mnist():
    """The real Fashion-MNIST at the book's batch size, loaded once for the whole run."""
    from d2lnotes.utils.data import load_fashion_mnist

    return load_fashion_mnist(256)


# Torch's first calls are slow and CI machines are shared: time limits per example would flake.
from hypothesis import settings  # noqa: E402

settings.register_profile("d2lnotes", deadline=None)
settings.load_profile("d2lnotes")
