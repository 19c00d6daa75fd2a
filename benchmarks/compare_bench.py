"""Search quality against the peers, made with ``sb.compare``: one run per benchmark.

Run it with the benchmark venv (``make bench`` builds it)::

    OMP_NUM_THREADS=1 nice -n 10 .venv-bench/bin/python benchmarks/compare_bench.py \
        --problem Branin [--seeds 20] [--trials 200] [--gp-seeds 5] [--gp-trials 100] \
        [--gp-first-seed 5] [--only main|gp|auto] [--out benchmarks/data/compare]

For the problem (see :mod:`problems`) it runs, through one ``sb.compare`` call (every
algorithm with every seed, the same budget, all minimizing):

- symbo ``Random``, ``RegularizedEvolution()`` (its defaults), ``TPE()``,
  ``TPE(multivariate=True)``, ``Auto()``; at up to 200 trials ``Auto(seed=s)`` *is*
  ``BOWL(seed=s)`` on finite spaces of choices, ``GaussianProcessBO(seed=s,
  **auto.CONTINUOUS_GP)`` on spaces of ranges only and ``GaussianProcessBO(seed=s)``
  otherwise (the same proposals, checked by ``tests/algorithms/test_auto.py``), so that algorithm's
  row is Auto's; on spaces of choices ``GaussianProcessBO()`` and ``LocalSearch()`` have
  rows too;
- the peers through :mod:`peers`: Optuna ``TPESampler()``, ``TPESampler(multivariate=True,
  group=True)``, PyGlove ``regularized_evolution`` (population 20, tournament 5, uniform
  mutator);

and, in a second ``sb.compare`` call with ``--gp-seeds`` seeds and ``--gp-trials`` trials (it
costs ~0.5-30 s per trial), Optuna's ``GPSampler()``. The comparisons are saved as JSON
(``sb.Comparison.load``) in ``--out``; the script prints the markdown table of BENCHMARKS.md
(mean simple regret with its 95% confidence interval at each budget; ``--only auto`` reruns
Auto's row alone into ``NAME.auto.json``, which then replaces main's Auto row) and the ratio of symbo's
best (and Auto's) mean regret at 100 trials to the best peer's (target <= 0.7).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import peers
import problems

import symbo as sb

TARGET = 0.7
BUDGETS = (25, 50, 100, 200)


def symbo_algorithms(problem: problems.Problem) -> dict[str, sb.algorithms.Algorithm]:
    """symbo's rows for ``problem``; Auto's delegate (BOWL on finite spaces of choices,
    GaussianProcessBO otherwise, for up to 200 trials) is named in its row and not run
    again; on spaces of choices GaussianProcessBO and LocalSearch have rows of their own."""
    a = sb.algorithms
    choices = a.auto.of_choices(sb.dna_spec(problem.space))
    rows = {
        "symbo Random": lambda s: a.Random(seed=s),
        "symbo RegularizedEvolution": lambda s: a.RegularizedEvolution(seed=s),
        "symbo TPE": lambda s: a.TPE(seed=s),
        "symbo TPE multivariate": lambda s: a.TPE(multivariate=True, seed=s),
    }
    if choices:
        rows["symbo GaussianProcessBO"] = lambda s: a.GaussianProcessBO(seed=s)
        rows["symbo LocalSearch"] = lambda s: a.LocalSearch(seed=s)
    rows[f"symbo Auto (= {'BOWL' if choices else 'GaussianProcessBO'})"] = lambda s: a.Auto(seed=s)
    return rows


def peer_algorithms() -> dict[str, sb.algorithms.Algorithm]:
    return {
        "Optuna TPE": lambda s: peers.OptunaSampler(kind="tpe", seed=s),
        "Optuna TPE multivariate+group": lambda s: peers.OptunaSampler(kind="tpe_mv", seed=s),
        "PyGlove regularized evolution": lambda s: peers.PyGloveEvolution(seed=s),
    }


GP_PEER = {"Optuna GPSampler": lambda s: peers.OptunaSampler(kind="gp", seed=s)}


def run(problem: problems.Problem, seeds: int, trials: int, gp_seeds: int,
        out: str, only: str | None = None, gp_trials: int | None = None,
        gp_first_seed: int = 0) -> dict[str, sb.Comparison]:
    """One ``sb.compare`` per label; GPSampler's seeds start at ``gp_first_seed``, and from a
    seed above 0 they are added to the saved ``NAME.gp.json`` (more seeds, same budget)."""
    results = {}
    calls = [("main", {**symbo_algorithms(problem), **peer_algorithms()}, list(range(seeds)),
              trials)]
    if only == "auto":   # Auto's row alone, in NAME.auto.json (it replaces main's Auto row)
        auto = {k: v for k, v in symbo_algorithms(problem).items() if "Auto" in k}
        calls.append(("auto", auto, list(range(seeds)), trials))
    if gp_seeds:
        calls.append(("gp", GP_PEER, list(range(gp_first_seed, gp_first_seed + gp_seeds)),
                      gp_trials or trials))
    for label, algorithms, seed_list, trials in calls:
        if only is not None and label != only:
            continue
        path = os.path.join(out, f"{problem.name}.{label}.json")
        start = time.perf_counter()
        res = sb.compare(problem.objective, problem.space, algorithms, seeds=seed_list,
                         num_trials=trials, objectives=("min",))
        seconds = time.perf_counter() - start
        data = res.to_json()
        if seed_list[0] > 0 and os.path.exists(path):
            with open(path) as f:
                data = _merge(json.load(f), data)
            seconds += data.get("seconds", 0.0)
        data["seconds"] = round(seconds, 1)
        data["problem"] = problem.name
        data["optimum"] = problem.optimum
        with open(path, "w") as f:
            json.dump(data, f)
        print(f"{problem.name} {label}: {seconds:.0f} s", file=sys.stderr, flush=True)
        results[label] = res
    return results


def _merge(old: dict, new: dict) -> dict:
    """``old`` with the seeds of ``new`` added (the same algorithms and budget)."""
    if old["num_trials"] != new["num_trials"] or set(old["values"]) != set(new["values"]):
        raise SystemExit("cannot merge: another budget or other algorithms")
    if set(old["seeds"]) & set(new["seeds"]):
        raise SystemExit(f"cannot merge: seeds {sorted(set(old['seeds']) & set(new['seeds']))} "
                         "are in both")
    merged = dict(old, seeds=old["seeds"] + new["seeds"])
    for key in ("values", "study_names"):
        merged[key] = {k: old[key][k] + new[key][k] for k in old[key]}
    merged["errors"] = {k: {**old["errors"].get(k, {}), **new["errors"].get(k, {})}
                        for k in set(old["errors"]) | set(new["errors"])}
    merged["note"] = f"seeds {old['seeds']} and {new['seeds']} run in separate calls, merged"
    return merged


def load(problem: str, out: str) -> dict[str, tuple[sb.Comparison, dict]]:
    found = {}
    for label in ("main", "gp", "auto"):
        path = os.path.join(out, f"{problem}.{label}.json")
        if os.path.exists(path):
            with open(path) as f:
                data = json.load(f)
            found[label] = (sb.Comparison.from_json(data), data)
    return found


def regret_rows(problem: problems.Problem, found: dict) -> list[dict]:
    rows = []
    for label, (comparison, _data) in found.items():
        for name in comparison.algorithms:
            if label == "main" and "auto" in found and "Auto" in name:
                continue          # rerun alone with Auto's current rule (--only auto)
            row = {"algorithm": name, "seeds": len(comparison.seeds)}
            for b in BUDGETS:
                if b > comparison.num_trials:
                    continue
                low, mean, high = comparison.interval(name, b)
                row[b] = (mean - problem.optimum, low - problem.optimum, high - problem.optimum)
            rows.append(row)
    return rows


def _fmt(v: float) -> str:
    if math.isnan(v):
        return "n/a"
    if abs(v) < 1e-12:     # 1 - accuracy against 1 - best accuracy: rounding, not regret
        v = 0.0
    return f"{v:.3g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.2e}"


def markdown(problem: problems.Problem, rows: list[dict]) -> str:
    budgets = [b for b in BUDGETS if any(b in r for r in rows)]
    head = "| algorithm | seeds | " + " | ".join(f"regret @{b} [95% CI]" for b in budgets) + " |"
    sep = "|---|---:|" + "---:|" * len(budgets)
    lines = [head, sep]
    for r in rows:
        cells = []
        for b in budgets:
            if b in r:
                mean, low, high = r[b]
                ci = "" if math.isnan(low) else f" [{_fmt(max(low, 0.0))}, {_fmt(high)}]"
                cells.append(_fmt(mean) + ci)
            else:
                cells.append("")
        lines.append(f"| {r['algorithm']} | {r['seeds']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def paired(problem: problems.Problem, found: dict, budget: int = 100) -> str:
    """Auto and the best symbo algorithm against GPSampler on GPSampler's own seeds."""
    if "gp" not in found or "main" not in found:
        return ""
    gp, main = found["gp"][0], found["main"][0]
    if budget > min(gp.num_trials, main.num_trials):
        return ""
    peer = float(np.nanmean(gp.final(gp.algorithms[0], budget))) - problem.optimum
    cells = []
    for label in ("main", "auto"):
        if label not in found or budget > found[label][0].num_trials:
            continue
        comparison = found[label][0]
        idx = [comparison.seeds.index(s) for s in gp.seeds if s in comparison.seeds]
        for name in (n for n in comparison.algorithms if n.startswith("symbo")):
            if label == "main" and "auto" in found and "Auto" in name:
                continue          # rerun alone (--only auto)
            mine = float(np.nanmean(comparison.final(name, budget)[idx])) - problem.optimum
            cells.append((mine, name))
    mine, name = min(cells)
    auto = next(m for m, n in cells if "Auto" in n)
    ratio = (lambda a: a / peer if peer > 0 else (1.0 if a == 0 else math.inf))
    return (f"on GPSampler's seeds {gp.seeds}: GPSampler {_fmt(peer)}, Auto {_fmt(auto)} "
            f"({ratio(auto):.2f}x), best symbo: {name} {_fmt(mine)} ({ratio(mine):.2f}x)")


