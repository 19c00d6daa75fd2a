"""DARTS: the supernet, the three modes, first and second order, selection, failures."""

from __future__ import annotations

import functools
import math
import warnings

import pytest

torch = pytest.importorskip("torch")

import symbo as sb  # noqa: E402
from symbo.backends import torch as sbt  # noqa: E402
from symbo.backends.torch.darts import DARTS  # noqa: E402
from symbo.backends.torch.mixed_ops import ChannelMask, MixedOp, Zero  # noqa: E402
from symbo.backends.torch.supernet import RelaxationError, relaxable  # noqa: E402
from symbo.dsl.dna import validate  # noqa: E402

nn = torch.nn
F = torch.nn.functional

Linear, LazyLinear, Seq = sbt.nn.Linear, sbt.nn.LazyLinear, sbt.nn.Sequential
ReLU, Tanh, Sigmoid, LeakyReLU = sbt.nn.ReLU, sbt.nn.Tanh, sbt.nn.Sigmoid, sbt.nn.LeakyReLU
Identity, Dropout = sbt.nn.Identity, sbt.nn.Dropout
ZeroOp = sb.symbolize(Zero)

MODES = [("softmax", 1), ("softmax", 2), ("gumbel", 1), ("gumbel", 2), ("single_path", 1)]


class SumOf(nn.Module):
    """Sums its ops' outputs (a node of a cell reading several edges)."""

    def __init__(self, ops: list) -> None:
        super().__init__()
        self.ops = nn.ModuleList(ops)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return sum(op(x) for op in self.ops)


SumOfOps = sb.symbolize(SumOf)


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models: threads only add overhead
    yield
    torch.set_num_threads(threads)


# ---- the toy task: the label is the XOR of two signs, which no linear classifier beats chance on
def xor_data(n: int, seed: int, batch: int = 32) -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=g)
    y = (x[:, 0] * x[:, 1] > 0).long()
    return [(x[i:i + batch], y[i:i + batch]) for i in range(0, n, batch)]


TRAIN, VAL = xor_data(512, 1), xor_data(256, 2)
MLP = 1  # the index of the only candidate that can solve the task


def toy_space() -> object:
    """A linear classifier, an MLP and a tanh of a linear map: only the MLP beats chance."""
    return sb.one_of([Linear(4, 2), Seq(Linear(4, 16), ReLU(), Linear(16, 2)), Seq(Linear(4, 2), Tanh())],
                     name="op")


def adam(lr: float = 0.03):  # noqa: ANN201
    return functools.partial(torch.optim.Adam, lr=lr)


# ---- the supernet --------------------------------------------------------------------------
def test_module_choices_become_mixed_ops_with_one_alpha_per_decision() -> None:
    space = Seq(Linear(4, 16), sb.one_of([ReLU(), Tanh()], name="act"), Linear(16, 2))
    darts = DARTS(space, seed=0, device="cpu")
    model = darts.setup()
    assert isinstance(model[1], MixedOp)
    assert [type(c).__name__ for c in model[1].candidates] == ["ReLU", "Tanh"]
    assert list(darts.decisions) == ["act"]
    assert darts.decisions["act"].alpha.shape == (2,)
    assert all(p is not darts.decisions["act"].alpha for p in model.parameters())
    assert model(torch.randn(3, 4)).shape == (3, 2)


@pytest.mark.parametrize("mode,order", MODES)
def test_gradients_reach_every_architecture_parameter(mode: str, order: int) -> None:
    space = Seq(Linear(4, 16), sb.one_of([ReLU(), Tanh(), Sigmoid()], name="act"),
                Linear(16, sb.one_of([4, 8, 16], name="width")), nn.ReLU(),
                LazyLinear(2))
    darts = DARTS(space, mode=mode, order=order, seed=0, device="cpu", temperature=(1.0, 1.0))
    darts.setup(example=TRAIN[0][0])
    for _ in range(3):  # a sampled path may see no gradient in one step; three are plenty
        _, grads = darts.architecture_gradients(TRAIN[0], VAL[0])
        if all(bool(g.abs().sum() > 0) for g in grads.values()):
            break
    assert set(grads) == {"act", "width"}
    for key, g in grads.items():
        assert torch.isfinite(g).all() and g.abs().sum() > 0, key


