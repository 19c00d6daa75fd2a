"""Algorithms and early-stopping policies named on the command line (text in the space
language), and the default algorithm.

>>> parse_algorithm("Random(seed=3)")
Random(seed=3)
"""

from __future__ import annotations

from typing import Any

from symbo.algorithms.base import Algorithm
from symbo.cli.errors import CLIError, first_line
from symbo.core import SymbolicError, registry

#: an option that was not given on the command line (None means "given as none")
UNSET: Any = object()


def default_algorithm(seed: int | None = None, num_trials: int | None = None) -> Algorithm:
    """The algorithm of ``symbo run`` without ``--algorithm`` (and a script without one):
    ``sb.algorithms.Auto``, as for ``sb.tune`` and ``sb.sample``, told the budget.

    >>> default_algorithm(0, num_trials=50)
    Auto(seed=0, num_trials=50, gp_trials=200, tpe_from=1000)
    """
    from symbo.algorithms import Auto

    return Auto(seed=seed, num_trials=num_trials)


def tpe_algorithm(seed: int | None = None) -> Algorithm:
    """The demo's algorithm: TPE when this symbo has it, else regularized evolution.

    >>> type(tpe_algorithm(0)).__name__ in ("TPE", "RegularizedEvolution")
    True
    """
    tpe = tpe_class()
    if tpe is not None:
        return tpe(seed=seed)
    from symbo.algorithms import RegularizedEvolution

    return RegularizedEvolution(population_size=20, tournament_size=5, seed=seed)


def tpe_class() -> Any:
    import symbo.algorithms as algorithms

    tpe = getattr(algorithms, "TPE", None)
    if tpe is None:
        try:
            from symbo.algorithms.tpe import TPE as tpe  # noqa: N811 - registers it, too
        except ImportError:
            return None
    return tpe


def parse_algorithm(text: str, seed: int | None = None) -> Algorithm:
    """An algorithm from its text, e.g. ``"RegularizedEvolution(population_size=20)"``; a
    ``seed`` is set where the text leaves the algorithm's seed unset.

    >>> parse_algorithm("Random(seed=3)")
    Random(seed=3)
    >>> parse_algorithm("Random()", seed=5)
    Random(seed=5)
    >>> parse_algorithm("Nope()")
    Traceback (most recent call last):
    ...
    symbo.cli.errors.CLIError: bad --algorithm 'Nope()': line 1, column 1: unknown class 'Nope'...
    """
    import symbo as sb

    tpe_class()  # registers TPE where it exists
    try:
        value = sb.parse(text)
    except SymbolicError as e:
        raise CLIError(f"bad --algorithm {text!r}: {first_line(e)}") from None
    if not isinstance(value, Algorithm):
        raise CLIError(f"bad --algorithm {text!r}: a {type(value).__name__} is not an algorithm "
                       f"(algorithms: {', '.join(algorithm_names())})")
    if seed is not None and "seed" in type(value).sym_schema().by_name and value.seed is None:
        value.rebind(seed=seed)
    return value


def algorithm_names() -> list[str]:
    """The short names of the registered algorithm classes."""
    out = set()
    for name in registry.names():
        value = registry.lookup(name)
        if isinstance(value, type) and issubclass(value, Algorithm) and value is not Algorithm:
            out.add(registry.short_name(value) or name)
    return sorted(out)


def parse_policy(text: str | None) -> Any:
    """An early-stopping policy from its text; ``none`` is no policy; None: not given."""
    if text is None:
        return UNSET
    if text.strip().lower() == "none":
        return None
    import symbo as sb
    from symbo.algorithms.early_stopping import EarlyStoppingPolicy

    try:
        value = sb.parse(text)
    except SymbolicError as e:
        raise CLIError(f"bad --early-stopping {text!r}: {first_line(e)}") from None
    if not isinstance(value, EarlyStoppingPolicy):
        raise CLIError(f"bad --early-stopping {text!r}: not an early-stopping policy "
                       "(e.g. ASHA(), MedianStopping(min_trials=5))")
    return value
