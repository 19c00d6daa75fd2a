"""Fresh instances: every materialized program and every build gets its own copies of the
objects in the space, so training one trial never changes the space or the next trial."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import symbo as sb  # noqa: E402
from symbo.backends import torch as sbt  # noqa: E402


def _train(model: nn.Module, steps: int = 30) -> float:
    torch.manual_seed(0)
    x, y = torch.randn(32, 4), torch.randn(32, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
    return loss.item()


def test_a_module_trained_in_one_trial_is_untouched_in_the_next():
    torch.manual_seed(1)
    shared = nn.Linear(4, 1)
    start = shared.weight.detach().clone()
    space = sb.Dict(model=sb.one_of([shared, nn.Sequential(nn.Linear(4, 1))], name="model"),
                    direct=shared, lr=sb.float_range(0.01, 0.1))
    first_losses = []

    def objective(p: sb.Dict) -> float:
        assert p.model is not shared and p.direct is not shared
        if p.model is not p.direct and isinstance(p.model, nn.Linear):
            raise AssertionError("one instance in the space must stay one in a program")
        with torch.no_grad():
            first = float(nn.functional.mse_loss(p.model(torch.ones(2, 4)), torch.zeros(2, 1)))
        first_losses.append(first)
        return -_train(p.model)

    study = sb.tune(objective, space, sb.algorithms.Grid(grid_size=2), num_trials=4)
    assert torch.equal(shared.weight, start)  # the space was never trained
    linear = [i for i, t in enumerate(study.trials) if t.params["model"].startswith("Linear")]
    assert len(linear) >= 2 and first_losses[linear[0]] == first_losses[linear[1]]
    assert study.trials[linear[0]].program.model is not study.trials[linear[1]].program.model


def test_each_build_of_a_program_gets_its_own_instances():
    torch.manual_seed(2)
    program = sb.Dict(model=nn.Linear(4, 1), weight=torch.ones(3))
    before = program.model.weight.detach().clone()
    a, b = sbt.build(program), sbt.build(program)
    assert a.model is not b.model and a.model is not program.model
    _train(a.model)
    assert torch.equal(program.model.weight, before) and torch.equal(b.model.weight, before)
    assert a.weight is not program.weight