def test_second_order_step_matches_the_true_unrolled_gradient() -> None:
    space = Seq(Linear(3, 4), sb.one_of([ReLU(), Tanh(), Sigmoid()], name="act"), Linear(4, 1))
    xi = 0.1
    darts = DARTS(space, order=2, seed=0, device="cpu", dtype=torch.float64, unrolled_lr=xi,
                  weight_optimizer=lambda params: torch.optim.SGD(params, lr=0.05), alpha_init_std=0.5)
    model = darts.setup()
    g = torch.Generator().manual_seed(0)
    xt, xv = torch.randn(8, 3, generator=g, dtype=torch.float64), torch.randn(8, 3, generator=g,
                                                                              dtype=torch.float64)
    yt, yv = xt.sum(1, keepdim=True).sin(), xv.prod(1, keepdim=True)
    _, grads = darts.architecture_gradients((xt, yt), (xv, yv), F.mse_loss)
    alpha = darts.decisions["act"].alpha
    names = [n for n, _ in model.named_parameters()]
    weights = list(model.parameters())
    relax = darts.relaxation

    def unrolled_val_loss(create_graph: bool) -> torch.Tensor:
        relax.set_phase("arch")
        relax.new_pass()
        g_w = torch.autograd.grad(F.mse_loss(model(xt), yt), weights, create_graph=create_graph)
        w2 = {n: w - xi * gw for n, w, gw in zip(names, weights, g_w)}
        relax.new_pass()
        return F.mse_loss(torch.func.functional_call(model, w2, (xv,)), yv)

    exact = torch.autograd.grad(unrolled_val_loss(True), alpha)[0]
    fd = torch.zeros_like(alpha)
    h = 1e-6
    for i in range(alpha.numel()):
        with torch.no_grad():
            alpha[i] += h
        up = float(unrolled_val_loss(False).detach())
        with torch.no_grad():
            alpha[i] -= 2 * h
        down = float(unrolled_val_loss(False).detach())
        with torch.no_grad():
            alpha[i] += h
        fd[i] = (up - down) / (2 * h)
    assert torch.allclose(exact, fd, rtol=1e-5, atol=1e-9)
    assert torch.allclose(grads["act"], exact, rtol=1e-4, atol=1e-8)
    # and the first-order gradient differs from it: the unrolled term is really there
    darts.order = 1
    _, first = darts.architecture_gradients((xt, yt), (xv, yv), F.mse_loss)
    assert not torch.allclose(first["act"], exact, rtol=1e-3)


# ---- results -------------------------------------------------------------------------------
@pytest.mark.parametrize("mode,order", MODES)
def test_darts_picks_the_clearly_best_candidate_in_every_mode(mode: str, order: int) -> None:
    space = toy_space()
    darts = DARTS(space, mode=mode, order=order, seed=0, device="cpu", arch_lr=0.03,
                  weight_optimizer=adam(), temperature=(1.0, 0.3))
    dna = darts.search(TRAIN, VAL, epochs=5)
    validate(sb.dna_spec(space), dna)
    assert dna.to_dict() == {"op": MLP}
    probs = darts.alphas()["op"]
    assert probs[MLP] == max(probs) and abs(sum(probs) - 1) < 1e-5
    assert len(darts.history) == 5 and darts.history[-1]["val_score"] > 0.7
    model = sb.build(sb.materialize(space, dna))
    assert isinstance(model, nn.Sequential) and len(model) == 3


