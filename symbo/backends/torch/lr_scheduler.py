"""``sbt.optim.lr_scheduler``: the learning-rate schedulers of ``torch.optim.lr_scheduler``.

Every public class of that module (but the ``LRScheduler`` base) is generated on first access
and registered as ``torch.optim.lr_scheduler.<Name>``. Leave ``optimizer`` out: ``sbt.build``
binds it to the optimizer beside the scheduler in the program (and the schedulers inside a
``SequentialLR`` or ``ChainedScheduler`` to the same one).

>>> import symbo as sb
>>> from symbo.backends import torch as sbt
>>> program = sb.Dict(model=sbt.nn.Linear(4, 2), optimizer=sbt.optim.SGD(lr=0.1),
...                   scheduler=sbt.optim.lr_scheduler.StepLR(step_size=sb.one_of([5, 10])))
>>> built = sbt.build(sb.random_sample(program, seed=0))
>>> built.scheduler.optimizer is built.optimizer
True
"""

from __future__ import annotations

import torch.optim.lr_scheduler as _torch_lr_scheduler

from symbo.backends.torch._generate import LazyNamespace, module_getattr

EXCLUDED: dict[str, str] = {"LRScheduler": "the base class"}

_BASES = (_torch_lr_scheduler.LRScheduler, _torch_lr_scheduler.ReduceLROnPlateau)
_NAMESPACE = LazyNamespace("torch.optim.lr_scheduler", _torch_lr_scheduler, _BASES,
                           home=__name__, exclude=EXCLUDED)
NAMES: tuple[str, ...] = _NAMESPACE.names
__all__ = list(NAMES)
__getattr__ = module_getattr(_NAMESPACE)


def __dir__() -> list[str]:
    return sorted({*globals(), *NAMES})


def is_scheduler_class(cls: type) -> bool:
    """Whether ``cls`` is a torch learning-rate scheduler (``ReduceLROnPlateau`` included).

    >>> import torch
    >>> is_scheduler_class(torch.optim.lr_scheduler.StepLR), is_scheduler_class(torch.optim.SGD)
    (True, False)
    """
    return isinstance(cls, type) and issubclass(cls, _BASES)


def register_all() -> list[str]:
    """Generates every scheduler class now, so JSON and text naming any of them load.

    >>> from symbo.backends import torch as sbt
    >>> "torch.optim.lr_scheduler.OneCycleLR" in sbt.optim.lr_scheduler.register_all()
    True
    """
    return _NAMESPACE.register_all()