def verdict(rows: list[dict], budget: int = 100) -> dict:
    at = {r["algorithm"]: r[budget][0] for r in rows if budget in r}
    symbo_rows = {k: v for k, v in at.items() if k.startswith("symbo")}
    peer_rows = {k: v for k, v in at.items() if not k.startswith("symbo")}
    best_symbo = min(symbo_rows, key=symbo_rows.get)
    best_peer = min(peer_rows, key=peer_rows.get)
    auto = next(k for k in symbo_rows if "Auto" in k)

    def ratio(a: float, b: float) -> float:
        return a / b if b > 0 else (1.0 if a == 0 else math.inf)

    return {"best_symbo": best_symbo, "best_symbo_regret": at[best_symbo],
            "auto_regret": at[auto], "best_peer": best_peer, "best_peer_regret": at[best_peer],
            "ratio_best": ratio(at[best_symbo], at[best_peer]),
            "ratio_auto": ratio(at[auto], at[best_peer])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--problem", action="append", help="a problem name (repeat); default all")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--gp-seeds", type=int, default=5)
    parser.add_argument("--gp-trials", type=int, help="GPSampler's budget (default: --trials)")
    parser.add_argument("--gp-first-seed", type=int, default=0,
                        help="GPSampler's first seed; above 0 its runs are added to NAME.gp.json")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "data", "compare"))
    parser.add_argument("--report", action="store_true", help="only print the tables of saved runs")
    parser.add_argument("--only", choices=("main", "gp", "auto"), help="run only this comparison")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    names = args.problem or list(problems.PROBLEMS)
    summary = []
    for name in names:
        problem = problems.PROBLEMS[name]
        if not args.report:
            run(problem, args.seeds, args.trials, args.gp_seeds, args.out, args.only,
                args.gp_trials, args.gp_first_seed)
        found = load(name, args.out)
        if not found:
            continue
        rows = regret_rows(problem, found)
        print(f"\n**{name}** ({problem.kind}; optimum {problem.optimum:.6g}"
              + (f"; {problem.note}" if problem.note else "") + ")\n")
        print(markdown(problem, rows))
        seconds = {label: data.get("seconds") for label, (_, data) in found.items()}
        print(f"\nwall time: {seconds}")
        same = paired(problem, found)
        if same:
            print(f"\nPaired at 100 trials {same}")
        if any(100 in r for r in rows):
            summary.append((name, verdict(rows)))
    if summary:
        print("\n| problem | best symbo @100 | regret | Auto regret | best peer @100 | regret "
              "| best symbo / peer | Auto / peer | <= 0.7x |")
        print("|---|---|---:|---:|---|---:|---:|---:|---|")
        for name, v in summary:
            ok = "PASS" if max(v["ratio_best"], v["ratio_auto"]) <= TARGET else "MISS"
            print(f"| {name} | {v['best_symbo']} | {_fmt(v['best_symbo_regret'])} | "
                  f"{_fmt(v['auto_regret'])} | {v['best_peer']} | {_fmt(v['best_peer_regret'])} | "
                  f"{v['ratio_best']:.2f}x | {v['ratio_auto']:.2f}x | {ok} |")
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    raise SystemExit(main())
