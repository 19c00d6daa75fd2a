"""symbo: symbolic AutoML programming for PyTorch.

Write markers into the model and training code you already have, then search the space with any
algorithm. This is the public face: the names of ``API.md``, the error classes and the key value
types, listed by group below (``symbo.core``, ``symbo.dsl``, ``symbo.algorithms`` and
``symbo.backends`` hold the rest). Importing symbo imports neither torch, Ray nor networkx.

>>> import symbo as sb
>>> class Config(sb.Object):
...     lr: float = 0.1
>>> sb.format(Config(lr=0.01))
'Config(lr=0.01)'
"""

from typing import Any as _Any

from symbo import algorithms
from symbo.algorithms.base import AlgorithmError
from symbo.backends import (
    Comparison,
    Feedback,
    StorageError,
    Study,
    StudyMismatchError,
    Trial,
    TrialPruned,
    compare,
    create_study,
    load_study,
    sample,
    tune,
)
from symbo.core import (
    MISSING,
    ClassWrapper,
    CycleError,
    DeferredValue,
    DescendantQueryOption,
    Dict,
    Diff,
    Functor,
    Insertion,
    KeyPath,
    List,
    Object,
    SealedError,
    SerializationError,
    Symbolic,
    SymbolicError,
    SymbolicKeyError,
    SymbolicTypeError,
    SymbolicValueError,
    Tuple,
    as_sealed,
    auto_call_functors,
    build,
    clone,
    contains,
    diff,
    eq,
    field,
    fingerprint,
    format,
    from_json,
    from_json_str,
    gt,
    hash,
    load,
    lt,
    notify_on_change,
    patch,
    patcher,
    patcher_names,
    patching,
    query,
    rebind,
    register,
    registry,
    save,
    symbolize,
    to_json,
    to_json_str,
    traverse,
)
from symbo.dsl import (
    DNA,
    Candidate,
    Cell,
    CellNode,
    Choice,
    CustomDecision,
    CustomHyper,
    DecisionPoint,
    Decisions,
    DNAError,
    DNASpec,
    DynamicEvaluationContext,
    FloatDecision,
    FloatRange,
    IntDecision,
    IntRange,
    ManyOf,
    Marker,
    OneOf,
    Permutate,
    SpaceSyntaxError,
    TracedProgram,
    TracedSpace,
    ValueReference,
    VectorEncoder,
    cell_graph,
    dag_cell,
    dna_spec,
    encode,
    evolve,
    float_range,
    graph_hash,
    int_range,
    is_deterministic,
    is_tracing,
    iterate,
    iterate_dna,
    load_space,
    many_of,
    materialize,
    one_of,
    parse,
    permutate,
    random_dna,
    random_sample,
    save_space,
    trace,
)

__version__ = "0.1.0"

__all__ = [
    # API.md, "Symbolic object model"
    "Object", "symbolize", "Functor", "ClassWrapper", "List", "Dict", "Tuple", "KeyPath",
    "MISSING", "field", "clone", "eq", "hash", "diff", "Diff", "lt", "gt", "query", "traverse",
    "contains", "DescendantQueryOption", "rebind", "Insertion", "build", "to_json", "from_json",
    "to_json_str", "from_json_str", "save", "load", "format", "fingerprint", "register",
    "registry", "as_sealed", "notify_on_change", "auto_call_functors", "patch", "patcher",
    "patcher_names", "patching", "Symbolic", "DeferredValue",
    # API.md, "Search spaces"
    "one_of", "many_of", "float_range", "int_range", "permutate", "dna_spec", "DNA",
    "materialize", "random_sample", "random_dna", "iterate", "iterate_dna", "is_deterministic",
    "parse", "load_space", "save_space", "trace", "is_tracing", "dag_cell", "cell_graph",
    "graph_hash", "encode", "evolve", "ValueReference", "CustomHyper", "DynamicEvaluationContext",
    # API.md, "Searching"
    "algorithms", "sample", "tune", "create_study", "load_study", "compare",
    # the key value types: what the functions above take and give
    "DNASpec", "Decisions", "DecisionPoint", "Choice", "Candidate", "FloatDecision",
    "IntDecision", "CustomDecision", "Marker", "OneOf", "ManyOf", "Permutate", "FloatRange",
    "IntRange", "TracedSpace", "TracedProgram", "Cell", "CellNode", "VectorEncoder", "Study",
    "Trial", "Feedback", "Comparison",
    # the error classes
    "SymbolicError", "SymbolicTypeError", "SymbolicKeyError", "SymbolicValueError",
    "SealedError", "CycleError", "SerializationError", "DNAError", "SpaceSyntaxError",
    "AlgorithmError", "StorageError", "StudyMismatchError", "TrialPruned",
    "__version__",
]

_RENAMED = {
    "Space": "sb.Space was a tuple of decision points, not a space; it is sb.Decisions now (a "
             "search space is any value with markers in it)",
}


def __getattr__(name: str) -> _Any:
    if name in _RENAMED:
        raise AttributeError(_RENAMED[name])
    raise AttributeError(f"module 'symbo' has no attribute {name!r}")
