"""The command line's two kinds of error: a mistake in what was asked, and the user's code
raising.

>>> raise CLIError("no such file: x.db")
Traceback (most recent call last):
...
symbo.cli.errors.CLIError: no such file: x.db
"""

from __future__ import annotations


class CLIError(Exception):
    """A mistake on the command line: printed as one line, exit code 2."""


class UserCodeError(Exception):
    """The user's script or module raised (its traceback was printed): exit code 1."""


def first_line(error: BaseException) -> str:
    """The first line of an error's message (its type's name when it has none).

    >>> first_line(ValueError("bad\\nmore")), first_line(KeyError())
    ('bad', 'KeyError')
    """
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def one_line(error: BaseException) -> str:
    """The message, joined to one line where it is short; a long diff keeps its lines."""
    text = str(error).strip()
    lines = text.splitlines()
    return text if 1 < len(lines) <= 20 else (lines[0] if lines else type(error).__name__)
