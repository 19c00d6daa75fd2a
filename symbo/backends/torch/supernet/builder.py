"""Building the supernet of an analysed space: markers become mixed ops, masks and search cells.

>>> import torch, symbo as sb
>>> from symbo.backends import torch as sbt
>>> from symbo.backends.torch.mixed_ops import Relaxation
>>> from symbo.backends.torch.supernet import Analysis, build_supernet, space_spec
>>> space = sbt.nn.Sequential(sbt.nn.Linear(2, 4), sb.one_of([sbt.nn.ReLU(), sbt.nn.Tanh()], name="act"))
>>> analysis = Analysis(space, space_spec(space), {})
>>> relax = Relaxation("softmax")
>>> for state in analysis.states():
...     _ = relax.add(state, device="cpu", dtype=torch.float32)
>>> type(build_supernet(space, analysis, relax)[1]).__name__
'MixedOp'
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from symbo.backends.torch.cells import CellState, SearchCell
from symbo.backends.torch.mixed_ops import (
    ChannelMask,
    DecisionState,
    MixedOp,
    Relaxation,
    variant_assignments,
)
from symbo.backends.torch.supernet.analysis import (
    Analysis,
    MarkerInfo,
    RelaxationError,
    is_module_recipe,
)
from symbo.core import List, Symbolic, build, clone
from symbo.core.formatting import format as sym_format
from symbo.dsl.markers import ManyOf, Marker, OneOf, Permutate


class SupernetBuilder:
    """Builds the supernet of an analysed space: markers become mixed ops and masks."""

    def __init__(self, analysis: Analysis, relaxation: Relaxation, *, max_variants: int = 64) -> None:
        self.analysis = analysis
        self.relaxation = relaxation
        self.max_variants = max_variants

    def relax(self, value: Any) -> Any:
        """A copy of ``value`` with every marker relaxed (mixed ops built), ready to build."""
        if isinstance(value, nn.Module):
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
            plan = self.analysis.cells.get(id(node))
            if plan is not None:
                return self._search_cell(node, plan.weights_key)
            own = [i for i in self.analysis.owned.get(id(node), ()) if i.role in
                   ("variant", "width", "width_in")]
            if own:
                return self._recipe(node, own)
        return node

    def _search_cell(self, recipe: Any, key: str) -> nn.Module:
        state = self._state(key)
        assert isinstance(state, CellState)
        args = {k: build(v) for k, v in recipe.sym_items() if k != "cell"}
        where = str(recipe.sym_path) or "<root>"
        try:
            cell = SearchCell(state, self.relaxation, **args)
        except Exception as e:
            raise RelaxationError(f"{where}: the search cell of {sym_format(recipe, compact=True)[:80]} "
                                  f"fails to build: {type(e).__name__}: {e}") from e
        cell.where = where
        return cell

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


def setup_supernet(space: Any, analysis: Analysis, relaxation: Relaxation, device: torch.device, *,
                   seed: int | None, dtype: torch.dtype | None = None,
                   build_fn: Callable[[Any], Any] | None = None, max_variants: int = 64,
                   alpha_init_std: float = 1e-3, example: tuple[Any, ...] | None = None,
                   lazy_ok: bool = False) -> nn.Module:
    """Builds the supernet on ``device`` with every relaxed decision (and its alpha) registered
    in ``relaxation``; seeded with ``seed`` without touching torch's global random state.

    ``example`` (the model's positional inputs) initializes lazy modules in a dry run where every
    candidate runs; without it, lazy modules are an error unless ``lazy_ok`` (a state dict will
    give them their shapes).
    """
    try:
        with torch.random.fork_rng(devices=[]):
            if seed is not None:
                torch.manual_seed(seed)
            states = analysis.states()
            for state in states:  # registered now, alpha given below (dtype known after build)
                relaxation.decisions[state.key] = state
            model = build_supernet(space, analysis, relaxation, build_fn=build_fn, max_variants=max_variants)
        model = model.to(device=device, dtype=dtype) if dtype else model.to(device)
        alpha_dtype = dtype or next((p.dtype for p in model.parameters() if p.is_floating_point()),
                                    torch.get_default_dtype())
        for state in states:
            relaxation.add(state, device=device, dtype=alpha_dtype, init_std=alpha_init_std)
        # Every forward of the whole supernet recomputes the gates from alpha (the samples of the
        # step stay), also when it is called outside the search.
        model.register_forward_pre_hook(lambda module, args: relaxation.new_pass())
        lazy = any(isinstance(p, nn.parameter.UninitializedParameter) for p in model.parameters())
        if lazy and example is None and not lazy_ok:
            raise ValueError("the supernet has lazy modules (LazyLinear...): pass an input "
                             "batch as setup(example=...) so they get their shapes")
        if lazy and example is not None:  # lazy modules initialize their weights now: seeded too
            on_cpu = device.type == "cpu"
            with torch.random.fork_rng(devices=[] if on_cpu else [device.index or 0],
                                       device_type=None if on_cpu else device.type):
                if seed is not None:
                    torch.manual_seed(seed + 1)
                _dry_run(model, relaxation, example)
    except BaseException:
        relaxation.decisions.clear()
        raise
    return model


def _dry_run(model: nn.Module, relaxation: Relaxation, inputs: tuple[Any, ...]) -> None:
    mode, fixed = relaxation.mode, relaxation.fixed
    relaxation.mode, relaxation.fixed = "softmax", {}  # every candidate runs: lazy modules get shapes
    relaxation.set_phase("eval")
    model.eval()
    try:
        with torch.no_grad():
            model(*inputs)
    finally:
        relaxation.mode, relaxation.fixed = mode, fixed
        model.train()


__all__ = ["SupernetBuilder", "build_supernet", "setup_supernet"]
