"""Compare search algorithms fairly: every algorithm with every seed under the same budget.

A small mixed space (a log-scale float, an int and a choice with a conditional sub-decision)
with a cheap objective to minimize. ``sb.compare`` runs each algorithm once per seed, each run
a study in one SQLite file (run the script again and it reads the finished runs back), then
prints the mean best value so far with its 95% confidence interval and draws the curves.

    python examples/compare_algorithms.py
"""

import math

import symbo as sb

space = sb.Dict(
    lr=sb.float_range(1e-4, 1e-1, scale="log"),
    layers=sb.int_range(1, 6),
    head=sb.one_of(["linear", sb.Dict(kind="mlp", width=sb.int_range(8, 64))]),
)


def objective(p):
    """A made-up validation loss: best near lr=3e-3, 3 layers, an MLP head 32 wide."""
    loss = (math.log10(p.lr) + 2.5) ** 2 + 0.1 * (p.layers - 3) ** 2
    return loss + (0.3 if p.head == "linear" else 0.002 * abs(p.head.width - 32))


if __name__ == "__main__":
    result = sb.compare(
        objective, space,
        {"Random": lambda seed: sb.algorithms.Random(seed=seed),
         "TPE": lambda seed: sb.algorithms.TPE(seed=seed),
         "Auto": lambda seed: sb.algorithms.Auto(seed=seed)},
        seeds=5, num_trials=30, objectives=("min",), storage="sqlite:///compare.db",
    )
    print(result.format())
    low, mean, high = result.interval("Auto", 30)
    print(f"Auto after 30 trials: {mean:.4f} (95% CI {low:.4f} to {high:.4f})")
    try:
        result.plot("compare.png", log=True)
        print("wrote compare.png")
    except sb.SymbolicValueError as e:      # matplotlib missing
        print(e)
    result.save("compare.json")