def test_the_derived_dna_is_valid_for_a_conditional_space_with_widths_variants_and_many_of() -> None:
    space = Seq(
        Linear(4, sb.one_of([8, 16], name="hidden")),
        LeakyReLU(negative_slope=sb.one_of([0.0, 0.1, 1.0], name="slope")),
        SumOfOps(ops=sb.many_of(2, [Identity(), ReLU(), Tanh()], name="edges")),
        sb.one_of([Seq(LazyLinear(16), sb.one_of([ReLU(), Tanh()], name="inner")), Identity()],
                  name="block"),
        LazyLinear(2),
    )
    spec = sb.dna_spec(space)
    darts = DARTS(space, seed=0, device="cpu", weight_optimizer=adam(), arch_lr=0.03)
    model = darts.setup(example=TRAIN[0][0])
    assert isinstance(model[0], ChannelMask) and model[0].module.out_features == 16
    assert isinstance(model[1], MixedOp) and len(model[1].candidates) == 3
    assert [type(op).__name__ for op in model[2].ops] == ["MixedOp", "MixedOp"]
    assert set(darts.decisions) == {"hidden", "slope", "edges", "block", "inner"}
    dna = darts.search(TRAIN, VAL, epochs=2)
    validate(spec, dna)
    values = dna.to_dict()
    assert len(values["edges"]) == 2 and len(set(values["edges"])) == 2
    assert ("inner" in values) == (values["block"] == 0)
    program = sb.materialize(space, dna)
    assert sb.is_deterministic(program)
    assert sb.build(program)(torch.randn(5, 4)).shape == (5, 2)


def test_a_width_choice_masks_channels_by_its_weights() -> None:
    space = Seq(Linear(4, sb.one_of([2, 4, 8], name="w")), LazyLinear(1))
    darts = DARTS(space, seed=0, device="cpu")
    model = darts.setup(example=torch.zeros(1, 4))
    mask = model[0]
    x = torch.randn(5, 4)
    darts.relaxation.set_phase("eval")
    with torch.no_grad():
        darts.decisions["w"].alpha.copy_(torch.tensor([0.0, 0.0, math.log(2.0)]))  # p = 1/4, 1/4, 1/2
        out = mask(x)
        full = mask.module(x)
    expected = torch.tensor([1.0, 1.0, 0.75, 0.75, 0.5, 0.5, 0.5, 0.5])
    assert torch.allclose(out, full * expected)
    darts.relaxation.fixed["w"] = (0,)  # a decided width keeps its channels only
    darts.relaxation.new_pass()
    with torch.no_grad():
        assert torch.equal(mask(x)[:, 2:], torch.zeros(5, 6))


def test_shared_names_share_one_alpha_and_one_value() -> None:
    space = Seq(Linear(4, 16), sb.one_of([ReLU(), Tanh()], name="act"), Linear(16, 16),
                sb.one_of([ReLU(), Tanh()], name="act"), Linear(16, 2))
    darts = DARTS(space, seed=0, device="cpu", weight_optimizer=adam(), arch_lr=0.03)
    model = darts.setup()
    assert len(darts.arch_parameters()) == 1
    assert model[1].slots[0][0] is model[3].slots[0][0]
    dna = darts.search(TRAIN, VAL, epochs=1)
    # a name is a decision: DARTS's spec is sb.dna_spec's, with one decision for "act"
    assert darts.spec == sb.dna_spec(space) and list(dna.to_dict()) == ["act"]
    assert darts.spec["act"].occurrences == ("args[1]", "args[3]")
    program = sb.materialize(space, dna)
    assert type(program.args[1]) is type(program.args[3])
    assert sb.eq(darts.materialize(dna), program)


def test_markers_of_one_name_must_be_defined_alike() -> None:
    space = Seq(sb.one_of([ReLU(), Tanh()], name="act"), sb.one_of([ReLU(), Sigmoid()], name="act"))
    with pytest.raises(RelaxationError, match="'act' are one decision but are defined differently"):
        DARTS(space, device="cpu")


def test_unrelaxable_markers_are_listed_in_one_clear_error() -> None:
    space = sb.Dict(
        model=Seq(Linear(4, sb.int_range(4, 16, name="hidden")), ReLU(),
                  Dropout(p=sb.float_range(0.0, 0.5)), LazyLinear(2)),
        act=sb.one_of(["relu", "gelu"], name="act_name"),
        op=sb.one_of([ReLU(), Tanh()], name="op"),
    )
    with pytest.raises(RelaxationError) as info:
        DARTS(space, device="cpu")
    message = str(info.value)
    assert "cannot relax 3 markers" in message
    assert "'model.args[0].out_features' (name 'hidden')" in message and "int_range" in message
    assert "'model.args[2].p'" in message and "float_range" in message
    assert "'act' (name 'act_name')" in message and "outside any torch.nn module" in message
    assert "'op'" not in message.split("\n", 1)[1].split("Decide")[0]  # the module choice is fine
    assert "where=lambda m: not sbt.relaxable(m)" in message and "fixed=" in message
    assert [relaxable(m) for m in sb.query(space, where=lambda v: isinstance(v, sb.Marker)).values()] \
        == [False, False, False, True]


