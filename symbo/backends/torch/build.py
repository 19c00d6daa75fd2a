"""``sbt.build``: a materialized program becomes real torch objects on a device.

Recipes (``sbt.nn.*``, ``sbt.optim.*``, your symbolized classes) are built depth first; every
module is created under ``torch.device(device)`` and moved there with ``.to(device, dtype)``,
and tensors in the program are moved too, so nothing stays behind on the CPU.

* An optimizer recipe without ``params`` is bound to the parameters of the model beside it:
  its sibling under the key ``model``, else the one sibling module that has parameters (looking
  one level further up each time none is found). With ``params=fn``, a callable, it is bound
  to ``fn(model)``: parameter groups (a list of dicts, as torch optimizers take them), or an
  optimizer whose groups are taken (the model's own, e.g. nanoGPT's no-decay groups through
  ``params=sbt.param_groups("configure_optimizers", weight_decay=0.1, ...)``). A scheduler
  without ``optimizer`` is bound to the optimizer beside it the same way.
* A functor whose arguments are all bound (``sb.symbolize(resnet18)(num_classes=10)``) is
  called, and what it returns is built; one with arguments left unbound stays a function.
* A ``sb.Cell`` (a materialized ``sb.dag_cell``) stays as it is, for ``sbt.DagCell``.
* ``example_input`` (a tensor, or a shape with the batch dimension) runs the model once in eval
  mode without gradients: lazy modules (``LazyLinear``, ``LazyConv2d``...) get their shapes,
  and a choice that makes an invalid network fails at once with a :class:`NetworkError` naming
  the key path of the failing module in the program and the decisions that set its arguments
  (pass ``space=`` and/or ``dna=`` for decision names). Without it, lazy modules stay lazy.
* A symbolic dict or object becomes a :class:`Built` dict whose keys are also attributes.
* Module and tensor instances in the program are copied (``copy.deepcopy``, once per build:
  one instance used twice stays one), so that training what was built never changes the
  program, and each build of it starts from the same weights.

>>> import symbo as sb
>>> from symbo.backends import torch as sbt
>>> space = sb.Dict(
...     model=sbt.nn.Sequential(sbt.nn.LazyLinear(sb.one_of([16, 32], name="width")),
...                             sbt.nn.ReLU(), sbt.nn.LazyLinear(10)),
...     optimizer=sbt.optim.Adam(lr=sb.float_range(1e-4, 1e-2, scale="log", name="lr")))
>>> built = sbt.build(sb.random_sample(space, seed=1), device="cpu", example_input=(2, 64))
>>> built.model[0].weight.shape, built.optimizer.param_groups[0]["params"][0] is built.model[0].weight
(torch.Size([16, 64]), True)
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from symbo.backends.torch.cells import _CellModule
from symbo.backends.torch.lr_scheduler import is_scheduler_class
from symbo.backends.torch.param_groups import groups_from, is_groups_fn
from symbo.core import (
    MISSING,
    ClassWrapper,
    Dict,
    Functor,
    KeyPath,
    List,
    Object,
    Symbolic,
    SymbolicError,
    SymbolicValueError,
)
from symbo.core.formatting import format as sym_format
from symbo.dsl import DNA, Cell, Marker, dna_spec

DeviceLike = str | torch.device


class BuildError(SymbolicValueError):
    """A program that cannot be built: markers left, an optimizer with no model to bind to.

    >>> import symbo as sb
    >>> from symbo.backends import torch as sbt
    >>> sbt.build(sb.Dict(optimizer=sbt.optim.SGD(lr=-1.0), model=sbt.nn.Linear(2, 2)))
    Traceback (most recent call last):
    ...
    symbo.backends.torch.build.BuildError: optimizer: SGD(lr=-1.0) fails: ValueError: Invalid learning rate...
    """


class NetworkError(BuildError, RuntimeError):
    """A network that fails to build, or to run on the example input.

    ``path`` is the key path of the failing module's recipe in the program, ``module_name``
    its name inside the model (as in ``named_modules``), ``decisions`` the decisions (name or
    id to value) that set its arguments, and ``input_decisions`` those of the module that ran
    just before it (where its input came from).

    >>> import symbo as sb
    >>> from symbo.backends import torch as sbt
    >>> net = sbt.nn.Sequential(sbt.nn.Linear(4, 8), sbt.nn.Linear(4, 2))
    >>> try:
    ...     sbt.build(net, example_input=(1, 4))
    ... except sbt.NetworkError as e:
    ...     print(e.path, e.module_name)
    args[1] 1
    """

    def __init__(self, message: str, *, path: KeyPath | None = None, module_name: str | None = None,
                 decisions: dict[str, Any] | None = None,
                 input_decisions: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.reason = message
        self.module_name = module_name
        self.decisions = decisions or {}
        self.input_decisions = input_decisions or {}


class Built(dict):
    """The built form of a symbolic dict or object: a dict whose keys are also attributes.

    >>> from symbo.backends.torch.build import Built
    >>> b = Built(model=1, epochs=3)
    >>> b.epochs, b["model"]
    (3, 1)
    """

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"no entry {name!r} (entries: {', '.join(map(str, self))})") from None

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *(k for k in self if isinstance(k, str))})

    def __repr__(self) -> str:
        return f"Built({dict.__repr__(self)})"


def build(
    program: Any,
    device: DeviceLike = "cpu",
    dtype: torch.dtype | None = None,
    *,
    example_input: Any = None,
    space: Any = None,
    dna: DNA | None = None,
) -> Any:
    """Builds ``program`` (a materialized program, no markers left) into torch objects.

    ``device`` receives every module and tensor (``"meta"`` builds shapes without memory);
    ``dtype`` converts floating-point parameters, buffers and tensors. ``example_input`` (a
    tensor, a tuple of tensors, or a shape) dry-runs the model (the program itself when it is
    a module, else its entry ``model``, else its one module). ``space``/``dna``: where the
    program came from, to name decisions in errors.

    >>> import symbo as sb
    >>> from symbo.backends import torch as sbt
    >>> net = sbt.build(sbt.nn.Sequential(sbt.nn.Linear(4, 8), sbt.nn.ReLU()), device="meta")
    >>> net[0].weight.device
    device(type='meta')
    >>> sbt.build(sbt.nn.Linear(4, sb.one_of([8, 16])))
    Traceback (most recent call last):
    ...
    symbo.backends.torch.build.BuildError: cannot build a program with markers left; ...: one_of([8, 16])
    """
    left = _markers(program, KeyPath())
    if left:
        listed = "; ".join(f"{p or '<root>'}: {sym_format(m, compact=True)}" for p, m in left[:10])
        more = f" (and {len(left) - 10} more)" if len(left) > 10 else ""
        raise BuildError(
            "cannot build a program with markers left; materialize it first (sb.materialize, "
            f"sb.random_sample, sb.sample): {listed}{more}"
        )
    builder = _Builder(torch.device(device), dtype, program, space, dna)
    with torch.device(builder.device):
        built = builder.value(program, KeyPath())
        if example_input is not None:
            builder.dry_run(built, example_input)
        builder.bind_deferred()
    return built


# ---- finding markers ---------------------------------------------------------------------------
def _markers(value: Any, path: KeyPath) -> list[tuple[KeyPath, Any]]:
    """Markers anywhere in ``value``, tuples and plain containers included."""
    if isinstance(value, Marker):
        return [(path, value)]
    out: list[tuple[KeyPath, Any]] = []
    if isinstance(value, Symbolic):
        for key, child in value.sym_items():
            out += _markers(child, path + key)
    elif isinstance(value, (tuple, list)):
        for i, child in enumerate(value):
            out += _markers(child, path + i)
    elif isinstance(value, Mapping):
        for key, child in value.items():
            out += _markers(child, path + key)
    return out


# ---- the builder -------------------------------------------------------------------------------
class _Deferred:
    """An optimizer waiting for parameters, or a scheduler waiting for an optimizer."""

    __slots__ = ("recipe", "path", "container", "key", "kind")

    def __init__(self, recipe: ClassWrapper, path: KeyPath, container: Any, key: Any, kind: str):
        self.recipe = recipe
        self.path = path
        self.container = container
        self.key = key
        self.kind = kind  # "params" or "optimizer"


def _wants(value: Any) -> str | None:
    """``"params"`` for an optimizer recipe without params, ``"optimizer"`` for a scheduler
    recipe without an optimizer, else None."""
    if not isinstance(value, ClassWrapper):
        return None
    cls = value.sym_wrapped
    if issubclass(cls, torch.optim.Optimizer):
        first = value.sym_schema().positional[:1]
        if first and (getattr(value, first[0]) is MISSING or is_groups_fn(getattr(value, first[0]))):
            return first[0]
    elif is_scheduler_class(cls) and getattr(value, "optimizer", None) is MISSING:
        return "optimizer"
    return None


class _Builder:
    def __init__(self, device: torch.device, dtype: torch.dtype | None, program: Any, space: Any,
                 dna: DNA | None) -> None:
        self.device = device
        self.dtype = dtype
        self.program = program
        self.space = space
        self.dna = dna
        self.recipes: dict[int, tuple[KeyPath, ClassWrapper, nn.Module]] = {}  # id(module) -> ...
        self.containers: dict[KeyPath, Any] = {}
        self.deferred: list[_Deferred] = []
        self.in_recipe = 0
        self.optimizer: torch.optim.Optimizer | None = None  # bound into nested schedulers
        self.memo: dict = {}  # instances in the program are copied once per build
        self._decision_table: list[tuple[str, KeyPath, Any]] | None = None

    # -- values ---------------------------------------------------------------------------------
    def value(self, value: Any, path: KeyPath) -> Any:
        if isinstance(value, ClassWrapper):
            if self.wants(value):  # not in a dict, list or object where it could be bound
                thing, missing, beside = (("scheduler", "an optimizer", "optimizer")
                                          if self.wants(value) == "optimizer"
                                          else ("optimizer", "params", "model"))
                raise BuildError(
                    f"{path or '<root>'}: this {thing} has no {missing}; it is bound only as an "
                    f"entry of a dict, list or object beside the {beside} (not as an argument "
                    f"of another recipe); otherwise pass {missing} explicitly"
                )
            return self.recipe(value, path)
        if isinstance(value, List):
            return self.container(enumerate(list.__iter__(value)), path, [])
        if isinstance(value, Dict):
            return self.container(dict.items(value), path, Built())
        if isinstance(value, Functor):
            return self.functor(value, path)
        if isinstance(value, Cell):
            return value
        if isinstance(value, Object):
            return self.container(value.sym_items(), path, Built())
        if isinstance(value, torch.Tensor):  # a copy: training the build leaves the program as is
            return self.tensor(copy.deepcopy(value, self.memo))
        if isinstance(value, nn.Module):
            return self.move(copy.deepcopy(value, self.memo))
        if type(value) is tuple:
            return tuple(self.value(v, path + i) for i, v in enumerate(value))
        if type(value) is list:
            return [self.value(v, path + i) for i, v in enumerate(value)]
        if isinstance(value, Mapping) and not isinstance(value, Symbolic):
            try:
                return type(value)((k, self.value(v, path + k)) for k, v in value.items())
            except TypeError:
                return {k: self.value(v, path + k) for k, v in value.items()}
        return value

    def wants(self, value: Any) -> str | None:
        """What ``value`` waits for (see ``_wants``), unless a scheduler being bound gives it."""
        wants = _wants(value)
        return None if wants == "optimizer" and self.optimizer is not None else wants

    def container(self, items: Any, path: KeyPath, out: Any) -> Any:
        self.containers[path] = out
        for key, child in items:
            wants = None if self.in_recipe else self.wants(child)
            if wants is not None:
                self.deferred.append(_Deferred(child, path + key, out, key, wants))
                built: Any = None
            else:
                built = self.value(child, path + key)
            if isinstance(out, list):
                out.append(built)
            else:
                out[key] = built
        return out

    def recipe(self, recipe: ClassWrapper, path: KeyPath, **bound: Any) -> Any:
        cls = recipe.sym_wrapped
        if (self.optimizer is not None and is_scheduler_class(cls)
                and getattr(recipe, "optimizer", None) is MISSING):
            bound["optimizer"] = self.optimizer
        self.in_recipe += 1
        try:
            args = {k: self.value(v, path + k) for k, v in recipe.sym_items()
                    if v is not MISSING and k not in bound}
        finally:
            self.in_recipe -= 1
        try:
            obj = recipe.build(**args, **bound)
        except SymbolicError as e:
            raise BuildError(f"{path or '<root>'}: {e}") from e
        except Exception as e:
            if not issubclass(cls, nn.Module):
                raise BuildError(f"{path or '<root>'}: {_short(recipe)} fails: "
                                 f"{type(e).__name__}: {e}") from e
            raise self.network_error(path, recipe, f"fails to build: {type(e).__name__}: {e}") from e
        if isinstance(obj, nn.Module):
            obj = self.move(obj)
            self.recipes[id(obj)] = (path, recipe, obj)
            if isinstance(obj, _CellModule) and not obj.where:
                obj.where = str(path) or "<root>"  # its errors (inputs that do not fit) name it
        return obj

    def functor(self, functor: Functor, path: KeyPath) -> Any:
        """Calls a functor whose arguments are all bound and builds its result."""
        if _unbound(functor):
            return functor
        try:
            result = functor()
        except SymbolicError as e:
            raise BuildError(f"{path or '<root>'}: {e}") from e
        except Exception as e:
            raise BuildError(f"{path or '<root>'}: {_short(functor)} fails: {type(e).__name__}: {e}") from e
        built = self.value(result, path) if isinstance(result, Symbolic) else result
        if isinstance(built, nn.Module):
            built = self.move(built)
            self.recipes.setdefault(id(built), (path, functor, built))  # type: ignore[arg-type]
        elif isinstance(built, torch.Tensor):
            built = self.tensor(built)
        return built

    def tensor(self, value: torch.Tensor) -> torch.Tensor:
        if self.dtype is not None and value.is_floating_point():
            return value.to(device=self.device, dtype=self.dtype)
        return value.to(self.device)

    def move(self, module: nn.Module) -> nn.Module:
        if self.dtype is not None:
            return module.to(device=self.device, dtype=self.dtype)
        return module.to(self.device)

    # -- binding optimizers and schedulers ------------------------------------------------------
    def bind_deferred(self) -> None:
        """Builds the waiting optimizers (bound to their model), then the schedulers."""
        optimizers = [d for d in self.deferred if d.kind != "optimizer"]
        schedulers = [d for d in self.deferred if d.kind == "optimizer"]
        for d in optimizers:
            model = self.nearest(d, _models, "model")
            given = getattr(d.recipe, d.kind)
            if given is MISSING:
                params: Any = list(dict.fromkeys(model.parameters()))  # shared parameters once
            else:
                try:
                    params = groups_from(given, model)
                except Exception as e:
                    raise BuildError(f"{d.path}.{d.kind}: {_short(given)} on the model: "
                                     f"{type(e).__name__}: {e}") from e
            d.container[d.key] = self.recipe(d.recipe, d.path, **{d.kind: params})
        for d in schedulers:
            self.optimizer = self.nearest(d, _optimizers, "optimizer")
            try:  # schedulers inside it (SequentialLR's) take the same optimizer
                d.container[d.key] = self.recipe(d.recipe, d.path, optimizer=self.optimizer)
            finally:
                self.optimizer = None

    def nearest(self, d: _Deferred, find: Any, what: str) -> Any:
        """The ``what`` beside ``d``: in its container, else one level up, and so on."""
        path = d.path
        while len(path):
            parent = path.parent
            container = self.containers.get(parent)
            if container is not None:
                found = find(container, path.key)
                if len(found) == 1:
                    return found[0][1]
                if len(found) > 1:
                    keys = ", ".join(str(parent + k) for k, _ in found)
                    raise BuildError(
                        f"{d.path}: cannot tell which {what} to bind to ({keys}); put the one "
                        f"it belongs to under the key {what!r} beside it, or pass "
                        f"{'params' if what == 'model' else 'optimizer'} explicitly"
                    )
            path = parent
        kind = "optimizer" if what == "model" else "scheduler"
        raise BuildError(
            f"{d.path}: this {kind} has no {'params' if what == 'model' else 'optimizer'} and "
            f"no {what} beside it to bind to; put it in a dict or object with a {what!r} entry"
        )

    # -- dry run --------------------------------------------------------------------------------
    def dry_run(self, built: Any, example_input: Any) -> None:
        model, model_path = _find_model(built)
        inputs = self.example(example_input)
        stack: list[nn.Module] = []
        done: list[nn.Module] = []

        def pre(module: nn.Module, args: Any) -> None:
            stack.append(module)

        def post(module: nn.Module, args: Any, output: Any) -> None:
            if stack and stack[-1] is module:
                stack.pop()
            done.append(module)

        handles = []
        modes = {m: m.training for m in model.modules()}
        for m in modes:
            handles.append(m.register_forward_pre_hook(pre))
            handles.append(m.register_forward_hook(post))
        try:
            model.eval()
            with torch.no_grad():
                model(*inputs)
        except Exception as e:
            raise self.dry_run_error(model, model_path, stack, done, inputs, e) from e
        finally:
            for h in handles:
                h.remove()
            for m, mode in modes.items():
                m.training = mode

    def example(self, example_input: Any) -> tuple[Any, ...]:
        if isinstance(example_input, torch.Tensor):
            return (self.tensor(example_input),)
        if isinstance(example_input, (tuple, list, torch.Size)) and all(
                isinstance(n, int) for n in example_input):
            return (torch.randn(*example_input, device=self.device,
                                dtype=self.dtype or torch.get_default_dtype()),)
        if isinstance(example_input, (tuple, list)):
            return tuple(self.tensor(x) if isinstance(x, torch.Tensor) else x for x in example_input)
        raise BuildError(
            f"example_input must be a tensor, a tuple of tensors or a shape such as (8, 64), "
            f"got {type(example_input).__name__}"
        )

    def dry_run_error(self, model: nn.Module, model_path: KeyPath, stack: list[nn.Module],
                      done: list[nn.Module], inputs: tuple, error: Exception) -> NetworkError:
        names = {id(m): n for n, m in model.named_modules()}
        innermost = stack[-1] if stack else model
        failing = next((m for m in reversed(stack) if id(m) in self.recipes), None)
        path, recipe = (model_path, None) if failing is None else self.recipes[id(failing)][:2]
        # Where its input came from: the last module that ran before it (not inside it), one
        # with decisions when we know them, else one with parameters of its own.
        before = None
        for m in reversed(done):
            entry = self.recipes.get(id(m))
            if entry is None or entry[0].is_prefix_of(path) or path.is_prefix_of(entry[0]):
                continue
            if (self.decisions_under(entry[0]) if self.decision_table()
                    else next(iter(m.parameters(recurse=False)), None) is not None):
                before = entry
                break
        shapes = ", ".join(str(tuple(x.shape)) for x in inputs if isinstance(x, torch.Tensor))
        name = names.get(id(innermost)) or "<model>"
        message = (f"fails on the example input of shape {shapes} (in torch module {name!r}): "
                   f"{type(error).__name__}: {error}")
        return self.network_error(path, recipe, message, module_name=name, before=before)

    # -- errors ---------------------------------------------------------------------------------
    def network_error(self, path: KeyPath, recipe: Any, message: str, *,
                      module_name: str | None = None, before: Any = None) -> NetworkError:
        label = str(path) or "<root>"
        if recipe is not None:
            label += f" {_short(recipe)}"
        lines = [f"{label} {message}"]
        decisions = self.decisions_under(path)
        if decisions:
            lines.append("  decisions that set its arguments: " + _listing(decisions))
        elif self.space is None and self.dna is None:
            lines.append("  (pass space= or dna= to sbt.build to see the decisions behind it)")
        else:
            lines.append("  no decision sets its arguments")
        input_decisions: dict[str, Any] = {}
        if before is not None:
            upstream = self.decisions_under(before[0])
            input_decisions = {k: v for k, v, _ in upstream}
            set_by = f", set by: {_listing(upstream)}" if upstream else ""
            lines.append(f"  its input came from {before[0]} {_short(before[1])}{set_by}")
        return NetworkError("\n".join(lines), path=path, module_name=module_name,
                            decisions={k: v for k, v, _ in decisions},
                            input_decisions=input_decisions)

    def decisions_under(self, path: KeyPath) -> list[tuple[str, Any, KeyPath]]:
        """``(name or id, value, program path)`` of the decisions at or below ``path``."""
        return [(label, value, p) for label, p, value in self.decision_table()
                if path.is_prefix_of(p)]

    def decision_table(self) -> list[tuple[str, KeyPath, Any]]:
        if self._decision_table is None:
            self._decision_table = _decision_table(self.program, self.space, self.dna)
        return self._decision_table


def _decision_table(program: Any, space: Any, dna: DNA | None) -> list[tuple[str, KeyPath, Any]]:
    """Every active decision as ``(name or id, program path, value)``."""
    out: list[tuple[str, KeyPath, Any]] = []
    try:
        if dna is not None:
            spec = dna.spec or (dna_spec(space) if space is not None else None)
            if spec is None:
                return out
            by_id = dna.to_dict(key_type="id", value_type="literal", spec=spec)
            labels = list(dna.to_dict(value_type="literal", spec=spec))
            for label, (did, value) in zip(labels, by_id.items()):
                out.append((label, _program_path(did), value))
            return out
        if space is not None:
            for d in dna_spec(space).decision_points:
                path = _program_path(d.id)
                if isinstance(program, Symbolic) and (not len(path) or program.sym_has(path)):
                    value = program.sym_get(path) if len(path) else program
                    out.append((d.name or d.id, path, _short(value)))
    except SymbolicError:  # a space or DNA that does not match the program: say nothing
        return []
    return out


def _program_path(decision_id: str) -> KeyPath:
    """Where a decision's value sits in the materialized program (``[=i]`` parts dropped)."""
    return KeyPath.parse(re.sub(r"\[=\d+\]", "", decision_id))


