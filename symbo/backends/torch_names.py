"""Resolves ``torch.nn.X``, ``torch.optim.X`` and ``torch.optim.lr_scheduler.X`` names in JSON
and space text to symbo's generated wrappers, without importing torch until such a name is
read (and only if torch is installed). Names outside those torch namespaces never reach it.

>>> from symbo.core import registry
>>> registry.lookup("torch.nn.Linear").__name__   # doctest: +SKIP
'Linear'
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

from symbo.core import registry

_NAMESPACES = {
    "torch.nn.": "symbo.backends.torch.nn",
    "torch.optim.lr_scheduler.": "symbo.backends.torch.lr_scheduler",
    "torch.optim.": "symbo.backends.torch.optim",
}


def _resolver(prefix: str, module: str) -> Any:
    def resolve(name: str) -> Any:
        short = name[len(prefix):]
        if not short or "." in short or importlib.util.find_spec("torch") is None:
            return None
        namespace = importlib.import_module(module)._NAMESPACE
        return namespace.get(short) if short in namespace else None

    return resolve


def install() -> None:
    """Registers the resolvers (once)."""
    for prefix, module in _NAMESPACES.items():
        if not registry.has_resolver(prefix):
            registry.register_resolver(prefix, _resolver(prefix, module))
