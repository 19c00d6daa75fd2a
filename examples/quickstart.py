"""Quick start: make an existing config symbolic, inspect it, edit it, save and load it.

Run: ``python examples/quickstart.py`` (takes well under a second).
"""

from __future__ import annotations

import fractions
import tempfile
from pathlib import Path

import symbo as sb


class Head(sb.Object):
    """The classifier head of a model."""

    layers: list[int] = [64]
    activation: str = "relu"


class Trainer(sb.Object):
    """A training configuration, as many projects already have one."""

    lr: float = 1e-3
    optimizer: str = "adam"
    epochs: int = 10
    head: Head | None = None


@sb.symbolize
def schedule(step: int, warmup: int = 100, peak: float = 1.0) -> float:
    """A learning-rate multiplier: linear warm-up, then constant."""
    return peak * min(1.0, (step + 1) / warmup)


def main() -> None:
    trainer = Trainer(lr=0.01, head=Head(layers=[128, 64]))
    print("the program:\n" + sb.format(trainer))

    # Query: every learning-rate-like or layer-width value, by key path.
    print("\nint leaves:", {str(k): v for k, v in sb.query(trainer, where=lambda v: type(v) is int).items()})

    # Edit in place, validated and atomic.
    trainer.rebind({"head.layers[0]": 256, "optimizer": "sgd"})
    try:
        trainer.rebind({"head.layers[1]": "wide", "epochs": 20})
    except sb.SymbolicTypeError as e:
        print("\nrejected edit:", e)
    assert trainer.epochs == 10, "a failed rebind changes nothing"

    # Compare with the defaults.
    print("\ndiff against defaults:")
    for path, d in sb.diff(Trainer(head=Head()), trainer).items():
        print(f"  {path}: {d.left!r} -> {d.right!r}")

    # A symbolized function is a functor: bind now, call later, edit in between.
    warm = schedule(warmup=10)
    print("\nschedule at steps 0, 4, 20:", [round(warm(s), 2) for s in (0, 4, 20)])
    warm.rebind(peak=0.5)
    print("after rebind(peak=0.5):  ", [round(warm(s), 2) for s in (0, 4, 20)])

    # A third-party class becomes a symbolic recipe that builds the real object.
    Fraction = sb.symbolize(fractions.Fraction)
    recipe = Fraction(3, 4)
    print("\nrecipe:", recipe, "-> built:", recipe.build())

    # Save and load as JSON: types are resolved through the registry only.
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "trainer.json"
        sb.save(trainer, path)
        loaded = sb.load(path)
    print("\nJSON round trip equal:", sb.eq(loaded, trainer),
          "| hash equal:", sb.hash(loaded) == sb.hash(trainer))


if __name__ == "__main__":
    main()
