"""Graph-aware search over a DAG cell: BOWL (a Weisfeiler-Lehman kernel GP) and local search.

A NASNet/DARTS-style cell (``sb.dag_cell``: each of 4 nodes reads 2 earlier states, each
input through an op of its own) scored by a made-up proxy that likes convolutions on long
paths and dislikes pooling next to the cell's inputs. ``sb.algorithms.Auto`` picks ``BOWL``
on such a space (a finite space of choices); ``LocalSearch`` walks the one-edit graph of
cells (one op replaced, one input moved). Both read the cell's graph from the DNA spec
(``spec.cells``), whatever the decisions are named. ``sb.compare`` runs each with 3 seeds.

    python examples/cell_search.py
"""

import symbo as sb

OPS = ["conv3x3", "conv1x1", "pool", "skip"]
space = sb.Dict(cell=sb.dag_cell(num_nodes=4, ops=OPS, num_inputs=2, in_degree=2))


def objective(p):
    """Higher is better: conv3x3 counts twice and more the deeper its node; pooling an input
    of the cell costs 1; a node reading the same kind of op twice costs 0.5."""
    score = 0.0
    for node, cell_node in enumerate(p.cell.nodes):
        ops = cell_node.ops
        for op, source in zip(ops, cell_node.inputs):
            score += {"conv3x3": 2.0, "conv1x1": 1.0, "pool": 0.0, "skip": 0.5}[op] * (1 + node / 4)
            score -= 1.0 if op == "pool" and source < 2 else 0.0
        score -= 0.5 if len(set(ops)) < len(ops) else 0.0
    return score


if __name__ == "__main__":
    spec = sb.dna_spec(space)
    print(f"{spec.space_size} cells; Auto picks", end=" ")
    auto = sb.algorithms.Auto(seed=0)
    auto.setup(spec)
    print(auto.chosen)
    result = sb.compare(
        objective, space,
        {"Random": lambda seed: sb.algorithms.Random(seed=seed),
         "LocalSearch": lambda seed: sb.algorithms.LocalSearch(seed=seed),
         "BOWL": lambda seed: sb.algorithms.BOWL(seed=seed)},
        seeds=3, num_trials=40, budgets=(10, 20, 40),
    )
    print(result.format())
    study = sb.tune(objective, space, sb.algorithms.BOWL(seed=0), num_trials=40)
    print("best cell:", study.best_trial.program.cell.genotype(), study.best_trial.reward)
