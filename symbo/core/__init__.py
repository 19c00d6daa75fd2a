"""The symbolic object model: objects that remember how they were built, as editable trees.

Layer 0 of symbo: it knows nothing of search. See ``DESIGN.md``.

>>> import symbo as sb
>>> class Trainer(sb.Object):
...     lr: float = 1e-3
...     layers: list[int] = [64]
>>> t = Trainer()
>>> t.rebind({"layers[0]": 32, "lr": 0.1})
Trainer(lr=0.1, layers=[32])
>>> sb.eq(sb.from_json(sb.to_json(t)), t)
True
"""

from symbo.core import patching, registry
from symbo.core.compare import eq, gt, lt, sym_hash
from symbo.core.containers import Dict, Insertion, List
from symbo.core.diff import Diff, diff
from symbo.core.errors import (
    CycleError,
    SealedError,
    SerializationError,
    SymbolicError,
    SymbolicKeyError,
    SymbolicTypeError,
    SymbolicValueError,
)
from symbo.core.fingerprint import fingerprint
from symbo.core.flags import as_sealed, auto_call_functors, notify_on_change
from symbo.core.formatting import format
from symbo.core.keypath import KeyPath
from symbo.core.node import MISSING, DeferredValue, FieldUpdate, Symbolic
from symbo.core.object import Field, Object, field
from symbo.core.patching import Patcher, patch, patcher, patcher_names
from symbo.core.rebind import rebind
from symbo.core.registry import register
from symbo.core.serialization import from_json, from_json_str, load, save, to_json, to_json_str
from symbo.core.symbolize import ClassWrapper, Functor, build, symbolize
from symbo.core.traversal import (
    DescendantQueryOption,
    TraverseAction,
    clone,
    contains,
    query,
    traverse,
)
from symbo.core.tuples import Tuple

hash = sym_hash  # noqa: A001 - sb.hash is the structural hash

__all__ = [
    "ClassWrapper", "CycleError", "DeferredValue", "DescendantQueryOption", "Dict", "Diff",
    "Field", "FieldUpdate", "Insertion", "as_sealed", "auto_call_functors", "contains", "gt",
    "lt", "notify_on_change", "Patcher", "patch", "patcher", "patcher_names", "patching",
    "Functor", "KeyPath", "List", "MISSING", "Object", "SealedError", "SerializationError",
    "Symbolic", "SymbolicError", "SymbolicKeyError", "SymbolicTypeError", "SymbolicValueError",
    "TraverseAction", "build", "clone", "diff", "eq", "field", "format", "from_json", "hash",
    "from_json_str", "load", "query", "rebind", "register", "registry", "save", "symbolize", "to_json",
    "to_json_str", "traverse", "Tuple", "fingerprint",
]