def _listing(decisions: list[tuple[str, Any, KeyPath]]) -> str:
    parts = []
    for label, value, path in decisions[:12]:
        text = value if isinstance(value, str) else repr(value)
        text = text if len(text) <= 60 else text[:57] + "..."
        parts.append(f"{label}={text}" + ("" if label == str(path) else f" (at {path})"))
    more = f", and {len(decisions) - 12} more" if len(decisions) > 12 else ""
    return ", ".join(parts) + more


def _short(value: Any) -> str:
    if not isinstance(value, Symbolic):
        return repr(value)
    text = sym_format(value, compact=True, hide_default=True)
    return text if len(text) <= 100 else text[:97] + "..."


def _models(container: Any, exclude: Any) -> list[tuple[Any, nn.Module]]:
    items = list(container.items()) if isinstance(container, dict) else list(enumerate(container))
    items = [(k, v) for k, v in items if k != exclude]
    named = [(k, v) for k, v in items if k == "model" and isinstance(v, nn.Module)]
    if named:
        return named
    return [(k, v) for k, v in items
            if isinstance(v, nn.Module) and next(iter(v.parameters()), None) is not None]


def _optimizers(container: Any, exclude: Any) -> list[tuple[Any, torch.optim.Optimizer]]:
    items = list(container.items()) if isinstance(container, dict) else list(enumerate(container))
    items = [(k, v) for k, v in items if k != exclude and isinstance(v, torch.optim.Optimizer)]
    named = [(k, v) for k, v in items if k == "optimizer"]
    return named or items


def _unbound(functor: Functor) -> list[str]:
    schema = functor.sym_schema()
    skip = (schema.var_positional, schema.var_keyword)
    return [f.name for f in schema.fields
            if f.required and f.name not in skip and getattr(functor, f.name, MISSING) is MISSING]


def _find_model(built: Any) -> tuple[nn.Module, KeyPath]:
    if isinstance(built, nn.Module):
        return built, KeyPath()
    if isinstance(built, dict):
        if isinstance(built.get("model"), nn.Module):
            return built["model"], KeyPath(("model",))
        modules = [(k, v) for k, v in built.items() if isinstance(v, nn.Module)]
        if len(modules) == 1:
            return modules[0][1], KeyPath((modules[0][0],))
    raise BuildError(
        "example_input needs a model: build a module, or a dict/object with the model under "
        "'model' (or a single module entry)"
    )


__all__ = ["Built", "BuildError", "NetworkError", "build"]
