"""The DARTS paper's CNN search space, written with ``sb.dag_cell`` and ``sbt.DagCell``.

``PRIMITIVES`` are the paper's 8 operations ('none' included); ``OPS`` builds them as its
``operations.py`` does for the final network (affine batch norms) and ``SEARCH_OPS`` as its
search network does (non-affine batch norms, a batch norm after each pooling). ``network``
stacks cells as ``model_search.py``: a 3x3 stem with ``stem_multiplier * C`` channels, ``layers``
cells with reductions at a third and two thirds of the depth (doubling ``C``), global average
pooling and a linear classifier. Every normal cell is a copy of ``normal`` and every reduction
cell of ``reduce``: with ``name=`` on the cell spaces, their decisions are named alike, so
DARTS gives all normal cells one matrix of architecture weights and all reduction cells another,
as the paper does.

>>> import symbo as sb
>>> from symbo.backends.torch import darts_space
>>> normal = sb.dag_cell(4, darts_space.PRIMITIVES, name="normal")
>>> reduce = sb.dag_cell(4, darts_space.PRIMITIVES, name="reduce")
>>> space = darts_space.network(C=4, num_classes=10, layers=3, normal=normal, reduce=reduce,
...                             ops=darts_space.SEARCH_OPS, in_channels=1)
>>> [c.reduction for c in space.cells]
[False, True, True]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from torch import nn

from symbo.backends.torch.cells import FactorizedReduce
from symbo.backends.torch.mixed_ops import Zero
from symbo.core import clone, register

PRIMITIVES = ["none", "max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3", "sep_conv_5x5",
              "dil_conv_3x3", "dil_conv_5x5"]


class DilConv(nn.Module):
    """ReLU, a dilated depthwise convolution, a pointwise one, batch norm (the paper's)."""

    def __init__(self, C_in: int, C_out: int, kernel_size: int, stride: int, padding: int,  # noqa: N803
                 dilation: int, affine: bool = True) -> None:
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_in, kernel_size, stride, padding, dilation=dilation, groups=C_in, bias=False),
            nn.Conv2d(C_in, C_out, 1, padding=0, bias=False),
            nn.BatchNorm2d(C_out, affine=affine))

    def forward(self, x: Any) -> Any:
        return self.op(x)


class SepConv(nn.Module):
    """Two stacked depthwise-separable convolutions (the paper's ``SepConv``)."""

    def __init__(self, C_in: int, C_out: int, kernel_size: int, stride: int, padding: int,  # noqa: N803
                 affine: bool = True) -> None:
        super().__init__()
        self.op = nn.Sequential(
            DilConv(C_in, C_in, kernel_size, stride, padding, 1, affine=affine),
            DilConv(C_in, C_out, kernel_size, 1, padding, 1, affine=affine))

    def forward(self, x: Any) -> Any:
        return self.op(x)


def _ops(affine: bool) -> dict[str, Callable[[int, int], nn.Module]]:
    def pool(module: nn.Module, C: int) -> nn.Module:  # noqa: N803
        # the search network normalizes pooled outputs (model_search.py's MixedOp)
        return module if affine else nn.Sequential(module, nn.BatchNorm2d(C, affine=False))

    return {
        "none": lambda C, stride: Zero(stride),
        "max_pool_3x3": lambda C, stride: pool(nn.MaxPool2d(3, stride=stride, padding=1), C),
        "avg_pool_3x3": lambda C, stride: pool(
            nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False), C),
        "skip_connect": lambda C, stride: nn.Identity() if stride == 1 else FactorizedReduce(C, C, affine),
        "sep_conv_3x3": lambda C, stride: SepConv(C, C, 3, stride, 1, affine),
        "sep_conv_5x5": lambda C, stride: SepConv(C, C, 5, stride, 2, affine),
        "dil_conv_3x3": lambda C, stride: DilConv(C, C, 3, stride, 2, 2, affine),
        "dil_conv_5x5": lambda C, stride: DilConv(C, C, 5, stride, 4, 2, affine),
    }


_FINAL, _SEARCH = _ops(True), _ops(False)


