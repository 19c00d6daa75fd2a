"""sbt.OneShot: single-path training (uniform and fair), shared-weight scores, BatchNorm
recalibration, search with any algorithm, state dicts."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import symbo as sb  # noqa: E402
from symbo.backends import torch as sbt  # noqa: E402
from symbo.backends.torch import darts_space  # noqa: E402
from symbo.backends.torch.mixed_ops import MixedOp, Zero  # noqa: E402

nn = torch.nn
Linear, Seq, ReLU, Tanh, Sigmoid = sbt.nn.Linear, sbt.nn.Sequential, sbt.nn.ReLU, sbt.nn.Tanh, sbt.nn.Sigmoid


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def data(n: int = 128, seed: int = 0) -> list:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=g)
    y = (x[:, 0] * x[:, 1] > 0).long()
    return [(x[i:i + 32], y[i:i + 32]) for i in range(0, n, 32)]


TRAIN, VAL = data(256, 1), data(128, 2)


def space() -> object:
    return Seq(Linear(4, 16), sb.one_of([ReLU(), Tanh(), Sigmoid()], name="act"), sbt.nn.BatchNorm1d(16),
               sb.one_of([Linear(16, 2), Seq(Linear(16, 8), ReLU(), Linear(8, 2))], name="head"))


def count_calls(model: nn.Module) -> dict:
    calls: dict = {}
    for i, op in enumerate(m for m in model.modules() if isinstance(m, MixedOp)):
        for j, c in enumerate(op.candidates):
            c.register_forward_hook(lambda m, a, o, key=(i, j): calls.__setitem__(key, calls.get(key, 0) + 1))
    return calls


def test_uniform_sampling_trains_one_path_per_step() -> None:
    ws = sbt.OneShot(space(), seed=0, device="cpu")
    net = ws.setup()
    calls = count_calls(net)
    ws.train(TRAIN, epochs=1)
    steps = len(TRAIN)
    for decision, n in ((0, 3), (1, 2)):  # every step ran exactly one candidate of each choice
        assert sum(calls.get((decision, j), 0) for j in range(n)) == steps
    assert ws.history[0]["epoch"] == 0 and ws.epoch == 1


def test_fair_sampling_trains_every_candidate_once_per_step() -> None:
    ws = sbt.OneShot(space(), sampling="fair", seed=0, device="cpu")
    net = ws.setup()
    calls = count_calls(net)
    ws.train(TRAIN[:1], epochs=1)  # one step: m = 3 paths (the most candidates of a choice)
    assert [calls.get((0, j), 0) for j in range(3)] == [1, 1, 1]
    assert sum(calls.get((1, j), 0) for j in range(2)) == 3
    with pytest.raises(ValueError, match="sampling must be"):
        sbt.OneShot(space(), sampling="greedy")


def test_a_shared_weight_score_is_the_score_of_the_child_with_the_inherited_weights() -> None:
    s = space()
    ws = sbt.OneShot(s, seed=0, device="cpu", optimizer=sbt.optim.Adam(lr=1e-2))
    ws.train(TRAIN, epochs=2)
    spec = sb.dna_spec(s)
    dna = sb.DNA.from_dict(spec, {"act": 1, "head": 1})
    program = sb.materialize(s, dna)
    score = ws.evaluate(program, VAL, calibration=TRAIN)
    assert score == ws.evaluate(dna, VAL, calibration=TRAIN)  # a program or its DNA
    # the child network, built on its own, with the supernet's weights copied in
    child = sbt.build(program)
    net = ws.supernet
    child[0].load_state_dict(net[0].state_dict())
    child[2].load_state_dict(net[2].state_dict())  # its statistics, recalibrated for this path
    child[3].load_state_dict(net[3].candidates[1].state_dict())
    assert sbt.evaluate(child, VAL) == pytest.approx(score, abs=1e-9)
    other = ws.evaluate(sb.DNA.from_dict(spec, {"act": 0, "head": 0}), VAL, calibration=TRAIN)
    assert 0.0 <= other <= 1.0 and ws.evaluate(dna, VAL, calibration=TRAIN) == score  # repeatable


def test_batch_norm_statistics_are_recomputed_for_the_evaluated_path() -> None:
    s = space()
    ws = sbt.OneShot(s, seed=0, device="cpu")
    ws.train(TRAIN, epochs=1)
    net = ws.supernet
    spec = sb.dna_spec(s)
    for act in (0, 2):
        ws.evaluate(sb.DNA.from_dict(spec, {"act": act, "head": 0}), VAL, calibration_batches=2)
        with torch.no_grad():
            features = torch.cat([net[1].candidates[act](net[0](x)) for x, _ in VAL[:2]])
        assert torch.allclose(net[2].running_mean, features.mean(0), atol=1e-6)


def test_any_algorithm_searches_the_space_with_shared_weights() -> None:
    s = space()
    ws = sbt.OneShot(s, seed=0, device="cpu", optimizer=sbt.optim.Adam(lr=1e-2))
    ws.train(TRAIN, epochs=2)
    algorithm = sb.algorithms.RegularizedEvolution(population_size=3, tournament_size=2, seed=0)
    study = sb.tune(lambda program: ws.evaluate(program, VAL), s, algorithm, num_trials=6)
    rewards = [t.reward for t in study.trials]
    assert len(rewards) == 6 and all(0.0 <= r <= 1.0 for r in rewards)
    assert study.best_trial.reward == max(rewards)


def test_a_training_split_in_parts_equals_one_run_and_a_fresh_oneshot_restores() -> None:
    one = sbt.OneShot(space(), seed=0, device="cpu")
    one.train(TRAIN, epochs=3)
    first = sbt.OneShot(space(), seed=0, device="cpu")
    first.train(TRAIN, epochs=3, callback=lambda e, ws: e == 0)
    assert first.epoch == 1
    second = sbt.OneShot(space(), seed=0, device="cpu")
    second.load_state_dict(first.state_dict())
    second.train(TRAIN, epochs=3)
    for a, b in zip(one.supernet.state_dict().values(), second.supernet.state_dict().values()):
        assert torch.equal(a, b)
    dna = sb.DNA.from_dict(sb.dna_spec(space()), {"act": 2, "head": 1})
    fresh = sbt.OneShot(space(), seed=0, device="cpu")
    fresh.load_state_dict(one.state_dict())
    assert fresh.evaluate(dna, VAL) == one.evaluate(dna, VAL)
    with pytest.raises(ValueError, match="nothing to evaluate yet"):
        sbt.OneShot(space(), device="cpu").evaluate(dna, VAL)


def test_programs_that_are_not_of_the_space_are_named() -> None:
    ws = sbt.OneShot(space(), seed=0, device="cpu")
    ws.train(TRAIN[:1], epochs=1)
    wrong = sb.materialize(space(), sb.DNA.from_dict(sb.dna_spec(space()), {"act": 0, "head": 0}))
    wrong.rebind({"args[0].out_features": 8})
    with pytest.raises(sbt.RelaxationError, match=r"args\[0\]\.out_features: 8 differs from the space's 16"):
        ws.evaluate(wrong, VAL)
    right = sb.materialize(space(), sb.DNA.from_dict(sb.dna_spec(space()), {"act": 0, "head": 0}))
    assert ws.evaluate(right, VAL, device="cpu") == ws.evaluate(right, VAL)
    with pytest.raises(ValueError, match=r"supernet is on cpu, not meta; .*OneShot\(space, device='meta'\)"):
        ws.evaluate(right, VAL, device="meta")


def test_optimizers_may_take_the_supernets_own_parameter_groups() -> None:
    def groups(net: nn.Module) -> list:
        return [{"params": [p for p in net.parameters() if p.dim() > 1]},
                {"params": [p for p in net.parameters() if p.dim() <= 1], "weight_decay": 0.0}]

    ws = sbt.OneShot(space(), seed=0, device="cpu", optimizer=sbt.optim.AdamW(params=groups, lr=1e-3))
    ws.train(TRAIN[:1], epochs=1)
    assert [g["weight_decay"] for g in ws.trainer.optimizer.param_groups] == [0.01, 0.0]
    darts = sbt.DARTS(space(), seed=0, device="cpu", min_alpha_change=0,
                      weight_optimizer=sbt.optim.AdamW(params=groups, lr=1e-3))
    darts.search(TRAIN[:1], VAL[:1], epochs=1)
    assert [g["weight_decay"] for g in darts.trainer.optimizer.param_groups] == [0.01, 0.0]


def none(c: int, stride: int) -> nn.Module:
    return Zero(stride)


def conv(c: int, stride: int) -> nn.Module:
    return nn.Sequential(nn.ReLU(), nn.Conv2d(c, c, 3, stride, 1, bias=False), nn.BatchNorm2d(c))


def skip(c: int, stride: int) -> nn.Module:
    return nn.Identity() if stride == 1 else nn.AvgPool2d(1, stride)


def test_a_cell_path_runs_only_the_chosen_edges_with_their_ops() -> None:
    names = ["none", "conv", "skip"]
    cell_space = sb.dag_cell(2, names, name="normal")
    net_space = darts_space.network(C=2, num_classes=2, layers=1, normal=cell_space, reduce=cell_space,
                                    ops={"none": none, "conv": conv, "skip": skip}, in_channels=1,
                                    stem_multiplier=1)
    ws = sbt.OneShot(net_space, seed=0, device="cpu")
    x = torch.randn(4, 1, 4, 4)
    y = torch.tensor([0, 1, 0, 1])
    ws.train([(x, y)], epochs=1)
    cell = sb.Cell(num_inputs=2, nodes=[sb.CellNode(inputs=[0, 1], ops=["conv", "skip"]),
                                        sb.CellNode(inputs=[1, 2], ops=["none", "conv"])])
    program = darts_space.network(C=2, num_classes=2, layers=1, normal=cell, reduce=cell,
                                  ops={"none": none, "conv": conv, "skip": skip}, in_channels=1,
                                  stem_multiplier=1)
    search_cell = ws.supernet.cells[0]
    ran = []
    for e, op in enumerate(search_cell.ops):
        for o, candidate in enumerate(op.candidates):
            candidate.register_forward_hook(lambda m, a, out, key=(e, o): ran.append(key))
    ws.evaluate(program, [(x, y)], calibration_batches=0)
    edges = search_cell.edges
    assert sorted((edges[e], names[o]) for e, o in ran) == [
        ((0, 0), "conv"), ((0, 1), "skip"), ((1, 1), "none"), ((1, 2), "conv")]


def test_stacked_cells_share_one_path_and_programs_of_the_space_map_back_to_it() -> None:
    ops = {"none": none, "conv": conv, "skip": skip}
    normal = sb.dag_cell(2, ["none", "conv", "skip"], name="normal")
    reduce = sb.dag_cell(2, ["none", "conv", "skip"], name="reduce")
    net_space = darts_space.network(C=2, num_classes=2, layers=3, normal=normal, reduce=reduce, ops=ops,
                                    in_channels=1, stem_multiplier=1)
    ws = sbt.OneShot(net_space, seed=0, device="cpu")
    x, y = torch.randn(4, 1, 4, 4), torch.tensor([0, 1, 0, 1])
    ws.train([(x, y)], epochs=1)
    assert sorted(ws.decisions) == ["normal", "reduce"]
    assert ws.supernet.cells[1].state is ws.supernet.cells[2].state
    spec = sb.dna_spec(net_space)
    for seed in range(3):
        dna = sb.random_dna(spec, seed=seed)
        program = sb.materialize(net_space, dna)
        assert ws.path(program) == ws.path(dna)
        assert 0.0 <= ws.evaluate(program, [(x, y)]) <= 1.0


def test_one_input_cells_with_in_degree_one_are_scored_from_a_dna_or_a_program() -> None:
    ops = {"none": none, "conv": conv, "skip": skip}
    cell_space = sb.dag_cell(2, list(ops), num_inputs=1, in_degree=1, name="c")  # inputs: one index
    net_space = Seq(sbt.nn.Conv2d(1, 2, 1), sbt.DagCell(cell_space, 2, ops), sbt.nn.Flatten(),
                    sbt.nn.LazyLinear(2))
    ws = sbt.OneShot(net_space, seed=0, device="cpu")
    x, y = torch.randn(4, 1, 4, 4), torch.tensor([0, 1, 0, 1])
    ws.train([(x, y)], epochs=1)
    spec = sb.dna_spec(net_space)
    for seed in range(3):
        dna = sb.random_dna(spec, seed=seed)
        program = sb.materialize(net_space, dna)
        assert ws.path(program) == ws.path(dna)
        assert 0.0 <= ws.evaluate(dna, [(x, y)]) <= 1.0
