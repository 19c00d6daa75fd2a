"""The main job (``symbo demo``): a real architecture and hyperparameter search on CPU.

An MLP classifies scikit-learn's bundled handwritten digits (8x8 images, 10 classes, no
download). The space is an ordinary symbolic config with markers where the choices are:

* architecture: depth 1-3 with a width per layer (a conditional choice: the widths of the
  deeper candidates exist only when those are chosen), activation, dropout;
* training: optimizer, learning rate and weight decay (log scale), batch size.

The search (TPE when available, else regularized evolution) runs trials in worker processes,
reports validation accuracy after every epoch so that ASHA stops unpromising trials early, and
records everything in SQLite: run it again and it continues the same study. Importing this
module needs neither torch nor scikit-learn; the objective imports them when it runs.

>>> import symbo as sb
>>> from symbo import demo
>>> program = sb.random_sample(demo.make_space(epochs=3), seed=0)
>>> program.training.epochs, len(program.model.hidden) in (1, 2, 3)
(3, True)
>>> demo.run_demo(trials=12)  # doctest: +SKIP
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from typing import Any, Literal, TextIO

import symbo as sb

STUDY_NAME = "digits-mlp"
STORAGE = "sqlite:///symbo-demo.db"
EPOCHS = 18
TRIALS = 200
MORE = 50  #: trials a run of the demo adds to a study that has TRIALS already
WIDTHS = [32, 64, 128, 256]
ACTIVATIONS = {"relu": "ReLU", "gelu": "GELU", "tanh": "Tanh", "silu": "SiLU"}


class MLP(sb.Object):
    """A multi-layer perceptron: one hidden layer per width, each followed by the activation
    and dropout."""

    hidden: list[int]
    activation: Literal["relu", "gelu", "tanh", "silu"] = "relu"
    dropout: float = 0.0

    def to_torch(self, in_features: int, num_classes: int) -> Any:
        """The model as an ``sbt.nn.Sequential`` recipe (``sbt.build`` makes the module)."""
        from symbo.backends import torch as sbt

        layers: list[Any] = []
        width = in_features
        for out in self.hidden:
            layers += [sbt.nn.Linear(width, out), getattr(sbt.nn, ACTIVATIONS[self.activation])(),
                       sbt.nn.Dropout(p=self.dropout)]
            width = out
        layers.append(sbt.nn.Linear(width, num_classes))
        return sbt.nn.Sequential(*layers)


class Training(sb.Object):
    """How the model is trained."""

    optimizer: Literal["adam", "adamw", "sgd"] = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    batch_size: int = 64
    epochs: int = EPOCHS

    def to_torch(self) -> Any:
        """The optimizer as an ``sbt.optim`` recipe, bound to the model by ``sbt.build``."""
        from symbo.backends import torch as sbt

        if self.optimizer == "sgd":
            return sbt.optim.SGD(lr=self.lr, momentum=0.9, nesterov=True,
                                 weight_decay=self.weight_decay)
        cls = sbt.optim.AdamW if self.optimizer == "adamw" else sbt.optim.Adam
        return cls(lr=self.lr, weight_decay=self.weight_decay)


class Experiment(sb.Object):
    """One point of the demo's space: a model and how to train it."""

    model: MLP
    training: Training


def make_space(epochs: int = EPOCHS) -> Experiment:
    """The demo's search space (``epochs`` is fixed, not searched).

    >>> spec = sb.dna_spec(make_space())
    >>> sorted(d.name for d in spec.decision_points if d.name)
    ['activation', 'batch_size', 'dropout', 'hidden', 'lr', 'optimizer', 'weight_decay']
    """
    return Experiment(
        model=MLP(
            hidden=sb.one_of([[sb.one_of(WIDTHS) for _ in range(depth)] for depth in (1, 2, 3)],
                              name="hidden"),
            activation=sb.one_of(list(ACTIVATIONS), name="activation"),
            dropout=sb.float_range(0.0, 0.5, name="dropout"),
        ),
        training=Training(
            optimizer=sb.one_of(["adam", "adamw", "sgd"], name="optimizer"),
            lr=sb.float_range(1e-4, 0.3, scale="log", name="lr"),
            weight_decay=sb.float_range(1e-6, 1e-2, scale="log", name="weight_decay"),
            batch_size=sb.one_of([32, 64, 128], name="batch_size"),
            epochs=epochs,
        ),
    )