def test_fixed_values_make_a_hybrid_space_searchable_and_the_dna_covers_it_all() -> None:
    space = Seq(Linear(4, sb.int_range(4, 16, name="hidden")), sb.one_of([ReLU(), Tanh()], name="act"),
                Dropout(p=sb.float_range(0.0, 0.5, name="p")), LazyLinear(2))
    darts = DARTS(space, seed=0, device="cpu", fixed={"hidden": 12, "p": 0.25})
    dna = darts.search(TRAIN, VAL, epochs=1)
    validate(sb.dna_spec(space), dna)
    assert dna.to_dict()["hidden"] == 12 and dna.to_dict()["p"] == 0.25
    assert list(darts.decisions) == ["act"]
    with pytest.raises(RelaxationError, match="fixed: no decision named 'nope'"):
        DARTS(space, device="cpu", fixed={"nope": 1, "hidden": 4, "p": 0.1})


def test_the_hybrid_flow_outer_search_then_darts_on_the_rest() -> None:
    space = sb.Dict(
        model=Seq(Linear(4, 16), sb.one_of([ReLU(), Tanh()], name="act"), Linear(16, 2)),
        lr=sb.float_range(1e-3, 1e-1, scale="log", name="lr"),
    )
    rewards = []
    for program, feedback in sb.sample(space, sb.algorithms.Random(seed=0), num_trials=2,
                                       where=lambda m: not relaxable(m)):
        assert not sb.is_deterministic(program.model) and isinstance(program.lr, float)
        dna = DARTS(program.model, seed=0, device="cpu").search(TRAIN[:4], VAL[:2], epochs=1)
        final = sb.materialize(program.model, dna)
        assert sb.is_deterministic(final)
        rewards.append(1.0)
        feedback(1.0)
    assert rewards == [1.0, 1.0]


# ---- single path: one candidate's activations --------------------------------------------------
def test_single_path_runs_one_candidate_per_step_and_keeps_one_path_of_activations() -> None:
    def candidates() -> list:
        return [Seq(Linear(4, 64), ReLU(), Linear(64, 2)), Seq(Linear(4, 64), Tanh(), Linear(64, 2)),
                Seq(Linear(4, 64), Sigmoid(), Linear(64, 2))]

    events: list[tuple[str, int, bool]] = []

    def saved_bytes(mode: str) -> int:
        darts = DARTS(sb.one_of(candidates(), name="op"), mode=mode, seed=0, device="cpu")
        model = darts.setup()
        for i, c in enumerate(model.candidates):
            c.register_forward_hook(lambda m, a, o, i=i: events.append(
                (darts.relaxation.phase, i, torch.is_grad_enabled())))
        total = 0

        def pack(t: torch.Tensor) -> torch.Tensor:
            nonlocal total
            total += t.numel() * t.element_size()
            return t

        x, y = TRAIN[0]
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            darts._weight_step(x, y, F.cross_entropy)
        return total

    full = saved_bytes("softmax")
    assert sorted(i for _, i, _ in events) == [0, 1, 2]
    events.clear()
    single = saved_bytes("single_path")
    assert len(events) == 1 and events[0][2]  # one candidate ran in the weight step
    assert single < full / 2

    darts = DARTS(sb.one_of(candidates(), name="op"), mode="single_path", seed=0, device="cpu")
    model = darts.setup()
    passes: list[list[tuple[str, int, bool]]] = []
    model.register_forward_pre_hook(lambda m, a: passes.append([]))
    for i, c in enumerate(model.candidates):
        c.register_forward_hook(lambda m, a, o, i=i: passes[-1].append(
            (darts.relaxation.phase, i, torch.is_grad_enabled())))
    darts.search(TRAIN[:6], VAL[:2], epochs=2)
    by_phase: dict[str, list] = {"weight": [], "arch": [], "eval": []}
    for p in passes:
        by_phase[p[0][0]].append(p)
    assert len(by_phase["weight"]) == 12 and len(by_phase["arch"]) == 12
    for p in by_phase["weight"] + by_phase["eval"]:
        assert len(p) == 1  # one path
    for p in by_phase["arch"]:
        with_grad = [i for _, i, grad in p if grad]
        without = [i for _, i, grad in p if not grad]
        assert len(with_grad) == 1 and len(without) == 1 and with_grad != without  # ProxylessNAS's two


