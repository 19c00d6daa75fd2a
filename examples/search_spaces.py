"""Search spaces: annotate an existing training config two ways, then sample it.

1. Symbolic: write markers where values were, in the config objects.
2. Define-by-run: call named markers inline in ordinary training code, then ``sb.trace`` it.
Both give a DNA spec that any algorithm can search; the same space also has a text form.

Run: ``python examples/search_spaces.py`` (well under a second).
"""

from __future__ import annotations

import symbo as sb


# ---- the config the project already had ---------------------------------------------------
class ConvBlock(sb.Object):
    kernel: int = 3
    filters: int = 32
    activation: str = "relu"
    dropout: float = 0.0


class Optimizer(sb.Object):
    name: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.0


class Config(sb.Object):
    blocks: list[ConvBlock] = []
    optimizer: Optimizer = Optimizer()
    batch_size: int = 64


def symbolic_space() -> Config:
    """Way 1: markers in the config (a conditional space: momentum only for SGD)."""
    block = ConvBlock(
        kernel=sb.one_of([1, 3, 5]),
        filters=sb.one_of([16, 32, 64]),
        activation=sb.one_of(["relu", "gelu"]),
        dropout=sb.float_range(0.0, 0.5),
    )
    return Config(
        blocks=[block, sb.clone(block)],
        optimizer=sb.one_of([
            Optimizer(name="adam", lr=sb.float_range(1e-4, 1e-2, scale="log", name="adam_lr")),
            Optimizer(name="sgd", lr=sb.float_range(1e-3, 1e-1, scale="log", name="sgd_lr"),
                      momentum=sb.float_range(0.0, 0.99, name="momentum")),
        ], name="optimizer"),
        batch_size=sb.one_of([32, 64, 128], name="batch_size"),
    )


def train(epochs: int = 1) -> str:
    """Way 2: the training code itself, with named markers inline (define-by-run)."""
    depth = sb.int_range(1, 4, name="depth")
    width = sb.one_of([32, 64, 128], name="width")
    lr = sb.float_range(1e-4, 1e-1, scale="log", name="lr")
    # ... build and train a model here; we return a summary instead.
    return f"{depth} layers x {width} units, lr={lr:.2g}, {epochs} epoch(s)"


def main() -> None:
    space = symbolic_space()
    spec = sb.dna_spec(space)
    print(f"symbolic space: {len(spec.decision_points)} decision points, "
          f"{len(spec.decisions)} at the top level; size {spec.space_size}")
    for seed in range(2):
        dna = sb.random_dna(spec, seed)
        program = sb.materialize(space, dna, spec=spec)
        print(f"\nsample {seed}: {dna}\n{sb.format(program)}")
        print("named decisions:", {k: v for k, v in dna.to_dict().items() if "." not in k})

    traced = sb.trace(train)
    tspec = sb.dna_spec(traced)
    print(f"\ntraced space: {[d.name for d in tspec.decision_points]}")
    for seed in range(3):
        program = sb.materialize(traced, sb.random_dna(tspec, seed))
        print("  run:", program(epochs=2))

    # The same symbolic space in the text language, and back.
    text = sb.format(space.optimizer)
    print("\noptimizer space as text:\n" + text)
    assert sb.eq(sb.parse(text), space.optimizer)

    # A finite space can be enumerated.
    small = sb.Dict(kernel=sb.one_of([1, 3]), act=sb.one_of(["relu", "gelu"]))
    print("\nall points of a small space:", [sb.format(p) for p in sb.iterate(small)])

    # A graph-shaped space: a DAG cell; isomorphic cells share a hash.
    cell_space = sb.dag_cell(num_nodes=3, ops=["conv3x3", "conv5x5", "maxpool"])
    cells = [sb.random_sample(cell_space, seed) for seed in range(20)]
    unique = {sb.graph_hash(c) for c in cells}
    print(f"\n20 random cells, {len(unique)} distinct up to isomorphism; "
          f"space size {sb.dna_spec(cell_space).space_size}")


if __name__ == "__main__":
    main()