space = make_space()

_DATA: Any = None


def _data() -> Any:
    """The digits split (80/20, stratified), loaded once per process."""
    global _DATA
    if _DATA is None:
        from symbo.backends import torch as sbt

        _DATA = sbt.datasets.digits(val_fraction=0.2, seed=0)
    return _DATA


def objective(program: Experiment, feedback: Any) -> float | None:
    """Trains the program's MLP on digits and returns its validation accuracy.

    Reports the accuracy after every epoch; when the early-stopping policy says so, stops and
    returns None (the trial is recorded as stopped, with its last reported accuracy). Uses one
    thread, since trials run side by side in worker processes.
    """
    from symbo.backends import torch as sbt

    sbt.use_threads(1)
    sbt.seed_everything(int(feedback.trial_id))
    data = _data()
    built = sbt.build(sb.Dict(model=program.model.to_torch(data.num_features, data.num_classes),
                              optimizer=program.training.to_torch()))
    train_loader, val_loader = data.loaders(program.training.batch_size)

    epochs = program.training.epochs

    def after_epoch(epoch: int, metrics: dict[str, float]) -> bool:
        feedback.report(epoch, metrics["val_accuracy"])
        return epoch < epochs and feedback.should_stop()  # True stops training

    history = sbt.fit(built.model, built.optimizer, train_loader, val_loader, epochs=epochs,
                      callback=after_epoch)
    if len(history) < epochs:
        return None  # stopped early: recorded with its last reported accuracy
    return history[-1]["val_accuracy"]


#: ASHA over epochs: rungs at 2 and 6 epochs (and 18, the last epoch by default, where the
#: objective does not ask), where the top third of trials goes on.
early_stopping = sb.algorithms.ASHA(min_resource=2, reduction_factor=3)


def default_workers() -> int:
    """Two worker processes where there are two cores or more, else one."""
    return 2 if (os.cpu_count() or 1) >= 2 else 1


def run_demo(trials: int | None = None, *, storage: str | None = STORAGE, study_name: str = STUDY_NAME,
             epochs: int = EPOCHS, workers: int | None = None, algorithm: Any = None,
             seed: int = 0, use_early_stopping: bool = True, plot: str | None = "auto",
             quiet: bool = False, out: TextIO | None = None) -> sb.Study:
    """Runs (or continues) the demo search until the study has ``trials`` trials (None: until
    it has ``TRIALS``, or ``MORE`` more when it has them already), then prints the best
    trials, writes the history plot (``plot``: a path, ``"auto"`` for one beside the
    database, None for none) and says how to inspect and resume the study."""
    from symbo import cli

    out = out or sys.stdout
    _check_dependencies()
    workers = workers or default_workers()
    algorithm = algorithm if algorithm is not None else cli.tpe_algorithm(seed)
    demo_space = make_space(epochs)
    where = storage or "memory"
    print(f"symbo demo: searching an MLP for the digits dataset (8x8 images, 10 classes)\n"
          f"  space: depth and widths, activation, dropout, optimizer, lr, weight decay, batch size"
          f" ({epochs} epochs per trial)\n"
          f"  algorithm: {sb.format(algorithm, compact=True, hide_default=True)}"
          f"{', early stopping: ASHA' if use_early_stopping else ''}; {workers} worker(s)\n"
          f"  study: {study_name!r} in {where}", file=out)
    try:
        study = sb.Study.create(demo_space, algorithm, storage=storage, study_name=study_name,
                                load_if_exists=True)
    except sb.StudyMismatchError as e:
        raise sb.StudyMismatchError(
            f"{e}\n(the demo's settings changed: keep them, or pass another --study NAME)"
        ) from None
    before = len(study.trials)
    if trials is None:
        trials = TRIALS if before < TRIALS else before + MORE
    if before >= trials:
        print(f"\nthe study has {before} trials already (asked for {trials}): pass --trials "
              f"{before + 50} to run more", file=out)
    else:
        if before:
            print(f"  continuing: the study has {before} trial(s); adding {trials - before} "
                  f"(until it has {trials})", file=out)
        start = time.perf_counter()
        _warm_up()
        policy = sb.clone(early_stopping) if use_early_stopping else None
        study = sb.tune(objective, demo_space, algorithm, num_trials=trials, study=study,
                        workers=workers, early_stopping=policy, progress=not quiet)
        seconds = time.perf_counter() - start
        print(f"\nadded {len(study.trials) - before} trial(s) in {seconds:.1f} s", file=out)
    print(cli.summary_line(study), file=out)
    cli.print_best(study, k=5, out=out)
    _plot(study, storage, plot, out)
    _instructions(study, storage, trials, demo_options(storage, study_name, epochs), out)
    return study


