"""From a search space to a DARTS supernet, and from architecture weights back to DNA.

Which markers DARTS relaxes (see :func:`relaxable`):

* a ``one_of`` / ``many_of`` whose candidates are all torch modules (recipes of
  ``torch.nn.Module`` subclasses, such as ``sbt.nn.Conv2d(...)`` or ``sb.symbolize(MyBlock)(...)``,
  module instances, or ``one_of`` markers over such): a :class:`~.mixed_ops.MixedOp` holding
  every candidate, built once (per position for a ``many_of``). Candidates may hold markers
  of their own (a conditional space): they are relaxed inside the candidate.
* a ``one_of`` over positive ints standing for a width (``out_channels`` of a convolution,
  ``out_features`` of ``Linear``, ``num_features`` of a batch norm): the module is built at the
  widest width and its output channels masked (:class:`~.mixed_ops.ChannelMask`). The same
  decision's markers at ``in_channels``/``in_features`` are built at the widest width (lazy
  modules, e.g. ``LazyLinear``, infer it).
* any other ``one_of`` over plain values (no markers inside) in the arguments of a module
  recipe (``kernel_size=one_of([3, 5])``, ``p=one_of([0.1, 0.3])`` of ``Dropout``): the recipe
  is built once per value (per combination, for several such markers) and the variants are
  mixed like candidates (sharpDARTS's relaxation of a hyperparameter grid). Variants must map
  an input to outputs of one shape.

Everything else (``float_range``, ``int_range``, ``permutate``, choices outside module
recipes, ``many_of`` over values) cannot be relaxed: DARTS says which and why, and such
markers must be decided before (by an outer search) or given as ``fixed`` values.

>>> import symbo as sb
>>> from symbo.backends import torch as sbt
>>> from symbo.backends.torch.supernet import relaxable
>>> space = sb.Dict(act=sb.one_of([sbt.nn.ReLU(), sbt.nn.Tanh()]),
...                 width=sbt.nn.Linear(4, sb.one_of([8, 16])), lr=sb.float_range(1e-3, 0.1))
>>> [relaxable(m) for m in (space.act, space.width.out_features, space.lr)]
[True, True, False]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs
import torch
from torch import nn

from symbo.backends.torch.mixed_ops import (
    ChannelMask,
    DecisionState,
    MixedOp,
    Relaxation,
    variant_assignments,
)
from symbo.core import ClassWrapper, List, Symbolic, SymbolicValueError, build, clone, eq
from symbo.core.formatting import format as sym_format
from symbo.dsl.dna import DNA, validate
from symbo.dsl.markers import FloatRange, IntRange, ManyOf, Marker, OneOf, Permutate
from symbo.dsl.materialize import is_deterministic
from symbo.dsl.spec import (
    Choice,
    DecisionPoint,
    DNASpec,
    FloatDecision,
    IntDecision,
    Space,
    dna_spec,
    pair_markers,
)

# (module class, argument, channel dimension of the output) for widths that mask outputs;
# (module class, argument) for widths that only take the widest value.
_CONV = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)
PRODUCERS: tuple[tuple[tuple[type, ...], str, int], ...] = (
    (_CONV, "out_channels", 1),
    ((nn.Linear,), "out_features", -1),
    ((nn.modules.batchnorm._BatchNorm,), "num_features", 1),
)
CONSUMERS: tuple[tuple[tuple[type, ...], str], ...] = (
    (_CONV, "in_channels"),
    ((nn.Linear, nn.Bilinear), "in_features"),
    ((nn.Bilinear,), "in1_features"),
    ((nn.Bilinear,), "in2_features"),
)


class RelaxationError(SymbolicValueError):
    """A space DARTS cannot turn into a supernet (the message lists the markers and why)."""


@attrs.define
class MarkerInfo:
    """How the supernet treats one marker of the space."""

    marker: Marker
    decision: DecisionPoint
    key: str  # the decision's name, else its id: markers with one name share one decision
    role: str  # choice | many | width | width_in | variant | fixed | unrelaxable
    reason: str = ""
    owner: Any = None  # the module recipe a width/variant marker belongs to
    dim: int | None = None  # the output channel dimension of a width

    def describe(self) -> str:
        d = self.decision
        name = f" (name {d.name!r})" if d.name is not None else ""
        return f"{d.id!r}{name}: {sym_format(self.marker, compact=True)} - {self.reason}"


# ---- what can be relaxed -----------------------------------------------------------------------
def is_module_recipe(value: Any) -> bool:
    """True for a symbolic recipe that builds a ``torch.nn.Module`` (e.g. ``sbt.nn.Conv2d(...)``)."""
    if not isinstance(value, ClassWrapper):
        return False
    wrapped = value.sym_wrapped
    return isinstance(wrapped, type) and issubclass(wrapped, nn.Module)


def _is_module_like(value: Any) -> bool:
    if isinstance(value, nn.Module) or is_module_recipe(value):
        return True
    if isinstance(value, OneOf):
        return all(_is_module_like(c) for c in value.candidates)
    return False


def _owner(marker: Marker) -> Any:
    """The nearest module recipe above ``marker`` (None when a marker or the root comes first).

    DARTS clones the space it is given, so the walk stops at the space's root."""
    node = marker._sym_parent
    while node is not None:
        if isinstance(node, Marker):
            return None
        if is_module_recipe(node):
            return node
        node = node._sym_parent
    return None