# Module-level functions (not lambdas), registered, so a space holding them serializes by reference.
def _define(name: str, table: dict[str, Callable[[int, int], nn.Module]], suffix: str) -> Callable:
    def op(C: int, stride: int) -> nn.Module:  # noqa: N803
        return table[name](C, stride)

    op.__name__ = op.__qualname__ = f"{name}{suffix}"
    op.__doc__ = f"The paper's {name} ({'search' if suffix else 'final'} network)."
    return op


OPS: dict[str, Callable[[int, int], nn.Module]] = {}
SEARCH_OPS: dict[str, Callable[[int, int], nn.Module]] = {}
for _name in PRIMITIVES:
    for _table, _suffix, _target in ((_FINAL, "", OPS), (_SEARCH, "_search", SEARCH_OPS)):
        _fn = _define(_name, _table, _suffix)
        _fn.__module__ = __name__
        globals()[_fn.__name__] = _fn
        _target[_name] = register(_fn)
del _name, _table, _suffix, _target, _fn


def network(C: int, num_classes: int, layers: int, *, normal: Any, reduce: Any,  # noqa: N803
            ops: Mapping[str, Callable[[int, int], nn.Module]] | None = None, in_channels: int = 3,
            stem_multiplier: int = 3, affine: bool | None = None) -> Any:
    """The paper's network as a symbolic recipe (a space when ``normal``/``reduce`` are spaces).

    ``ops`` defaults to ``SEARCH_OPS`` (use ``OPS`` to retrain a derived architecture);
    ``affine`` (the cells' preprocessing batch norms) defaults to ``ops is OPS``.
    """
    from symbo.backends import torch as sbt

    ops = SEARCH_OPS if ops is None else ops
    affine = (ops is OPS) if affine is None else affine
    multiplier = len(normal.nodes)
    c_curr = stem_multiplier * C
    stem = sbt.nn.Sequential(sbt.nn.Conv2d(in_channels, c_curr, 3, padding=1, bias=False),
                             sbt.nn.BatchNorm2d(c_curr))
    c_prev_prev, c_prev, c_curr = c_curr, c_curr, C
    reduction_prev = False
    cells = []
    for i in range(layers):
        reduction = i in (layers // 3, 2 * layers // 3)
        if reduction:
            c_curr *= 2
        cells.append(sbt.DagCell(clone(reduce if reduction else normal), c_curr, dict(ops), reduction,
                                 in_channels=(c_prev_prev, c_prev), reduction_prev=reduction_prev,
                                 affine=affine))
        reduction_prev = reduction
        c_prev_prev, c_prev = c_prev, multiplier * c_curr
    head = sbt.nn.Sequential(sbt.nn.AdaptiveAvgPool2d(1), sbt.nn.Flatten(),
                             sbt.nn.Linear(c_prev, num_classes))
    return sbt.CellStack(stem=stem, cells=cells, head=head)


def final_network(program: Any, ops: Mapping[str, Callable[[int, int], nn.Module]] | None = None) -> Any:
    """A copy of a program of :func:`network`'s space (e.g. ``sb.materialize(space, dna)``) whose
    cells build the final network's ops (``OPS``: affine batch norms, no batch norm after the
    pools), to retrain a derived architecture as the paper does.

    >>> import symbo as sb
    >>> from symbo.backends.torch import darts_space
    >>> cell = sb.random_sample(sb.dag_cell(4, darts_space.PRIMITIVES), seed=0)
    >>> program = darts_space.network(C=4, num_classes=10, layers=3, normal=cell, reduce=cell)
    >>> final = darts_space.final_network(program)
    >>> final.cells[0].ops["sep_conv_3x3"] is darts_space.OPS["sep_conv_3x3"], final.cells[0].affine
    (True, True)
    """
    from symbo.backends.torch.supernet import is_dag_cell_recipe

    table = dict(OPS if ops is None else ops)

    def replace(node: Any) -> Any:
        if is_dag_cell_recipe(node):
            copy = clone(node)
            copy.rebind({"ops": dict(table), "affine": True})
            return copy
        return node

    return clone(program, replace=replace)


__all__ = ["OPS", "PRIMITIVES", "SEARCH_OPS", "DilConv", "SepConv", "final_network", "network"]
