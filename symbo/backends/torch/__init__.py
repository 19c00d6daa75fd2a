"""PyTorch for symbo: symbolized ``torch.nn``/``torch.optim``, ``build``, and training helpers.

Importing this package imports torch; ``import symbo`` never does. ``sbt.nn`` and
``sbt.optim`` (with ``sbt.optim.lr_scheduler``) hold a symbolized recipe class for every public
module, optimizer and scheduler class of torch, generated on first access; ``sbt.build`` turns a
materialized program into modules and optimizers on a device; ``fit``, ``train_epoch``,
``evaluate`` and ``seed_everything`` are a small training utility; ``sbt.datasets.digits`` is
a real dataset that needs no download.

>>> import symbo as sb
>>> from symbo.backends import torch as sbt
>>> space = sb.Dict(
...     model=sbt.nn.Sequential(sbt.nn.Linear(64, sb.one_of([32, 64], name="width")),
...                             sbt.nn.ReLU(), sbt.nn.LazyLinear(10)),
...     optimizer=sbt.optim.Adam(lr=sb.float_range(1e-3, 1e-2, scale="log", name="lr")))
>>> program = sb.random_sample(space, seed=0)
>>> built = sbt.build(program, device="cpu", example_input=(1, 64))
>>> type(built.model).__name__, type(built.optimizer).__name__
('Sequential', 'Adam')

JSON and text naming ``torch.nn.*``/``torch.optim.*`` classes resolve on their own (the names
are generated on demand); ``sbt.register_all()`` generates them all at once.

``sbt.DARTS(space).search(train_loader, val_loader, epochs=..., device=...)`` relaxes the
module choices of the same space into a supernet and returns a DNA of its spec;
``sbt.OneShot(space)`` trains one weight-sharing supernet so that any algorithm can score the
space's programs with shared weights. ``sbt.DagCell(cell, C, ops)`` computes an
``sb.dag_cell`` as the paper's cells do, ``sbt.CellStack`` stacks cells, ``sbt.darts_space``
is the DARTS paper's CNN space and ``sbt.genotype`` prints cells in the paper's format.
"""

from symbo.backends.torch import cells as _cells
from symbo.backends.torch import darts_space, datasets, nn, optim
from symbo.backends.torch.batches import Precision
from symbo.backends.torch.build import BuildError, Built, NetworkError, build
from symbo.backends.torch.cells import CellError, Genotype, genotype
from symbo.backends.torch.darts import DARTS, DARTSSettings, SearchResult, SearchWarning
from symbo.backends.torch.lr_scheduler import register_all as _register_schedulers
from symbo.backends.torch.mixed_ops import ChannelMask, MixedOp, Zero
from symbo.backends.torch.oneshot import OneShot
from symbo.backends.torch.param_groups import ParamGroups, param_groups
from symbo.backends.torch.supernet import RelaxationError, relaxable
from symbo.backends.torch.train import evaluate, fit, seed_everything, train_epoch, use_threads
from symbo.core import symbolize as _symbolize

DagCell = _symbolize(_cells.DagCell)
"""The recipe of :class:`~symbo.backends.torch.cells.DagCell`: ``sbt.DagCell(cell, C, ops,
reduction=False, in_channels=None, reduction_prev=False, affine=True)``."""
CellStack = _symbolize(_cells.CellStack)
"""The recipe of :class:`~symbo.backends.torch.cells.CellStack`: ``sbt.CellStack(stem, cells, head)``."""


def register_all() -> list[str]:
    """Generates and registers every ``sbt.nn``, ``sbt.optim`` and scheduler class, so that
    ``sb.from_json``/``sb.load``/``sb.parse`` can resolve any of them by name.

    >>> from symbo.backends import torch as sbt
    >>> names = sbt.register_all()
    >>> "torch.nn.Linear" in names and "torch.optim.Adam" in names
    True
    """
    return nn.register_all() + optim.register_all() + _register_schedulers()


__all__ = [
    "Built", "BuildError", "CellError", "CellStack", "ChannelMask", "DARTS", "DARTSSettings", "DagCell",
    "Genotype", "MixedOp", "NetworkError", "OneShot", "ParamGroups", "Precision", "RelaxationError",
    "SearchResult", "SearchWarning", "Zero", "build", "darts_space", "datasets", "evaluate", "fit",
    "genotype", "nn", "optim", "param_groups", "register_all", "relaxable", "seed_everything",
    "train_epoch", "use_threads",
]