def _classify(marker: Marker) -> tuple[str, str, Any, int | None]:
    """(role, reason when unrelaxable, owner recipe, channel dim) from the marker's own context."""
    if isinstance(marker, Permutate):
        return "unrelaxable", "a permutate (an order) has no differentiable relaxation", None, None
    if isinstance(marker, FloatRange):
        return ("unrelaxable", "a float_range is continuous (a one_of over a few values inside a "
                "module recipe can be relaxed)", None, None)
    if isinstance(marker, IntRange):
        return ("unrelaxable", "an int_range is not relaxed (a one_of over a few values inside a "
                "module recipe can be)", None, None)
    if not isinstance(marker, (OneOf, ManyOf)):
        return "unrelaxable", f"unsupported marker {type(marker).__name__}", None, None
    candidates = list(marker.candidates)
    if all(_is_module_like(c) for c in candidates):
        return ("choice" if isinstance(marker, OneOf) else "many"), "", None, None
    if isinstance(marker, ManyOf):
        return "unrelaxable", "a many_of over values that are not torch.nn modules", None, None
    if any(_is_module_like(c) for c in candidates):
        return "unrelaxable", "its candidates mix torch.nn modules and other values", None, None
    if not all(is_deterministic(c) for c in candidates):
        return "unrelaxable", "a one_of over values that hold markers", None, None
    owner = _owner(marker)
    if owner is None:
        return ("unrelaxable", "a one_of over values outside any torch.nn module recipe (only "
                "module arguments can be relaxed)", None, None)
    key = marker._sym_key
    if marker._sym_parent is owner and all(type(c) is int and c > 0 for c in candidates):
        wrapped = owner.sym_wrapped
        for classes, field, dim in PRODUCERS:
            if key == field and issubclass(wrapped, classes):
                return "width", "", owner, dim
        for classes, field in CONSUMERS:
            if key == field and issubclass(wrapped, classes):
                return "width_in", "", owner, None
    return "variant", "", owner, None


def relaxable(marker: Any) -> bool:
    """True when DARTS can relax ``marker`` where it stands in its space.

    Use it to split a space between an outer black-box search and DARTS:
    ``sb.sample(space, algorithm, where=lambda m: not relaxable(m))`` decides the markers
    DARTS cannot relax and leaves the others for ``DARTS(program, ...)``. A width at
    ``in_channels``/``in_features`` counts as relaxable; DARTS also needs a marker of the same
    name at the ``out_channels``/``out_features`` before it.

    >>> import symbo as sb
    >>> relaxable(sb.float_range(0.0, 1.0)), relaxable(sb.one_of([1, 2]))
    (False, False)
    """
    if not isinstance(marker, Marker):
        return False
    return _classify(marker)[0] != "unrelaxable"


# ---- the spec ----------------------------------------------------------------------------------
def space_spec(space: Any) -> DNASpec:
    """``sb.dna_spec(space)``: markers that share a name are one decision point of it (with
    shared architecture weights); one name with two definitions is a RelaxationError."""
    from symbo.dsl.trace import TracedSpace

    if isinstance(space, TracedSpace):
        raise RelaxationError(
            "DARTS needs a symbolic space (a tree of module recipes with markers), not a traced "
            "(define-by-run) space: its markers are called inside a function, not placed in modules"
        )
    try:
        return dna_spec(space)
    except RelaxationError:
        raise
    except SymbolicValueError as e:
        raise RelaxationError(str(e)) from None


