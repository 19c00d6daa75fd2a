"""From a search space to a supernet (DARTS, OneShot), and from its weights back to DNA.

:mod:`.analysis` says which markers can be relaxed and how (module choices, widths, argument
variants, DAG cells); :mod:`.builder` builds the supernet; :mod:`.derive` turns architecture
weights (or a sampled path) back into DNA of the space's spec, and DNA into a path.

>>> import symbo as sb
>>> from symbo.backends import torch as sbt
>>> from symbo.backends.torch.supernet import relaxable
>>> space = sb.Dict(act=sb.one_of([sbt.nn.ReLU(), sbt.nn.Tanh()]),
...                 width=sbt.nn.Linear(4, sb.one_of([8, 16])), lr=sb.float_range(1e-3, 0.1))
>>> [relaxable(m) for m in (space.act, space.width.out_features, space.lr)]
[True, True, False]
"""

from symbo.backends.torch.supernet.analysis import (
    Analysis,
    CellPlan,
    MarkerInfo,
    RelaxationError,
    decision_key,
    is_dag_cell_recipe,
    is_module_recipe,
    normalize_fixed,
    relaxable,
    space_spec,
)
from symbo.backends.torch.supernet.builder import SupernetBuilder, build_supernet, setup_supernet
from symbo.backends.torch.supernet.derive import (
    cell_values,
    derive_dna,
    dna_of_program,
    dna_values,
    magnitude_values,
    path_of,
    select_from_scores,
)

__all__ = [
    "Analysis", "CellPlan", "MarkerInfo", "RelaxationError", "SupernetBuilder", "build_supernet",
    "cell_values", "decision_key", "derive_dna", "dna_of_program", "dna_values", "is_dag_cell_recipe",
    "is_module_recipe", "magnitude_values", "normalize_fixed", "path_of", "relaxable",
    "select_from_scores", "setup_supernet", "space_spec",
]
