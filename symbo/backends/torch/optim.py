"""``sbt.optim``: every ``torch.optim.Optimizer`` subclass of ``torch.optim``, symbolized.

Generated from ``torch.optim`` on first access and registered as ``torch.optim.<Name>``. Leave
``params`` out: ``sbt.build`` binds an optimizer without ``params`` to the parameters of the
model beside it in the program (see ``sbt.build``). Learning-rate schedulers are in
``sbt.optim.lr_scheduler`` (their ``optimizer`` left out is bound the same way).

>>> import symbo as sb
>>> from symbo.backends import torch as sbt
>>> program = sb.Dict(model=sbt.nn.Linear(4, 2),
...                   optimizer=sbt.optim.SGD(lr=sb.float_range(0.01, 0.1, scale="log")))
>>> built = sbt.build(sb.random_sample(program, seed=0))
>>> type(built.optimizer).__name__, len(built.optimizer.param_groups[0]["params"])
('SGD', 2)
"""

from __future__ import annotations

import torch

from symbo.backends.torch import lr_scheduler
from symbo.backends.torch._generate import LazyNamespace, module_getattr

EXCLUDED: dict[str, str] = {"Optimizer": "the base class"}

_NAMESPACE = LazyNamespace("torch.optim", torch.optim, torch.optim.Optimizer, home=__name__,
                           exclude=EXCLUDED)
NAMES: tuple[str, ...] = _NAMESPACE.names
__all__ = [*NAMES, "lr_scheduler"]
__getattr__ = module_getattr(_NAMESPACE)


def __dir__() -> list[str]:
    return sorted({*globals(), *NAMES})


def register_all() -> list[str]:
    """Generates every ``sbt.optim`` class now, so JSON and text naming any of them load.

    >>> from symbo.backends import torch as sbt
    >>> "torch.optim.AdamW" in sbt.optim.register_all()
    True
    """
    return _NAMESPACE.register_all()