def decision_key(d: DecisionPoint) -> str:
    """The key DARTS files a decision under: its name, else its id."""
    return d.name if d.name is not None else d.id


def normalize_fixed(spec: DNASpec, fixed: Mapping[str, Any] | None) -> dict[str, Any]:
    """``fixed`` ({name or id: value}, as in ``dna.to_dict()``) keyed by decision key."""
    if fixed is None:
        return {}
    out: dict[str, Any] = {}
    for key, value in fixed.items():
        d = spec.by_name.get(key) or spec.by_id.get(key)
        if d is None:
            raise RelaxationError(f"fixed: no decision named {key!r} in this space")
        if isinstance(d, Choice):
            picks = [value] if d.num_choices == 1 else list(value)
            if len(picks) != d.num_choices or not all(
                    type(i) is int and 0 <= i < d.num_candidates for i in picks):
                what = "an index" if d.num_choices == 1 else f"a list of {d.num_choices} indices"
                raise RelaxationError(
                    f"fixed[{key!r}]: expected {what} in [0, {d.num_candidates - 1}], got {value!r}")
        elif isinstance(d, (FloatDecision, IntDecision)) and not d.low <= value <= d.high:
            raise RelaxationError(f"fixed[{key!r}]: expected a value in [{d.low}, {d.high}], got {value!r}")
        out[decision_key(d)] = list(value) if isinstance(value, (list, tuple)) else value
    return out


# ---- the analysis ------------------------------------------------------------------------------
class Analysis:
    """Every marker of a space paired with its decision point, and the role DARTS gives it."""

    def __init__(self, space: Any, spec: DNASpec, fixed: Mapping[str, Any]) -> None:
        self.space = space
        self.spec = spec
        self.fixed = dict(fixed)
        self.infos: dict[int, MarkerInfo] = {}
        self.groups: dict[str, list[MarkerInfo]] = {}
        self.owned: dict[int, list[MarkerInfo]] = {}
        self._walk(space, spec.space)
        self._check_groups()

    def _walk(self, value: Any, space: Space) -> None:
        for marker, d in pair_markers(value, space, self.spec):
            key = decision_key(d)
            if key in self.fixed:
                info = MarkerInfo(marker, d, key, "fixed")
            else:
                role, reason, owner, dim = _classify(marker)
                info = MarkerInfo(marker, d, key, role, reason, owner, dim)
            self.infos[id(marker)] = info
            self.groups.setdefault(key, []).append(info)
            if info.owner is not None:
                self.owned.setdefault(id(info.owner), []).append(info)
            if isinstance(d, Choice):
                candidates = list(marker.candidates)  # type: ignore[attr-defined]
                if info.role == "fixed":
                    value_ = self.fixed[key]
                    indices = sorted(set(value_ if isinstance(value_, list) else [value_]))
                else:
                    indices = list(range(len(candidates)))
                for i in indices:
                    self._walk(candidates[i], d.candidates[i].space)

    def _check_groups(self) -> None:
        for key, infos in self.groups.items():
            roles = {i.role for i in infos}
            if roles & {"fixed", "unrelaxable"}:
                continue
            widths = roles <= {"width", "width_in"}
            if widths and "width" not in roles:
                for i in infos:
                    i.role = "unrelaxable"
                    i.reason = ("a width at in_channels/in_features needs a marker of the same name "
                                "at the out_channels/out_features that feeds it")
                continue
            first = infos[0]
            for other in infos[1:]:
                if widths:
                    same = list(first.marker.candidates) == list(other.marker.candidates)  # type: ignore[attr-defined]
                else:
                    same = len(roles) == 1 and eq(clone(first.marker), clone(other.marker))
                if not same:
                    raise RelaxationError(
                        f"markers named {key!r} are one decision but are defined differently: "
                        f"{sym_format(first.marker, compact=True)} at {first.decision.id!r} and "
                        f"{sym_format(other.marker, compact=True)} at {other.decision.id!r}"
                    )

    @property
    def unrelaxable(self) -> list[MarkerInfo]:
        return [i for i in self.infos.values() if i.role == "unrelaxable"]

    def check(self) -> None:
        """Raises :class:`RelaxationError` listing the markers DARTS cannot relax."""
        bad = self.unrelaxable
        if not bad:
            return
        lines = "\n".join(f"  - {i.describe()}" for i in bad)
        raise RelaxationError(
            f"DARTS cannot relax {len(bad)} marker{'s' if len(bad) > 1 else ''} of this space:\n"
            f"{lines}\n"
            "Decide them first: an outer search decides them and DARTS searches the rest "
            "(for program, feedback in sb.sample(space, algorithm, where=lambda m: not "
            "sbt.relaxable(m)): dna = sbt.DARTS(program, ...).search(...)), or give their "
            "values with DARTS(space, fixed={name_or_id: value})."
        )

    def states(self) -> list[DecisionState]:
        """A fresh :class:`DecisionState` per relaxed decision, in the order of the spec."""
        out = []
        for key, infos in self.groups.items():
            first = infos[0]
            if first.role in ("fixed", "unrelaxable"):
                continue
            d = first.decision
            assert isinstance(d, Choice)
            kind = "width" if first.role == "width_in" else first.role
            values = list(first.marker.candidates) if kind in ("width", "variant") else []  # type: ignore[attr-defined]
            out.append(DecisionState(
                key, kind, d.num_candidates, positions=d.num_choices, distinct=d.distinct,
                sorted=d.sorted, literals=[c.literal for c in d.candidates], values=values))
        return out