def demo_options(storage: str | None, study_name: str, epochs: int) -> str:
    """The options of ``symbo demo`` that differ from the defaults (to continue the study).

    >>> demo_options(STORAGE, STUDY_NAME, EPOCHS), demo_options("sqlite:///x.db", "s", 3)
    ('', ' --storage x.db --study s --epochs 3')
    """
    parts = []
    if storage != STORAGE:
        db = storage[len("sqlite:///"):] if storage and storage.startswith("sqlite:///") else storage
        parts.append(f"--storage {db}")
    if study_name != STUDY_NAME:
        parts.append(f"--study {study_name}")
    if epochs != EPOCHS:
        parts.append(f"--epochs {epochs}")
    return "".join(" " + p for p in parts)


def _warm_up() -> None:
    """Imports torch and loads the data once, before worker processes fork (they inherit
    both); one thread, so no thread pool is running when they do."""
    from symbo.backends import torch as sbt

    sbt.use_threads(1)
    _data()


def _check_dependencies() -> None:
    if importlib.util.find_spec("torch") is None:
        raise sb.SymbolicValueError(
            "the demo needs torch: pip install torch (and scikit-learn for the digits)") from None


def _plot(study: sb.Study, storage: str | None, plot: str | None, out: TextIO) -> str | None:
    if plot is None:
        return None
    if plot == "auto":
        base = "symbo-demo"
        if storage and storage.startswith("sqlite:///"):
            base = os.path.splitext(storage[len("sqlite:///"):])[0]
        plot = f"{base}-history.png"
    from symbo.backends import plots

    try:
        plots.plot_history(study, plot)
    except plots.PlotError as e:
        print(f"\n(no plot: {e})", file=out)
        return None
    print(f"\noptimization history plotted to {plot}", file=out)
    return plot


def _instructions(study: sb.Study, storage: str | None, trials: int, options: str,
                  out: TextIO) -> None:
    if not storage or storage.startswith("memory:"):
        print("\n(the study was kept in memory; pass --storage symbo-demo.db to keep it)", file=out)
        return
    db = storage[len("sqlite:///"):] if storage.startswith("sqlite:///") else storage
    name = study.name
    more = max(trials, len(study.trials)) + MORE
    print(f"""
next steps:
  # inspect the study: the studies in the file, its trials, the best ones, plots, a CSV
  symbo show {db}
  symbo show {db} --study {name}
  symbo best {db} --study {name}
  symbo plot {db} --study {name} -o parallel.png --kind parallel
  symbo plot {db} --study {name} -o intermediate.png --kind intermediate
  symbo export {db} --study {name} -o trials.csv
  # continue it: each run of the demo adds {MORE} trials (interrupted runs continue the same way)
  symbo demo{options}
  symbo resume {db} --study {name} --objective symbo.demo:objective --trials {more} --workers 2""",
          file=out)
