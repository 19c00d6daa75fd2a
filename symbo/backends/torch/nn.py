"""``sbt.nn``: every public ``torch.nn.Module`` subclass of ``torch.nn``, symbolized.

The names are found by introspecting ``torch.nn`` (so a newer torch brings its new modules)
and each class is generated on first access with ``sb.symbolize``, registered as
``torch.nn.<Name>`` for JSON and the text language. A generated class is a *recipe*: it takes
the constructor arguments of the torch class, markers included, and ``.build()`` (or
``sbt.build`` for a whole program, with devices and optimizers) makes the module.

>>> import symbo as sb
>>> from symbo.backends import torch as sbt
>>> layer = sbt.nn.Linear(64, sb.one_of([32, 64], name="width"))
>>> sb.format(layer, hide_default=True)
"Linear(in_features=64, out_features=one_of([32, 64], name='width'))"
>>> [program.build() for program in sb.iterate(layer)]
[Linear(in_features=64, out_features=32, bias=True), Linear(in_features=64, out_features=64, bias=True)]

Not generated: ``Module`` (the base class) and ``Container`` (deprecated).
Constructors whose annotations say ``Callable`` (e.g. ``TransformerEncoderLayer``'s
``activation``) skip type checks, so a recipe such as ``sbt.nn.GELU()`` is accepted there.
``Sequential`` takes its modules positionally; an ``OrderedDict`` works when built but is not
serializable.

Your own modules: symbolize the ``torch.nn.Module`` subclass. ``sb.symbolize(MLP)`` returns a
recipe class and leaves ``MLP`` the plain class, so built models pickle (``torch.save``);
decorating the class with ``@sb.symbolize`` also works, but then the name ``MLP`` is the recipe
and pickling a built ``MLP`` instance by class name fails (its ``state_dict`` is fine).

>>> import torch
>>> class MLP(torch.nn.Module):
...     def __init__(self, in_features: int = 4, width: int = 32, classes: int = 2):
...         super().__init__()
...         self.net = torch.nn.Sequential(
...             torch.nn.Linear(in_features, width), torch.nn.ReLU(), torch.nn.Linear(width, classes))
...     def forward(self, x):
...         return self.net(x)
>>> MLPSpace = sb.symbolize(MLP)
>>> model = sbt.build(sb.random_sample(MLPSpace(width=sb.one_of([8, 16])), seed=0))
>>> type(model).__name__, model(torch.zeros(3, 4)).shape
('MLP', torch.Size([3, 2]))
"""

from __future__ import annotations

import torch

from symbo.backends.torch._generate import LazyNamespace, module_getattr

EXCLUDED: dict[str, str] = {
    "Module": "the base class: subclass torch.nn.Module and symbolize your class instead",
    "Container": "deprecated by torch; use Sequential",
}

_NAMESPACE = LazyNamespace("torch.nn", torch.nn, torch.nn.Module, home=__name__,
                           exclude=EXCLUDED)
NAMES: tuple[str, ...] = _NAMESPACE.names
__all__ = list(NAMES)
__getattr__ = module_getattr(_NAMESPACE)


def __dir__() -> list[str]:
    return sorted({*globals(), *NAMES})


def register_all() -> list[str]:
    """Generates every ``sbt.nn`` class now, so JSON and text naming any of them load.

    >>> from symbo.backends import torch as sbt
    >>> "torch.nn.Conv2d" in sbt.nn.register_all()
    True
    """
    return _NAMESPACE.register_all()
