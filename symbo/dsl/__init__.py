"""Search spaces: markers, the DNA spec, DNA, materialize, define-by-run and the text language.

Layer 1 of symbo (imports only ``symbo.core``); it knows nothing of algorithms.

The genotype/phenotype mapping, written down:

* **Markers** (what users write): ``one_of``, ``many_of``, ``permutate``, ``float_range``,
  ``int_range``, anywhere a value may stand in a symbolic tree, including inside another
  marker's candidates (a conditional space).
* **Decision points** (what algorithms see): ``dna_spec(space)`` lists one decision point per
  marker, in preorder of the tree; a choice's candidates carry the decision points found inside
  them. Ids are key paths, with ``[=i]`` for "under candidate i" (and ``[j]`` for the position
  of a many_of in DNA dicts); ``name=`` gives a decision a stable name of the user's choosing.
* **DNA** (a point): a tree of decisions in the spec's shape; ``materialize(space, dna)`` gives
  the program with every marker replaced by its decided value.

>>> import symbo as sb
>>> space = sb.Dict(lr=sb.float_range(1e-4, 0.1, scale="log", name="lr"),
...                 act=sb.one_of(["relu", "gelu"], name="act"))
>>> spec = sb.dna_spec(space)
>>> program = sb.materialize(space, sb.DNA.from_dict(spec, {"lr": 0.01, "act": 1}))
>>> program
Dict({'lr': 0.01, 'act': 'gelu'})
"""

from symbo.dsl.custom import CustomDecision, CustomHyper
from symbo.dsl.dna import DNA, DNAError
from symbo.dsl.dynamic import DynamicEvaluationContext
from symbo.dsl.encode import encode
from symbo.dsl.encoding import VectorEncoder
from symbo.dsl.evolvable import Evolvable, evolve
from symbo.dsl.graph import Cell, CellNode, cell_graph, dag_cell, graph_hash
from symbo.dsl.markers import (
    FloatRange,
    IntRange,
    ManyOf,
    Marker,
    OneOf,
    Permutate,
    float_range,
    int_range,
    many_of,
    one_of,
    permutate,
)
from symbo.dsl.materialize import (
    is_deterministic,
    iterate,
    iterate_dna,
    materialize,
    random_dna,
    random_sample,
)
from symbo.dsl.parser import SpaceSyntaxError, load_space, parse, save_space
from symbo.dsl.points import (
    Candidate,
    Choice,
    DecisionPoint,
    Decisions,
    FloatDecision,
    IntDecision,
)
from symbo.dsl.references import ValueReference
from symbo.dsl.spec import DNASpec, dna_spec
from symbo.dsl.trace import TracedProgram, TracedSpace, is_tracing, trace

__all__ = [
    "Candidate", "Choice", "DNA", "DNAError", "DNASpec", "DecisionPoint", "Decisions",
    "FloatDecision", "FloatRange",
    "IntDecision", "IntRange", "ManyOf", "Marker", "OneOf", "Permutate", "dna_spec",
    "float_range", "int_range", "is_deterministic", "iterate", "iterate_dna", "many_of",
    "materialize", "one_of", "permutate", "random_dna", "random_sample", "trace", "is_tracing",
    "TracedSpace",
    "TracedProgram", "VectorEncoder", "Cell", "CellNode", "cell_graph", "dag_cell", "graph_hash",
    "SpaceSyntaxError", "load_space", "parse", "save_space", "ValueReference", "encode",
    "CustomDecision", "CustomHyper", "Evolvable", "evolve",
    "DynamicEvaluationContext",
]