# ---- selection -----------------------------------------------------------------------------
def test_perturbation_selection_picks_the_op_that_matters_where_magnitude_cannot() -> None:
    space = toy_space()
    # alpha hardly trains, so its magnitude is noise; removing the MLP still hurts most
    darts = DARTS(space, seed=3, device="cpu", arch_lr=1e-7, weight_optimizer=adam(),
                  selection="perturbation", fine_tune_steps=4)
    dna = darts.search(TRAIN, VAL, epochs=3)
    probs = darts.history[-1]["alphas"]["op"]
    assert probs.index(max(probs)) != MLP  # magnitude would have picked another op
    assert dna.to_dict() == {"op": MLP}
    drops = darts.result.selection_scores["op"]
    assert drops[MLP] == max(drops) and drops[MLP] > 0.1
    assert darts.result.selection == "perturbation"


@pytest.mark.parametrize("mode", ["gumbel", "single_path"])
def test_perturbation_selection_in_the_sampling_modes(mode: str) -> None:
    space = toy_space()
    darts = DARTS(space, mode=mode, seed=0, device="cpu", arch_lr=0.03, weight_optimizer=adam(),
                  selection="perturbation", fine_tune_steps=2, temperature=(1.0, 0.3))
    dna = darts.search(TRAIN, VAL, epochs=3)
    assert dna.to_dict() == {"op": MLP}


def test_perturbation_fixes_decisions_one_at_a_time_parents_first() -> None:
    space = Seq(Linear(4, 16), sb.one_of([ReLU(), Identity()], name="a"), Linear(16, 16),
                sb.one_of([Seq(sb.one_of([ReLU(), Tanh()], name="inner"), Linear(16, 2)), Linear(16, 2)],
                          name="head"))
    darts = DARTS(space, seed=0, device="cpu", weight_optimizer=adam(), selection="perturbation",
                  fine_tune_steps=2)
    dna = darts.search(TRAIN, VAL, epochs=1, eval_batches=2)
    validate(sb.dna_spec(space), dna)
    decided = list(darts.result.selection_scores)
    assert decided[:2] == ["a", "head"]
    assert ("inner" in decided) == (dna.to_dict()["head"] == 0)


# ---- failures ------------------------------------------------------------------------------
class _PoisonedLoader:
    """Clean batches, then NaN inputs from epoch ``poison_epoch`` on."""

    def __init__(self, batches: list, poison_epoch: int) -> None:
        self.batches = batches
        self.poison_epoch = poison_epoch
        self.epoch = -1

    def __len__(self) -> int:
        return len(self.batches)

    def __iter__(self):  # noqa: ANN204
        self.epoch += 1
        for x, y in self.batches:
            yield (x * float("nan") if self.epoch >= self.poison_epoch else x), y


def test_a_nan_loss_stops_the_search_and_keeps_the_best_architecture() -> None:
    space = toy_space()
    darts = DARTS(space, seed=0, device="cpu", arch_lr=0.03, weight_optimizer=adam(),
                  selection="perturbation")
    train = _PoisonedLoader(TRAIN, poison_epoch=3)
    with pytest.warns(RuntimeWarning, match="DARTS stopped: the .* loss became nan at epoch 3"):
        dna = darts.search(train, VAL, epochs=6)
    assert darts.result.nan_stopped and "epoch 3" in darts.result.stop_reason
    assert darts.result.selection == "magnitude"
    assert len(darts.history) == 3
    validate(sb.dna_spec(space), dna)
    best = max(darts.history, key=lambda h: h["val_score"])
    assert darts.result.best_epoch == best["epoch"]
    assert darts.alphas()["op"] == pytest.approx(best["alphas"]["op"])
    assert all(math.isfinite(v) for v in darts.alphas()["op"])


