"""PyGlove's API in symbo: a config edited by rules, inspected and shipped as JSON; then a
space with a custom decision and a derived value, a program encoded back to its DNA, and
PyGlove-style define-by-run.

Run: python examples/pyglove_parity.py  (a second or so, CPU only)
"""

from __future__ import annotations

import typing
from typing import Any

import symbo as sb


class Optimizer(sb.Object):
    name: str = "sgd"
    lr: float = 0.1


class Layer(sb.Object):
    units: int
    kind: typing.Final[str] = "dense"  # frozen: always "dense"
    __kwargs__: Any  # layers take extra keyword fields (activation, dropout, ...)


class WideLayer(Layer):
    units = 512  # a new default for the inherited field


class Trainer(sb.Object):
    optimizer: Optimizer = Optimizer()
    layers: list[Layer] = []
    epochs: int = 10


@sb.patcher
def learning_rate(trainer, lr: float):
    """Sets the learning rate."""
    return {"optimizer.lr": lr}


@sb.patcher
def deeper(trainer, extra: int = 1, units: int = 64):
    """Appends ``extra`` layers, and checks later patches keep at least two layers."""
    def validate(value):
        if len(value.layers) < 2:
            raise ValueError("a deeper trainer keeps at least two layers")
    n = len(trainer.layers)
    return {f"layers[{n + i}]": Layer(units) for i in range(extra)}, validate


@sb.symbolize
def schedule(step, base_lr=0.1, decay=0.5):
    return base_lr * decay ** step


def main() -> None:
    trainer = Trainer(layers=[WideLayer(activation="relu"), Layer(128, dropout=0.1)])
    heard: list[str] = []
    watched = sb.Dict(trainer=trainer, onchange_callback=lambda u: heard.extend(map(str, u)))

    # Rules from a command line: named patchers with arguments in a URI.
    sb.patch(watched.trainer, ["learning_rate?lr=0.01", "deeper?extra=2&units=32"])
    print("patched:", sb.format(watched.trainer, compact=True))
    print("changes heard by the parent:", heard)

    # One rebind: every path means the tree as it was before the edit.
    watched.trainer.rebind({"layers[0]": sb.MISSING, "layers[1].units": 96,
                            "layers[2]": sb.Insertion(Layer(48))})
    print("units after the batch edit:", [layer.units for layer in watched.trainer.layers])

    # Inspection.
    dense = watched.sym_descendants(lambda v: isinstance(v, Layer))
    print("layers found:", len(dense), "| first layer's ancestor:",
          type(dense[0].sym_ancestor(lambda n: isinstance(n, Trainer))).__name__)
    print("query with the parent:", sorted(str(p) for p in sb.query(
        watched, where=lambda v, parent: isinstance(parent, Layer) and v == 32)))
    print("diff against the default trainer:",
          {str(k): v for k, v in sb.diff(Trainer(), watched.trainer).items()})

    # Functors: call-time arguments as PyGlove binds them.
    lr = schedule(decay=0.9)
    print("schedule(decay=0.9)(3) =", round(lr(3), 4), "| specified:", sorted(lr.specified_args),
          "| defaults:", sorted(lr.default_args))

    # JSON that hides defaults, and a reader without this module's classes.
    data = sb.to_json(watched.trainer, hide_default_values=True)
    data["_type"] = "another_team.Trainer"  # a type this process has never heard of
    loaded = sb.from_json(data, convert_unknown=True)
    print("read as plain data:", loaded.type_name, "with", len(loaded["layers"]), "layers")


class Kernel(sb.CustomHyper):
    """A convolution kernel written as a genome like "3x5" (a user-defined decision)."""

    def custom_decode(self, dna):
        height, width = dna.value.split("x")
        return (int(height), int(width))

    def custom_encode(self, value):
        return sb.DNA(f"{value[0]}x{value[1]}")

    def random_dna(self, rng=None, previous_dna=None):
        return sb.DNA(f"{rng.choice([1, 3, 5])}x{rng.choice([1, 3, 5])}")


def spaces() -> None:
    space = sb.Dict(
        kernel=Kernel(name="kernel"),
        width=sb.one_of([32, 64, 128], name="width"),
        head=sb.Dict(units=sb.ValueReference("width")),  # always the chosen width
    )
    program = sb.random_sample(space, seed=1)
    dna = sb.encode(space, program)
    print("sampled:", sb.format(program, compact=True), "| its DNA:", dna)
    print("DNA by name:", dna["width"], "| literal:", dna.to_numbers(flatten=False))
    study = sb.tune(lambda p: -abs(p.kernel[0] - 3) + p.width / 128, space,
                    sb.algorithms.RegularizedEvolution(population_size=6, tournament_size=3,
                                                       seed=0), num_trials=20)
    print("evolution over the custom decision, best:", study.best_trial.params)

    # PyGlove's define-by-run: collect the markers once, then apply any DNA.
    def model():
        act = sb.one_of(["relu", lambda: f"leaky({sb.float_range(0.0, 0.3, name='slope')})"],
                        name="act")
        return act, sb.one_of([1, 2, 4], name="layers")

    context = sb.DynamicEvaluationContext()
    with context.collect():
        model()
    print("collected:", list(context.hyper_dict), "| applied:",
          [_applied(context, model, dna) for dna in (sb.DNA([0, 2]), sb.DNA([(1, 0.2), 0]))])


def _applied(context, fn, dna):
    with context.apply(dna):
        return fn()


if __name__ == "__main__":
    main()
    spaces()
