"""Setting by setting: what each change to symbo's algorithms does, with ``sb.compare``.

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/settings_bench.py \
        --study gp|tpe|evolution --problem Levy-10 [--problem ...] [--seeds 4] [--trials 100]

``gp``: GaussianProcessBO as in the previous round (no trust region, 3 refine rounds, the
dimension-scaled length-scale prior everywhere, no gradient ascent), then each change of this
round added in turn: the trust region (``trust_region=True``), 6 refine rounds, the length-scale
prior centred on 1 for ranges, the gradient ascent of log EI (= today's defaults).
``tpe``: ``TPE(dedup=False)`` against today's ``TPE()`` (dedup), univariate and multivariate.
``evolution``: ``RegularizedEvolution`` with its ``Uniform`` mutator's ``reset_prob`` at 0.1
(the default), 0.3, 0.5 and 1.0 (PyGlove's uniform re-sampling), population 20 / tournament 5.

Prints the mean simple regret at 25, 50 and the last budget. Needs only symbo (no peers).
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import problems

import symbo as sb
from symbo.algorithms.mutation import Uniform


def gp_variants(space: object) -> dict:
    spec = sb.dna_spec(space)
    ranges = sum(1 for d in spec.decision_points if not isinstance(d, sb.Choice))
    scaled = math.sqrt(2.0) + 0.5 * math.log(max(ranges, 1))   # the old prior, on ranges only
    old = dict(trust_region=False, refine_rounds=3, range_length_prior=scaled, ascent_steps=0)
    steps = [("previous round", {}), ("+ trust region", dict(trust_region=None)),
             ("+ 6 refine rounds", dict(refine_rounds=6)),
             ("+ prior centred on 1", dict(range_length_prior=None)),
             ("+ ascent (today)", dict(ascent_steps=30))]
    out, kw = {}, dict(old)
    for label, change in steps:
        kw = {**kw, **change}
        out[label] = _factory(sb.algorithms.GaussianProcessBO, dict(kw))
    return out


def _factory(cls: type, kwargs: dict) -> object:
    return lambda seed: cls(seed=seed, **kwargs)


def tpe_variants(space: object) -> dict:
    a = sb.algorithms
    return {"TPE(dedup=False)": lambda s: a.TPE(seed=s, dedup=False),
            "TPE() (dedup)": lambda s: a.TPE(seed=s),
            "TPE(multivariate, dedup=False)": lambda s: a.TPE(seed=s, multivariate=True, dedup=False),
            "TPE(multivariate) (dedup)": lambda s: a.TPE(seed=s, multivariate=True)}


def evolution_variants(space: object) -> dict:
    return {f"reset_prob={p}": _factory(sb.algorithms.RegularizedEvolution,
                                        {"mutator": Uniform(reset_prob=p)})
            for p in (0.1, 0.3, 0.5, 1.0)}


STUDIES = {"gp": gp_variants, "tpe": tpe_variants, "evolution": evolution_variants}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--study", choices=sorted(STUDIES), required=True)
    parser.add_argument("--problem", action="append", required=True)
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--trials", type=int, default=100)
    args = parser.parse_args(argv)
    budgets = [b for b in (25, 50) if b < args.trials] + [args.trials]
    print("| problem | setting | seeds | " + " | ".join(f"regret @{b}" for b in budgets) + " |")
    print("|---|---|---:|" + "---:|" * len(budgets))
    for name in args.problem:
        p = problems.PROBLEMS[name]
        algos = STUDIES[args.study](p.space)
        res = sb.compare(p.objective, p.space, algos, seeds=args.seeds, num_trials=args.trials,
                         objectives=("min",))
        for label in algos:
            curves = res.best_so_far(label)
            cells = [f"{np.mean(curves[:, b - 1]) - p.optimum:.3g}" for b in budgets]
            print(f"| {name} | {label} | {args.seeds} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