def test_a_nan_before_any_epoch_ends_keeps_the_weights_of_the_last_good_step() -> None:
    darts = DARTS(toy_space(), seed=0, device="cpu")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dna = darts.search(_PoisonedLoader(TRAIN, poison_epoch=0), VAL, epochs=2)
    assert any("no epoch had ended" in str(w.message) for w in caught)
    assert darts.result.nan_stopped and darts.history == []
    validate(sb.dna_spec(toy_space()), dna)


# ---- odds and ends -------------------------------------------------------------------------
def test_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="mode"):
        DARTS(toy_space(), mode="fancy")
    with pytest.raises(ValueError, match="order=2"):
        DARTS(toy_space(), mode="single_path", order=2)
    with pytest.raises(ValueError, match="selection"):
        DARTS(toy_space(), selection="vote")
    with pytest.raises(ValueError, match="needs a device"):
        DARTS(toy_space()).setup()


def test_variants_of_different_shapes_say_which_decision() -> None:
    space = Seq(Linear(4, 8), LazyLinear(sb.one_of([2, 3], name="out")), nn.Identity())
    # out_features of LazyLinear is a width (masked), so this works ...
    DARTS(space, device="cpu").setup(example=torch.zeros(1, 4))
    Pad = sbt.nn.ConstantPad1d
    bad = Seq(Pad(padding=sb.one_of([0, 1], name="pad"), value=0.0))
    darts = DARTS(bad, device="cpu")
    with pytest.raises(RuntimeError, match="decision 'pad' give outputs of different shapes"):
        darts.setup()(torch.zeros(2, 3))


def test_zero_op_and_amp_and_history_and_plot(tmp_path) -> None:  # noqa: ANN001
    space = Seq(Linear(4, 16), sb.one_of([ZeroOp(), ReLU()], name="op"), Linear(16, 2))
    darts = DARTS(space, seed=0, device="cpu", amp=True, weight_optimizer=adam())
    darts.search(TRAIN[:4], VAL[:2], epochs=2)
    assert [h["epoch"] for h in darts.history] == [0, 1]
    assert set(darts.history[0]) >= {"train_loss", "val_loss", "val_score", "alphas", "lr"}
    pytest.importorskip("matplotlib")
    path = tmp_path / "alphas.png"
    darts.plot_alphas(str(path))
    assert path.stat().st_size > 1000


def test_a_second_search_continues_and_the_supernet_stays_on_its_device() -> None:
    darts = DARTS(toy_space(), seed=0, device="cpu", arch_lr=0.03)
    darts.search(TRAIN[:4], VAL[:2], epochs=1)
    darts.search(TRAIN[:4], VAL[:2], epochs=2)  # epochs is the whole search: one more epoch
    assert [h["epoch"] for h in darts.history] == [0, 1]
    with pytest.warns(RuntimeWarning, match="nothing to train"):
        darts.search(TRAIN[:4], VAL[:2], epochs=2)
    assert len(darts.history) == 2
    assert all(p.device.type == "cpu" for p in darts.arch_parameters())
    with pytest.raises(ValueError, match="cannot move"):
        darts.setup("meta")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("mode,order", MODES)
def test_on_cuda_everything_stays_on_the_device(mode: str, order: int) -> None:
    darts = DARTS(toy_space(), mode=mode, order=order, seed=0, device="cuda", arch_lr=0.03,
                  weight_optimizer=adam(), temperature=(1.0, 0.3))
    dna = darts.search(TRAIN, VAL, epochs=5)  # CPU batches, moved to the device per step
    assert dna.to_dict() == {"op": MLP}
    assert all(p.is_cuda for p in darts.arch_parameters() + darts.weight_parameters())


def test_a_seed_makes_the_search_repeatable_lazy_modules_included() -> None:
    def run() -> list:
        space = Seq(Linear(4, sb.one_of([8, 16], name="hidden")), sb.one_of([ReLU(), Tanh()], name="act"),
                    LazyLinear(2))
        darts = DARTS(space, mode="gumbel", seed=7, device="cpu", weight_optimizer=adam())
        darts.search(TRAIN[:6], VAL[:2], epochs=2)
        return [darts.alphas(), [p.detach().clone() for p in darts.weight_parameters()]]

    (a1, w1), (a2, w2) = run(), run()
    assert a1 == a2
    assert all(torch.equal(x, y) for x, y in zip(w1, w2))
