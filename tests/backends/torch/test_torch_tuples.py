"""The issue's tuple cases on torch recipes: AdamW ``betas`` and a Conv2d ``kernel_size``."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import symbo as sb  # noqa: E402
from symbo.backends import torch as sbt  # noqa: E402


def test_adamw_betas_with_a_marker_is_searched_and_built():
    space = sb.Dict(model=sbt.nn.Conv2d(3, 4, kernel_size=(sb.one_of([1, 3], name="kh"), 3)),
                    optimizer=sbt.optim.AdamW(lr=1e-3,
                                              betas=(sb.float_range(0.8, 0.95, name="b1"), 0.999)))
    spec = sb.dna_spec(space)
    assert {d.name for d in spec} == {"kh", "b1"}
    study = sb.tune(lambda p: p.optimizer.betas[0], space, sb.algorithms.Random(seed=0),
                    num_trials=3)
    for t in study.trials:
        assert 0.8 <= t.params["b1"] <= 0.95 and t.params["kh"] in (1, 3)
        built = sbt.build(t.program)
        assert built.optimizer.param_groups[0]["betas"] == (t.params["b1"], 0.999)
        assert built.model.kernel_size == (t.params["kh"], 3)
