"""The exceptions d2lnotes raises for problems a user can fix.

Each message reads ``<what happened>; <what to do>``. The chapter commands print it as
``error: <message>`` with no traceback (``--debug`` shows one).
"""


class D2LError(Exception):
    """A problem the user can fix; the command exits with status 1."""

    exit_code = 1


class UsageError(D2LError):
    """A bad command-line value; the command exits with status 2."""

    exit_code = 2


class DataError(D2LError):
    """A dataset that is missing, corrupt or fails its checksum."""


class DivergenceError(D2LError):
    """Training produced a non-finite loss."""
