"""Parameter groups for optimizers bound by ``sbt.build`` (and DARTS/OneShot weight optimizers).

An optimizer recipe's ``params`` may be ``sbt.param_groups(...)``: ``sbt.build`` binds the
optimizer to the groups it gives for the model beside it, from a method of the model (such as
nanoGPT's ``configure_optimizers``, weight decay on matrices only) or from a function
``fn(model, **kwargs)``.

>>> import torch
>>> from symbo.backends.torch.param_groups import groups_from
>>> model = torch.nn.Linear(2, 2)
>>> groups = groups_from(lambda m: [{"params": [m.weight]}, {"params": [m.bias], "weight_decay": 0.0}], model)
>>> [len(g["params"]) for g in groups]
[1, 1]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from symbo.core import Object


def is_groups_fn(value: Any) -> bool:
    """True for ``sbt.param_groups(...)`` (parameter groups still to be taken from a model)."""
    return isinstance(value, ParamGroups)


class ParamGroups(Object, type_name="symbo.torch.param_groups"):
    """``model.<method>(**kwargs)``'s (or ``method(model, **kwargs)``'s) parameter groups, for
    an optimizer's ``params``.

    The method may return groups (a list of dicts, or of parameters) or an optimizer (as
    nanoGPT's and Lightning's ``configure_optimizers`` do): its groups are taken with their own
    options (those that differ from its defaults, e.g. ``weight_decay=0.0`` for biases); the
    recipe's arguments (``lr``, ``betas``) apply to everything else. It stands where an
    optimizer takes its parameters (an iterable), but only ``sbt.build`` (or DARTS/OneShot)
    can bind it: iterating it is an error.

    >>> import torch, symbo as sb
    >>> from symbo.backends import torch as sbt
    >>> class Net(torch.nn.Linear):
    ...     def groups(self, weight_decay):
    ...         return [{"params": [self.weight], "weight_decay": weight_decay},
    ...                 {"params": [self.bias], "weight_decay": 0.0}]
    >>> groups = sbt.param_groups("groups", weight_decay=0.1)
    >>> program = sb.Dict(model=sb.symbolize(Net)(2, 2), optimizer=sbt.optim.AdamW(params=groups, lr=1e-3))
    >>> [g["weight_decay"] for g in sbt.build(program).optimizer.param_groups]
    [0.1, 0.0]
    """

    method: Any = "configure_optimizers"
    kwargs: dict = {}

    def __call__(self, model: nn.Module) -> Any:
        if callable(self.method):
            return self.method(model, **dict(self.kwargs))
        fn = getattr(model, self.method, None)
        if not callable(fn):
            raise AttributeError(f"the model ({type(model).__name__}) has no method {self.method!r}")
        return fn(**dict(self.kwargs))

    def __iter__(self) -> Any:
        raise TypeError("sbt.param_groups(...) gives parameters only when bound to a model: build the "
                        "optimizer recipe with sbt.build (beside its model), or give it to DARTS/OneShot")


def param_groups(method: Any = "configure_optimizers", **kwargs: Any) -> ParamGroups:
    """Parameter groups from a method of the model (its name), or from ``method(model,
    **kwargs)`` (a function), for an optimizer recipe's ``params`` (see :class:`ParamGroups`).

    >>> from symbo.backends import torch as sbt
    >>> dict(sbt.param_groups("configure_optimizers", weight_decay=0.1).kwargs)
    {'weight_decay': 0.1}
    """
    return ParamGroups(method=method, kwargs=kwargs)


def groups_from(fn: Any, model: nn.Module) -> list[Any]:
    """What ``fn(model)`` gives, as ``params`` for an optimizer: groups or parameters.

    An optimizer's groups keep the options that differ from its defaults (the rest come from
    the recipe that is bound).
    """
    result = fn(model)
    if isinstance(result, torch.optim.Optimizer):
        defaults = result.defaults
        out = []
        for group in result.param_groups:
            own = {k: v for k, v in group.items()
                   if k != "params" and (k not in defaults or not _same(v, defaults[k]))}
            out.append({"params": list(group["params"]), **own})
        return out
    if isinstance(result, Mapping):
        result = [result]
    try:
        items = list(result)
    except TypeError:
        raise TypeError(f"it returned {type(result).__name__}, not parameter groups "
                        "(a list of dicts), parameters or an optimizer") from None
    if not items:
        raise ValueError("it returned no parameters")
    return [dict(g, params=list(g["params"])) if isinstance(g, Mapping) else g for g in items]


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # tensors and the like
        return a is b


__all__ = ["ParamGroups", "groups_from", "is_groups_fn", "param_groups"]
