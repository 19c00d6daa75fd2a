"""BOWL: Weisfeiler-Lehman features read from the DNA spec's cells, the GP over them, and the
search (no point twice, parallel proposals, resuming, refusals)."""

from __future__ import annotations

import numpy as np
import pytest

import symbo as sb
from symbo.algorithms import BOWL, AlgorithmError
from symbo.algorithms.bowl import WLModel
from symbo.algorithms.wl_features import Featurizer

from .replay import Log, resumed

OPS = ["conv", "pool", "skip"]


def _gram(featurizer, dnas):
    """Per WL level, the dot products of the feature counts: the kernel the model sees."""
    feats = [featurizer.features(d) for d in dnas]
    levels = sorted({t for f in feats for t, _ in f})
    return {t: [[sum(c * g.get(k, 0) for k, c in f.items() if k[0] == t) for g in feats]
                for f in feats] for t in levels}


def test_features_come_from_the_graph_not_from_the_numbering_of_decisions():
    # one cell written twice: candidates in another order, and an edge's decision listed first
    def cell(ops):
        e = {k: sb.one_of(ops, name=f"e{k}") for k in ("01", "02", "12")}
        return e, sb.Cell(num_inputs=1, nodes=[
            sb.CellNode(inputs=[0], ops=[e["01"]]),
            sb.CellNode(inputs=[0, 1], ops=[e["02"], e["12"]])])

    _, cell_a = cell(OPS)
    e, cell_b = cell(list(reversed(OPS)))
    a, b = sb.dna_spec(sb.Dict(cell=cell_a)), sb.dna_spec(sb.Dict(first=e["12"], cell=cell_b))
    assert [d.name for d in a] == ["e01", "e02", "e12"]
    assert [d.name for d in b] == ["e12", "e01", "e02"]
    dnas_a = [sb.random_dna(a, seed=seed) for seed in range(8)]
    dnas_b = [sb.DNA.from_params(b, d.to_params()) for d in dnas_a]
    assert [d.to_numbers() for d in dnas_a] != [d.to_numbers() for d in dnas_b]
    gram = _gram(Featurizer(a, iterations=2), dnas_a)
    assert gram == _gram(Featurizer(b, iterations=2), dnas_b) and set(gram) == {0, 1, 2}


def test_other_decisions_add_overlap_features_and_inactive_ones_none():
    space = sb.Dict(cell=sb.dag_cell(2, OPS),
                    opt=sb.one_of(["sgd", sb.Dict(m=sb.one_of([0.9, 0.99]))]))
    spec = sb.dna_spec(space)
    f = Featurizer(spec, iterations=1)
    for seed in range(6):
        dna = sb.random_dna(spec, seed=seed)
        others = [k for (t, k) in f.features(dna) if t == -1]
        assert len(others) == (1 if sb.materialize(space, dna).opt == "sgd" else 2)


def test_the_model_ranks_by_shared_subtrees():
    feats = [{(0, 0): 2}, {(0, 0): 1, (0, 1): 1}, {(0, 1): 2}]
    m = WLModel(feats, np.array([1.0, 0.0, -1.0]), iterations=0)
    mean, var = m.predict([{(0, 0): 2}, {(0, 1): 2}, {(0, 7): 1}])
    assert mean[0] > mean[1] and abs(mean[2]) < 1e-9      # an unseen subtree: the prior
    assert var[2] > var[0]


def _ops_reward(p):
    return float(sum(op == "conv" for op, _ in p.cell.genotype()))


def test_finds_the_best_cell_and_never_proposes_a_point_twice():
    space = sb.Dict(cell=sb.dag_cell(3, OPS))
    study = sb.tune(_ops_reward, space, BOWL(num_startup=5, seed=0), num_trials=25)
    assert study.best_trial.reward == 6.0
    dnas = [t.dna for t in study.trials]
    assert len(set(dnas)) == len(dnas)


def test_parallel_proposals_are_distinct_and_failures_not_repeated():
    spec = sb.dna_spec(sb.Dict(cell=sb.dag_cell(2, OPS)))
    algo = BOWL(num_startup=3, seed=1)
    algo.setup(spec)
    for _ in range(3):
        dna = algo.propose()
        algo.feedback(dna, float(dna.to_numbers()[1]))
    pending = [algo.propose() for _ in range(4)]
    assert len(set(pending)) == 4
    algo.on_failure(pending[0], "boom")
    assert all(algo.propose() != pending[0] for _ in range(5))


def test_a_small_space_is_exhausted_then_the_search_ends():
    space = sb.Dict(a=sb.one_of([1, 2, 3]), b=sb.one_of(["x", "y"]))
    algo = BOWL(num_startup=2, seed=0)
    study = sb.tune(lambda p: float(p.a), space, algo, num_trials=20)
    assert len(study.trials) == 6 and algo.exhausted
    with pytest.raises(AlgorithmError, match="all 6 points"):
        algo.propose()


def test_refuses_continuous_spaces_and_bad_settings():
    with pytest.raises(AlgorithmError, match="finite space"):
        BOWL().setup(sb.dna_spec(sb.Dict(x=sb.float_range(0.0, 1.0))))
    with pytest.raises(sb.SymbolicValueError, match="iterations"):
        BOWL(iterations=-1)


def test_resumed_from_its_trials_it_proposes_as_before():
    spec = sb.dna_spec(sb.Dict(cell=sb.dag_cell(2, OPS)))
    algo = BOWL(num_startup=3, seed=5)
    algo.setup(spec)
    log = Log(algo)
    for _ in range(8):
        dna = log.propose()
        log.feedback(dna, float(sum(dna.to_numbers())))
    back = resumed(BOWL(num_startup=3, seed=5), spec, log)
    assert len(back.history) == 8
    assert back.propose() == algo.propose()