# ---- building ----------------------------------------------------------------------------------
class SupernetBuilder:
    """Builds the supernet of an analysed space: markers become mixed ops and masks."""

    def __init__(self, analysis: Analysis, relaxation: Relaxation, *, max_variants: int = 64) -> None:
        self.analysis = analysis
        self.relaxation = relaxation
        self.max_variants = max_variants

    def relax(self, value: Any) -> Any:
        """A copy of ``value`` with every marker relaxed (mixed ops built), ready to build."""
        if isinstance(value, nn.Module):
            import copy

            return copy.deepcopy(value)
        if not isinstance(value, Symbolic):
            return value
        handled = self._handle(value)
        if handled is not value:
            return handled
        return clone(value, replace=self._handle)

    def build_module(self, value: Any, what: str) -> nn.Module:
        tree = self.relax(value)
        module = tree if isinstance(tree, nn.Module) else build(tree)
        if not isinstance(module, nn.Module):
            raise RelaxationError(f"{what} built to {type(module).__name__}, not a torch.nn.Module")
        return module

    def _state(self, key: str) -> DecisionState:
        return self.relaxation.decisions[key]

    def _handle(self, node: Any) -> Any:
        if isinstance(node, Marker):
            return self._marker(node)
        if is_module_recipe(node):
            own = [i for i in self.analysis.owned.get(id(node), ()) if i.role in
                   ("variant", "width", "width_in")]
            if own:
                return self._recipe(node, own)
        return node

    def _marker(self, marker: Marker) -> Any:
        info = self.analysis.infos[id(marker)]
        candidates = list(marker.candidates) if isinstance(marker, (OneOf, ManyOf, Permutate)) else []
        if info.role == "fixed":
            value = self.analysis.fixed[info.key]
            if isinstance(marker, OneOf):
                return self.relax(candidates[value])
            if isinstance(marker, (ManyOf, Permutate)):
                return List([self.relax(candidates[i]) for i in value])
            return value
        if info.role == "choice":
            return self._mixed(marker, candidates, info, None)
        if info.role == "many":
            k = marker.k  # type: ignore[attr-defined]
            return List([self._mixed(marker, candidates, info, pos) for pos in range(k)])
        if info.role in ("width", "width_in"):
            return max(candidates)
        raise RelaxationError(f"cannot relax {info.describe()}")  # pragma: no cover

    def _mixed(self, marker: Marker, candidates: list, info: MarkerInfo, pos: int | None) -> MixedOp:
        modules = [self.build_module(c, f"candidate {i} of {info.decision.id!r}")
                   for i, c in enumerate(candidates)]
        return MixedOp(modules, [(i,) for i in range(len(modules))],
                       [(self._state(info.key), pos)], self.relaxation)

    def _recipe(self, recipe: Any, own: list[MarkerInfo]) -> nn.Module:
        variants = [i for i in own if i.role == "variant"]
        widths = [i for i in own if i.role in ("width", "width_in")]
        keys = list(dict.fromkeys(i.key for i in variants))
        sizes = [self._state(k).num_candidates for k in keys]
        total = 1
        for n in sizes:
            total *= n
        if total > self.max_variants:
            names = ", ".join(repr(k) for k in keys)
            raise RelaxationError(
                f"the recipe {sym_format(recipe, compact=True)[:80]} has {total} variants "
                f"(decisions {names}); more than max_variants={self.max_variants}"
            )
        base = {id(i.marker): max(i.marker.candidates) for i in widths}  # type: ignore[attr-defined]
        modules = []
        assignments = variant_assignments(sizes)
        for assignment in assignments:
            sub = dict(base)
            for info in variants:
                index = assignment[keys.index(info.key)]
                sub[id(info.marker)] = list.__getitem__(info.marker.candidates, index)  # type: ignore[attr-defined]

            def replace(node: Any, sub: dict = sub) -> Any:
                return sub[id(node)] if id(node) in sub else self._handle(node)

            tree = clone(recipe, replace=replace)
            module = build(tree)
            if not isinstance(module, nn.Module):  # pragma: no cover - is_module_recipe said so
                raise RelaxationError(f"{sym_format(recipe, compact=True)} did not build a module")
            modules.append(module)
        module = modules[0] if not keys else MixedOp(
            modules, assignments, [(self._state(k), None) for k in keys], self.relaxation)
        for info in widths:
            if info.role == "width":
                module = ChannelMask(module, self._state(info.key), info.marker.candidates,  # type: ignore[attr-defined]
                                     info.dim or 1, self.relaxation)
        return module


