"""Search control: callbacks, the schedule over the whole search, state dicts (in another
process too), tuple outputs, and the warning when alphas barely move."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import symbo as sb  # noqa: E402
from symbo.backends import torch as sbt  # noqa: E402

nn = torch.nn
Linear, Seq, ReLU, Tanh = sbt.nn.Linear, sbt.nn.Sequential, sbt.nn.ReLU, sbt.nn.Tanh


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def toy_space() -> object:
    return Seq(Linear(4, 8), sb.one_of([ReLU(), Tanh(), sbt.nn.Sigmoid()], name="act"),
               sbt.nn.Dropout(0.1), Linear(8, 2))


def loaders() -> tuple:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(96, 4, generator=g)
    y = (x[:, 0] * x[:, 1] > 0).long()
    dataset = torch.utils.data.TensorDataset(x, y)
    # shuffled: a resumed search must draw the same orders as one run (global random state)
    train = torch.utils.data.DataLoader(dataset, batch_size=16, shuffle=True)
    val = torch.utils.data.DataLoader(dataset, batch_size=32)
    return train, val


def new_darts(mode: str = "softmax", **kwargs) -> sbt.DARTS:  # noqa: ANN003
    return sbt.DARTS(toy_space(), mode=mode, seed=0, device="cpu", arch_lr=0.05,
                     temperature=(2.0, 0.5), **kwargs)


def snapshot(darts: sbt.DARTS) -> list[torch.Tensor]:
    return [*darts.arch_parameters(), *(p.detach().clone() for p in darts.weight_parameters())]


def test_the_callback_runs_after_each_epoch_and_the_schedule_spans_the_whole_search() -> None:
    calls = []
    darts = sbt.DARTS(toy_space(), seed=0, device="cpu")
    train, val = loaders()
    with pytest.warns(UserWarning, match="barely moved|moved by at most"):
        darts.search(train, val, epochs=4, callback=lambda e, d: calls.append((e, d, len(d.history))))
    assert [(e, n) for e, _, n in calls] == [(0, 1), (1, 2), (2, 3), (3, 4)]
    assert all(d is darts for _, d, _ in calls)
    lrs = [h["lr"] for h in darts.history]
    cosine = [1e-3 + (0.025 - 1e-3) * (1 + math.cos(math.pi * (e + 1) / 4)) / 2 for e in range(4)]
    assert lrs == pytest.approx(cosine) and round(lrs[0], 4) == 0.0215 and lrs[-1] == pytest.approx(1e-3)


@pytest.mark.parametrize("mode", ["softmax", "gumbel"])
def test_a_search_stopped_and_restored_into_a_fresh_darts_equals_one_run(mode: str) -> None:
    train, val = loaders()
    torch.manual_seed(123)
    one = new_darts(mode)
    dna_one = one.search(train, val, epochs=4)
    reference = snapshot(one)

    torch.manual_seed(123)
    first = new_darts(mode)
    saved = {}

    def stop_after_two(epoch: int, darts: sbt.DARTS) -> bool:
        if epoch == 1:
            saved["state"] = darts.state_dict()
            return True
        return False

    first.search(train, val, epochs=4, callback=stop_after_two)
    assert first.epoch == 2 and first.result.stopped
    torch.manual_seed(999)  # the restored state brings the random state back
    second = new_darts(mode)
    second.load_state_dict(saved["state"])
    dna_two = second.search(train, val, epochs=4)
    assert dna_two == dna_one
    assert all(torch.equal(a, b) for a, b in zip(reference, snapshot(second)))
    assert [h["lr"] for h in second.history] == [h["lr"] for h in one.history]


def test_a_fresh_darts_restored_from_a_state_answers_without_a_search() -> None:
    train, val = loaders()
    darts = new_darts()
    darts.search(train, val, epochs=2)
    restored = new_darts()
    restored.load_state_dict(darts.state_dict())
    assert restored.alphas() == darts.alphas()
    assert restored.derive() == darts.derive()
    assert len(restored.history) == 2 and restored.epoch == 2
    other = sbt.DARTS(Seq(Linear(4, 8), sb.one_of([ReLU(), Tanh()], name="other"), Linear(8, 2)),
                      seed=0, device="cpu")
    with pytest.raises(ValueError, match=r"another space: the state has decisions \['act'\] where this "
                                         r"search has \['other'\]"):
        other.load_state_dict(darts.state_dict())
    with pytest.raises(ValueError, match="nothing to save yet"):
        new_darts().state_dict()


@pytest.mark.slow
def test_a_state_saved_by_one_process_is_resumed_by_another(tmp_path: Path) -> None:
    script = textwrap.dedent('''
        import sys, torch, symbo as sb
        from symbo.backends import torch as sbt
        torch.set_num_threads(1)
        space = sbt.nn.Sequential(sbt.nn.Linear(4, 8), sb.one_of([sbt.nn.ReLU(), sbt.nn.Tanh()], name="act"),
                                  sbt.nn.Linear(8, 2))
        g = torch.Generator().manual_seed(0)
        x = torch.randn(64, 4, generator=g); y = (x[:, 0] > 0).long()
        data = [(x[i:i + 16], y[i:i + 16]) for i in range(0, 64, 16)]
        darts = sbt.DARTS(space, seed=0, device="cpu", arch_lr=0.05)
        path, part = sys.argv[1], sys.argv[2]
        if part == "first":
            save = lambda e, d: e == 0 and torch.save(d.state_dict(), path)  # noqa: E731
            darts.search(data, data, epochs=3, callback=save)
            print(darts.alphas()["act"])
        else:
            darts.load_state_dict(torch.load(path))  # weights_only=True, the default, reads it
            darts.search(data, data, epochs=3)
            print(darts.alphas()["act"])
    ''')
    (tmp_path / "job.py").write_text(script)
    ckpt = str(tmp_path / "darts.pt")
    runs = [subprocess.run([sys.executable, "job.py", ckpt, part], cwd=tmp_path, capture_output=True,
                           text=True, timeout=120) for part in ("first", "second")]
    for r in runs:
        assert r.returncode == 0, r.stderr[-2000:]
    assert runs[0].stdout.strip() == runs[1].stdout.strip()


def test_candidates_returning_tuples_are_mixed_leaf_by_leaf_or_named_in_the_error() -> None:
    class WithAux(nn.Module):  # nanoGPT-style (logits, loss) outputs
        def __init__(self, act: nn.Module) -> None:
            super().__init__()
            self.fc, self.act = nn.Linear(4, 2), act

        def forward(self, x: torch.Tensor) -> tuple:
            h = self.act(self.fc(x))
            return h, h.pow(2).mean()

    Aux = sb.symbolize(WithAux)
    space = sb.one_of([Aux(act=ReLU()), Aux(act=Tanh())], name="block")
    darts = sbt.DARTS(space, seed=0, device="cpu", arch_lr=0.05)
    train, val = loaders()
    dna = darts.search(train, val, epochs=1, loss_fn=lambda out, y: nn.functional.cross_entropy(out[0], y)
                       + 0.1 * out[1], eval_batches=1)
    assert dna.to_dict()["block"] in (0, 1)
    logits, aux = darts.supernet(torch.randn(3, 4))
    assert logits.shape == (3, 2) and aux.dim() == 0

    class Plain(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x[:, :2]

    class Text(nn.Module):
        def forward(self, x: torch.Tensor) -> object:
            return object()

    mixed = sbt.DARTS(sb.one_of([Aux(act=ReLU()), sb.symbolize(Plain)()], name="block"), device="cpu")
    with pytest.raises(TypeError, match=r"candidates of decision 'block' return different structures "
                                        r"\(candidate 0: \(Tensor\(3, 2\), Tensor\(\)\), candidate 1: "
                                        r"Tensor\(3, 2\)\)"):
        mixed.setup()(torch.randn(3, 4))
    odd = sbt.DARTS(sb.one_of([sb.symbolize(Plain)(), sb.symbolize(Text)()], name="head"), device="cpu")
    with pytest.raises(TypeError, match="candidate 1 of decision 'head' returned object"):
        odd.setup()(torch.randn(3, 4))


def test_a_search_whose_alphas_barely_moved_says_so() -> None:
    train, val = loaders()
    paper = sbt.DARTS(toy_space(), seed=0, device="cpu")  # the paper's arch_lr=3e-4, one short epoch
    with pytest.warns(sbt.SearchWarning, match=r"softmax\(alpha\) moved by at most 0\.00\d+ in 1 epochs.*"
                                              r"close to the initialization.*raise arch_lr") as caught:
        paper.search(train, val, epochs=1)
    assert isinstance(caught[0].message, UserWarning) and isinstance(caught[0].message, RuntimeWarning)
    assert paper.result.alpha_change < 0.01
    moved = new_darts()
    with warnings_as_errors():
        moved.search(train, val, epochs=3)
    assert moved.result.alpha_change > 0.01


class warnings_as_errors:  # noqa: N801 - a small context manager
    def __enter__(self) -> None:
        import warnings

        self._cm = warnings.catch_warnings()
        self._cm.__enter__()
        warnings.simplefilter("error", UserWarning)

    def __exit__(self, *exc: object) -> None:
        self._cm.__exit__(*exc)


def test_amp_means_the_same_for_darts_oneshot_and_fit() -> None:
    darts = new_darts(amp=True)
    darts.setup()
    ws = sbt.OneShot(toy_space(), seed=0, device="cpu", amp=True)
    ws.setup()
    assert darts.precision.dtype is ws.precision.dtype is sbt.Precision(True, "cpu").dtype is torch.bfloat16
    seen = []
    model = nn.Linear(4, 2)
    model.register_forward_hook(lambda m, a, out: seen.append(out.dtype))
    train, val = loaders()
    sbt.fit(model, torch.optim.SGD(model.parameters(), lr=0.1), train, epochs=1, amp=True)
    assert set(seen) == {torch.bfloat16}
    with pytest.raises(ValueError, match="amp with float16 needs order=1"):
        sbt.DARTS(toy_space(), order=2, amp=torch.float16)
    with pytest.raises(TypeError, match=r"unknown setting 'arch_lrr'; the settings are: mode, order, "):
        sbt.DARTS(toy_space(), arch_lrr=1e-3)


def test_the_weight_optimizer_can_take_the_supernets_own_parameter_groups() -> None:
    def groups(model: nn.Module) -> list[dict]:
        matrices = [p for p in model.parameters() if p.dim() >= 2]
        vectors = [p for p in model.parameters() if p.dim() < 2]
        return [{"params": matrices}, {"params": vectors, "weight_decay": 0.0}]

    adamw = sbt.optim.AdamW(params=sbt.param_groups(groups), lr=1e-3, weight_decay=0.1)
    darts = sbt.DARTS(toy_space(), seed=0, device="cpu", weight_optimizer=adamw)
    darts.setup()
    opt = darts.trainer.optimizer
    assert [g["weight_decay"] for g in opt.param_groups] == [0.1, 0.0]
    assert sum(len(g["params"]) for g in opt.param_groups) == len(darts.weight_parameters())
    trained = {id(p) for g in opt.param_groups for p in g["params"]}
    assert not {id(a) for a in darts.arch_parameters()} & trained