def build_supernet(space: Any, analysis: Analysis, relaxation: Relaxation, *,
                   build_fn: Callable[[Any], Any] | None = None,
                   max_variants: int = 64) -> nn.Module:
    """The supernet module of ``space`` (decisions must already be in ``relaxation``)."""
    builder = SupernetBuilder(analysis, relaxation, max_variants=max_variants)
    tree = builder.relax(space)
    model = (build_fn or build)(tree) if not isinstance(tree, nn.Module) else tree
    if not isinstance(model, nn.Module):
        raise RelaxationError(
            f"the space builds to {type(model).__name__}, not a torch.nn.Module; pass "
            "build_fn= to pick the model out of it (e.g. build_fn=lambda t: sb.build(t)['model'])"
        )
    return model


# ---- back to DNA -------------------------------------------------------------------------------
def derive_dna(spec: DNASpec, values: Mapping[str, Any]) -> DNA:
    """The DNA of ``spec`` taking each decision's value from ``values`` (by decision key).

    Choices take an index (a list of indices for a many_of); decisions under candidates that
    were not chosen are left out, as DNA does.
    """

    def space_dna(space: Space) -> tuple[DNA, ...]:
        children = []
        for d in space.decisions:
            key = decision_key(d)
            if key not in values:
                raise RelaxationError(f"no value for decision {key!r}")  # pragma: no cover
            value = values[key]
            if isinstance(d, Choice):
                picks = [value] if d.num_choices == 1 and not isinstance(value, list) else list(value)
                subs = [DNA(int(i), space_dna(d.candidates[int(i)].space)) for i in picks]
                children.append(subs[0] if d.num_choices == 1 else DNA(None, tuple(subs)))
            else:
                children.append(DNA(value))
        return tuple(children)

    dna = DNA(None, space_dna(spec.space), spec)
    validate(spec, dna)
    return dna


def magnitude_values(states: Mapping[str, DecisionState]) -> dict[str, Any]:
    """Each decision's value by weight magnitude: argmax of alpha, top-k for a many_of."""
    out: dict[str, Any] = {}
    for key, state in states.items():
        p = state.probabilities().to("cpu", torch.float64)
        out[key] = select_from_scores(state, p)
    return out


def select_from_scores(state: DecisionState, scores: torch.Tensor) -> Any:
    """The choice(s) with the highest ``scores`` (a row per position when per-position)."""
    if state.kind != "many":
        return int(torch.argmax(scores))
    k = state.positions
    if state.per_position:
        picks = [int(torch.argmax(scores[pos])) for pos in range(k)]
    elif state.distinct:
        picks = [int(i) for i in torch.argsort(scores, descending=True, stable=True)[:k]]
    else:
        picks = [int(torch.argmax(scores))] * k
    if state.sorted:
        picks.sort()
    return picks if k > 1 else picks[0]


__all__ = [
    "Analysis", "MarkerInfo", "RelaxationError", "SupernetBuilder", "build_supernet", "decision_key",
    "derive_dna", "is_module_recipe", "magnitude_values", "normalize_fixed", "relaxable",
    "select_from_scores", "space_spec",
]
