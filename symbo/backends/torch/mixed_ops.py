"""Mixed operations: the modules a DARTS supernet puts where the space had choices.

* :class:`MixedOp` holds every candidate of one or more decisions (built once) and weights their
  outputs by the decisions' architecture weights. One decision (a ``one_of`` over modules) is
  the usual DARTS mixed op; several decisions over one module recipe (``Conv2d(kernel_size=
  one_of([3, 5]), dilation=one_of([1, 2]))``) give the product of their values, each variant
  weighted by the product of its decisions' weights (the factorized relaxation of a
  hyperparameter grid, as in sharpDARTS).
* :class:`ChannelMask` relaxes a width (``out_channels``/``out_features``/``num_features``
  ``one_of([16, 32, 64])``): the module is built at the widest width and its output channels
  are multiplied by ``sum_i w_i * mask_i``, where ``mask_i`` keeps the first ``width_i``
  channels.
* :class:`Relaxation` is the state they share: the architecture weights (``alpha``) of every
  decision, the mode (``softmax``, ``gumbel``, ``single_path``), the phase of the step
  (``weight``, ``arch``, ``eval``) and the paths sampled for it.
* :class:`Zero` is the DARTS "none" operation (zeros of the input's shape, with a stride).

What a forward computes, per mode and phase:

============  ==========================  =====================================================
mode          weight / eval phase          arch phase
============  ==========================  =====================================================
softmax       ``sum_i p_i op_i(x)``        same, with ``p = softmax(alpha)`` attached to alpha
gumbel        only the sampled op (hard)   ``h_k op_k(x)``, ``h`` the straight-through
                                           Gumbel-softmax sample (GDAS); soft: all ops
single_path   only the sampled op          ProxylessNAS binary gates, two sampled paths
============  ==========================  =====================================================

In eval, sampling modes run the argmax op of each decision; softmax runs the mixture.
Candidates return tensors of one shape for a given input, or one structure of them (tuples,
lists, dicts: nanoGPT's ``(logits, loss)``), mixed leaf by leaf; a mixed op names the decision
whose candidates break this. Decisions with positions (a ``many_of``, the edges of a DAG cell)
are fixed, removed (an edge "off") or overridden position by position.

>>> import torch
>>> from symbo.backends.torch.mixed_ops import DecisionState, MixedOp, Relaxation
>>> relax = Relaxation("softmax")
>>> d = relax.add(DecisionState("act", "choice", 2), device="cpu", dtype=torch.float32)
>>> op = MixedOp([torch.nn.ReLU(), torch.nn.Tanh()], [(0,), (1,)], [(d, None)], relax)
>>> out = op(torch.tensor([-1.0, 2.0]))      # 0.5 * relu(x) + 0.5 * tanh(x) (alpha ~ 0)
>>> [round(v, 2) for v in out.tolist()]
[-0.38, 1.48]
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

Slot = tuple["DecisionState", "int | None"]


class DecisionState:
    """One relaxed decision: its architecture weights and what the search knows of it.

    ``kind`` is ``"choice"`` (a ``one_of`` over modules), ``"many"`` (a ``many_of`` over
    modules), ``"width"`` (a channel width), ``"variant"`` (a ``one_of`` over argument
    values of a module recipe) or ``"cell"`` (the edges of a DAG cell, see
    :class:`~symbo.backends.torch.cells.CellState`). ``positions`` is ``k`` for a ``many_of``
    and the number of edges of a cell (else 1); a non-distinct ``many_of`` and a cell have one
    row of alpha per position, everything else one vector shared by all positions (and by
    every marker with the decision's name).
    """

    def __init__(self, key: str, kind: str, num_candidates: int, *, positions: int = 1,
                 distinct: bool = True, sorted: bool = False,  # noqa: A002
                 literals: Sequence[str] = (), values: Sequence[Any] = ()) -> None:
        self.key = key
        self.kind = kind
        self.num_candidates = num_candidates
        self.positions = positions
        self.distinct = distinct
        self.sorted = sorted
        self.literals = tuple(literals) or tuple(str(i) for i in range(num_candidates))
        self.values = tuple(values)
        self.alpha: nn.Parameter | None = None

    @property
    def per_position(self) -> bool:
        """True when each position of a many_of has its own alpha row (non-distinct)."""
        return self.kind == "cell" or (self.kind == "many" and not self.distinct and self.positions > 1)

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.positions, self.num_candidates) if self.per_position else (self.num_candidates,)

    def alpha_row(self, position: int | None) -> torch.Tensor:
        assert self.alpha is not None
        if self.per_position:
            return self.alpha[position or 0]
        return self.alpha

    def probabilities(self) -> torch.Tensor:
        """``softmax(alpha)`` over candidates (per row for a non-distinct many_of), detached."""
        assert self.alpha is not None
        return torch.softmax(self.alpha.detach(), dim=-1)

    def __repr__(self) -> str:
        return f"DecisionState({self.key!r}, {self.kind}, n={self.num_candidates})"


class Gate:
    """What one decision says to a mixed op in the current pass.

    ``weights``: a tensor over candidates to weigh outputs by (None: weight 1 for ``active``);
    ``active``: the index to run alone (None: run every candidate with a live weight);
    ``alternatives``: indices to run too, without gradient to the op's weights (the other
    sampled path of ProxylessNAS); ``dead``: indices whose weight is a constant zero;
    ``off``: nothing runs (a removed edge of a cell).
    """

    __slots__ = ("weights", "active", "alternatives", "dead", "off")

    def __init__(self, weights: torch.Tensor | None, active: int | None,
                 alternatives: tuple[int, ...] = (), dead: frozenset[int] = frozenset(),
                 off: bool = False) -> None:
        self.weights = weights
        self.active = active
        self.alternatives = alternatives
        self.dead = dead
        self.off = off


OFF = -1  # in ``Relaxation.fixed`` / ``overrides``: the position (an edge) is removed
_OFF_GATE = Gate(None, None, off=True)


class _Sample:
    __slots__ = ("active", "involved", "noise")

    def __init__(self, active: int, involved: tuple[int, ...] = (),
                 noise: torch.Tensor | None = None) -> None:
        self.active = active
        self.involved = involved
        self.noise = noise


class _BinaryGate(torch.autograd.Function):
    """ProxylessNAS binary gates: a one-hot forward, ``p_i (g_i - <g, p>)`` backward.

    With ``p = softmax(alpha[involved])`` and ``g = dL/dgate``, the gradient to
    ``alpha_i`` (``i`` involved) is ``sum_j g_j p_j (delta_ij - p_i)``; others get 0.
    """

    @staticmethod
    def forward(ctx: Any, alpha: torch.Tensor, involved: torch.Tensor, active: int) -> torch.Tensor:
        p = torch.softmax(alpha.index_select(0, involved), dim=0)
        ctx.save_for_backward(p, involved)
        gate = torch.zeros_like(alpha)
        gate[active] = 1.0
        return gate

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        p, involved = ctx.saved_tensors
        g = grad.index_select(0, involved)
        out = torch.zeros_like(grad)
        out[involved] = p * (g - (g * p).sum())
        return out, None, None


class Relaxation:
    """The shared state of a supernet's mixed ops (see the module docstring).

    ``fixed[key]`` (an index per position; ``None`` leaves a position free, ``OFF`` removes it)
    makes a decision discrete everywhere (perturbation selection fixes decisions one by one,
    OneShot fixes a whole path per step); ``overrides[(key, position)]`` replaces a position's
    weights in eval passes (a constant vector, an index run alone, or ``OFF``) to measure a
    candidate's contribution.
    """

    def __init__(self, mode: str = "softmax", *, temperature: float = 1.0, hard: bool = True,
                 generator: torch.Generator | None = None) -> None:
        if mode not in ("softmax", "gumbel", "single_path"):
            raise ValueError(f"mode must be 'softmax', 'gumbel' or 'single_path', got {mode!r}")
        self.mode = mode
        self.temperature = temperature
        self.hard = hard
        self.generator = generator or torch.Generator()
        self.phase = "weight"
        self.attach_alpha = False
        self.decisions: dict[str, DecisionState] = {}
        self.fixed: dict[str, tuple[int | None, ...]] = {}
        self.overrides: dict[tuple[str, int], torch.Tensor | int] = {}
        self._samples: dict[tuple[str, int], _Sample] = {}
        self._cache: dict[tuple[str, int], Gate] = {}

    # ---- decisions -------------------------------------------------------------------------
    def add(self, state: DecisionState, *, device: Any, dtype: torch.dtype,
            init_std: float = 1e-3) -> DecisionState:
        """Registers ``state`` and gives it alpha ``~ init_std * N(0, 1)`` (DARTS's init)."""
        noise = torch.randn(state.shape, generator=self.generator, dtype=torch.float64)
        state.alpha = nn.Parameter((init_std * noise).to(device=device, dtype=dtype))
        self.decisions[state.key] = state
        return state

    def parameters(self) -> list[nn.Parameter]:
        """The architecture parameters of the decisions not fixed yet (at some position)."""
        return [d.alpha for d in self.decisions.values()
                if d.alpha is not None and not self.is_fixed(d.key)]

    def is_fixed(self, key: str) -> bool:
        """True when every position of decision ``key`` is fixed."""
        fixed = self.fixed.get(key)
        return fixed is not None and all(v is not None for v in fixed)

    # ---- per step and per pass -------------------------------------------------------------
    def set_phase(self, phase: str, attach_alpha: bool | None = None) -> None:
        """``weight``, ``arch`` or ``eval``; alpha is attached in arch passes unless told."""
        self.phase = phase
        self.attach_alpha = (phase == "arch") if attach_alpha is None else attach_alpha
        self._cache.clear()

    def resample(self) -> None:
        """Draws new paths (gumbel, single_path) for the next step's passes."""
        self._samples.clear()
        self._cache.clear()

    def new_pass(self) -> None:
        """Recomputes gate weights from alpha (the samples stay) before a forward pass."""
        self._cache.clear()

    def gate(self, state: DecisionState, position: int | None) -> Gate:
        pos = position or 0
        slot = (state.key, pos)
        gate = self._cache.get(slot)
        if gate is None:
            gate = self._cache[slot] = self._gate(state, pos)
        return gate

    def _gate(self, state: DecisionState, pos: int) -> Gate:
        if self.phase == "eval" and self.overrides:
            override = self.overrides.get((state.key, pos))
            if isinstance(override, int):
                return _OFF_GATE if override == OFF else Gate(None, override)
            if override is not None:
                dead = frozenset(i for i, v in enumerate(override.tolist()) if v == 0.0)
                return Gate(override, None, dead=dead)
        fixed = self.fixed.get(state.key)
        if fixed is not None:
            value = fixed[pos] if pos < len(fixed) else fixed[0]
            if value is not None:
                return _OFF_GATE if value == OFF else Gate(None, value)
        n = state.num_candidates
        alpha = state.alpha_row(pos)
        if self.phase == "eval":
            if self.mode == "softmax":
                return Gate(torch.softmax(alpha.detach(), dim=0), None)
            return Gate(None, int(torch.argmax(alpha.detach())))
        if not self.attach_alpha:
            alpha = alpha.detach()
        if self.mode == "softmax":
            return Gate(torch.softmax(alpha, dim=0), None)
        sample = self._samples.get((state.key, pos))
        if sample is None:
            sample = self._samples[(state.key, pos)] = self._draw(state, pos)
        if self.mode == "gumbel":
            noise = sample.noise.to(device=alpha.device, dtype=alpha.dtype)  # type: ignore[union-attr]
            soft = torch.softmax((alpha + noise) / self.temperature, dim=0)
            if not self.hard:
                return Gate(soft, None)
            if not self.attach_alpha:
                return Gate(None, sample.active)
            hard = torch.zeros_like(soft)
            hard[sample.active] = 1.0
            return Gate(hard - soft.detach() + soft, sample.active)
        # single_path
        if self.phase != "arch" or not self.attach_alpha or n < 2:
            return Gate(None, sample.active)
        involved = torch.tensor(sample.involved, device=alpha.device)
        weights = _BinaryGate.apply(alpha, involved, sample.active)
        others = tuple(i for i in sample.involved if i != sample.active)
        return Gate(weights, sample.active, alternatives=others)

    def _draw(self, state: DecisionState, pos: int) -> _Sample:
        alpha = state.alpha_row(pos).detach().to("cpu", torch.float64)
        n = state.num_candidates
        if self.mode == "gumbel":
            u = torch.rand(n, generator=self.generator, dtype=torch.float64).clamp_(1e-12, 1 - 1e-12)
            noise = -torch.log(-torch.log(u))
            return _Sample(int(torch.argmax(alpha + noise)), noise=noise)
        p = torch.softmax(alpha, dim=0)
        if self.phase == "arch" and n >= 2:
            # ProxylessNAS: two paths drawn from p without replacement, then the active one
            # from softmax over the two.
            pair = torch.multinomial(p, 2, replacement=False, generator=self.generator).tolist()
            p2 = torch.softmax(alpha[pair], dim=0)
            c = int(torch.multinomial(p2, 1, generator=self.generator))
            return _Sample(pair[c], involved=tuple(pair))
        return _Sample(int(torch.multinomial(p, 1, generator=self.generator)), involved=(0,))

    def rescale(self, before: dict[str, torch.Tensor]) -> None:
        """After an arch step in single_path mode: keep the unsampled paths' probabilities.

        ProxylessNAS shifts the two involved alphas by ``log(sum exp(old)) - log(sum exp(new))``
        over the involved pair, so the step only moves probability between the two.
        """
        if self.mode != "single_path":
            return
        with torch.no_grad():
            for key, old in before.items():
                state = self.decisions[key]
                rows = state.positions if state.per_position else 1
                for pos in range(rows):
                    sample = self._samples.get((key, pos))
                    if sample is None or len(sample.involved) < 2:
                        continue
                    if not state.per_position and state.positions > 1:
                        continue  # several positions share the vector: no single pair to keep
                    idx = list(sample.involved)
                    new_row = state.alpha_row(pos)
                    old_row = old[pos] if state.per_position else old
                    offset = torch.logsumexp(old_row[idx], 0) - torch.logsumexp(new_row[idx], 0)
                    new_row[idx] += offset


def _live_indices(gate: Gate, n: int) -> list[int]:
    if gate.active is not None:
        return [gate.active]
    return [i for i in range(n) if i not in gate.dead]


class MixedOp(nn.Module):
    """Candidates weighted by decisions: ``sum_v prod_d w_d[v_d] * candidate_v(x)``.

    ``assignments[v]`` gives candidate ``v``'s index in each decision of ``slots`` (a
    ``(DecisionState, position)`` pair per decision). A plain DARTS mixed op has one slot and
    ``assignments = [(0,), (1,), ...]``.
    """

    def __init__(self, candidates: Sequence[nn.Module], assignments: Sequence[tuple[int, ...]],
                 slots: Sequence[Slot], relaxation: Relaxation) -> None:
        super().__init__()
        if len(candidates) != len(assignments):
            raise ValueError("MixedOp: one assignment per candidate")
        self.candidates = nn.ModuleList(candidates)
        self.assignments = [tuple(a) for a in assignments]
        self.index_of = {a: i for i, a in enumerate(self.assignments)}
        self.slots = list(slots)
        object.__setattr__(self, "relaxation", relaxation)  # shared state, not a submodule

    @property
    def keys(self) -> list[str]:
        return [s.key for s, _ in self.slots]

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        relax: Relaxation = self.relaxation  # type: ignore[assignment]
        gates = [relax.gate(state, pos) for state, pos in self.slots]
        if any(g.off for g in gates):  # a removed edge: nothing of it runs
            return _zeros_like(self.candidates[0](*args, **kwargs))
        if all(g.active is not None for g in gates):
            return self._forward_hard(gates, args, kwargs)
        live = [set(_live_indices(g, s.num_candidates)) for g, (s, _) in zip(gates, self.slots)]
        out = None
        first = None
        for v, assignment in enumerate(self.assignments):
            if any(a not in ok for a, ok in zip(assignment, live)):
                continue
            y = self._run(v, args, kwargs)
            first = v if first is None else first
            out = self._add(out, _scaled(y, _product(gates, assignment)), first, v)
        if out is None:  # every candidate removed: the op contributes nothing
            return _zeros_like(self.candidates[0](*args, **kwargs))
        return out

    def _forward_hard(self, gates: list[Gate], args: tuple, kwargs: dict) -> Any:
        active = tuple(g.active for g in gates)
        index = self.index_of[active]  # type: ignore[index]
        out = self._run(index, args, kwargs)
        w = _product(gates, active)  # type: ignore[arg-type]
        if w is not None:
            out = _scaled(out, w)
        for j, g in enumerate(gates):
            for alt in g.alternatives:
                other = tuple(alt if t == j else a for t, a in enumerate(active))
                with torch.no_grad():
                    y = self._run(self.index_of[other], args, kwargs)  # type: ignore[index]
                out = self._add(out, _scaled(y, _product(gates, other)), index, self.index_of[other])  # type: ignore[index]
        return out

    def _run(self, v: int, args: tuple, kwargs: dict) -> Any:
        y = self.candidates[v](*args, **kwargs)
        if not _mixable(y):
            raise TypeError(
                f"candidate {v} of decision {self._names()} returned {type(y).__name__}; a mixed op "
                "combines tensors, or tuples, lists or dicts of tensors (the same structure from "
                "every candidate)"
            )
        return y

    def _names(self) -> str:
        return ", ".join(repr(k) for k in self.keys)

    def _add(self, out: Any, y: Any, first: int = 0, v: int = 0) -> Any:
        if out is None:
            return y
        try:
            return _tree_add(out, y)
        except _Mismatch as e:
            raise TypeError(
                f"the candidates of decision {self._names()} return different structures "
                f"(candidate {first}: {_describe(out)}, candidate {v}: {_describe(y)}){e.where}; "
                "DARTS mixes candidate outputs leaf by leaf, so every candidate must return the "
                "same structure"
            ) from None
        except RuntimeError as e:
            raise RuntimeError(
                f"the candidates of decision {self._names()} give outputs of different shapes "
                f"({_describe(out)} and {_describe(y)}); DARTS mixes candidate outputs, so "
                "every candidate must map an input to the same shape"
            ) from e

    def extra_repr(self) -> str:
        return f"decisions={self.keys}"


# ---- outputs that are structures of tensors ----------------------------------------------------
class _Mismatch(Exception):
    def __init__(self, where: str = "") -> None:
        super().__init__(where)
        self.where = where


def _mixable(y: Any) -> bool:
    if isinstance(y, torch.Tensor) or y is None:
        return True
    if isinstance(y, (tuple, list)):
        return all(_mixable(v) for v in y)
    if isinstance(y, dict):
        return all(_mixable(v) for v in y.values())
    return isinstance(y, (int, float, bool, str))


def _tree_map(fn: Any, y: Any) -> Any:
    if isinstance(y, torch.Tensor):
        return fn(y)
    if isinstance(y, tuple) and hasattr(y, "_fields"):  # a namedtuple
        return type(y)(*(_tree_map(fn, v) for v in y))
    if isinstance(y, (tuple, list)):
        return type(y)(_tree_map(fn, v) for v in y)
    if isinstance(y, dict):
        return type(y)((k, _tree_map(fn, v)) for k, v in y.items())
    return y


def _scaled(y: Any, w: torch.Tensor | None) -> Any:
    if w is None:
        return y
    return _tree_map(lambda t: t * w if t.is_floating_point() or t.is_complex() else t, y)


def _zeros_like(y: Any) -> Any:
    return _tree_map(torch.zeros_like, y)


def _tree_add(a: Any, b: Any, where: str = "") -> Any:
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        if a.is_floating_point() or a.is_complex():
            return a + b
        if not torch.equal(a, b):
            raise _Mismatch(f" at output{where}: integer tensors that differ")
        return a
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        raise _Mismatch(f" at output{where}" if where else "")
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        if type(a) is not type(b) or len(a) != len(b):
            raise _Mismatch(f" at output{where}" if where else "")
        items = [_tree_add(x, y, f"{where}[{i}]") for i, (x, y) in enumerate(zip(a, b))]
        return type(a)(*items) if hasattr(a, "_fields") else type(a)(items)
    if isinstance(a, dict) and isinstance(b, dict):
        if list(a) != list(b):
            raise _Mismatch(f" at output{where}" if where else "")
        return type(a)((k, _tree_add(a[k], b[k], f"{where}[{k!r}]")) for k in a)
    if a is None and b is None:
        return None
    if type(a) is type(b) and a == b:
        return a
    raise _Mismatch(f" at output{where}" if where else "")


def _describe(y: Any) -> str:
    if isinstance(y, torch.Tensor):
        return f"Tensor{tuple(y.shape)}"
    if isinstance(y, (tuple, list)):
        inner = ", ".join(_describe(v) for v in y)
        return f"({inner})" if isinstance(y, tuple) else f"[{inner}]"
    if isinstance(y, dict):
        return "{" + ", ".join(f"{k!r}: {_describe(v)}" for k, v in y.items()) + "}"
    return type(y).__name__


def _product(gates: list[Gate], assignment: tuple[int, ...]) -> torch.Tensor | None:
    w = None
    for g, a in zip(gates, assignment):
        if g.weights is None:
            continue
        w = g.weights[a] if w is None else w * g.weights[a]
    return w


class ChannelMask(nn.Module):
    """A module built at its widest width whose output keeps ``sum_i w_i * mask_i`` of channels.

    ``dim`` is the channel dimension of the output (1 for convolutions and batch norms, -1 for
    linear layers); ``widths`` the candidate widths of the decision.
    """

    def __init__(self, module: nn.Module, state: DecisionState, widths: Sequence[int], dim: int,
                 relaxation: Relaxation) -> None:
        super().__init__()
        self.module = module
        self.state = state
        self.dim = dim
        self.widths = [int(w) for w in widths]
        widest = max(self.widths)
        masks = torch.zeros(len(self.widths), widest)
        for i, w in enumerate(self.widths):
            masks[i, :w] = 1.0
        self.register_buffer("masks", masks, persistent=False)
        object.__setattr__(self, "relaxation", relaxation)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        y = self.module(*args, **kwargs)
        gate = self.relaxation.gate(self.state, None)  # type: ignore[attr-defined]
        masks = self.masks.to(dtype=y.dtype if y.is_floating_point() else self.masks.dtype)
        if gate.off:
            return y * 0.0
        if gate.weights is None:
            mask = masks[gate.active]
        else:
            mask = gate.weights.to(masks.dtype) @ masks
        shape = [1] * y.dim()
        shape[self.dim] = -1
        return y * mask.view(shape)

    def extra_repr(self) -> str:
        return f"decision={self.state.key!r}, widths={self.widths}, dim={self.dim}"


class Zero(nn.Module):
    """The DARTS "none" op: zeros shaped like the input (spatially strided with ``stride``).

    >>> import torch
    >>> Zero(stride=2)(torch.ones(1, 3, 4, 4)).shape
    torch.Size([1, 3, 2, 2])
    """

    def __init__(self, stride: int = 1) -> None:
        super().__init__()
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1 or x.dim() < 3:
            return x.mul(0.0)
        index = (slice(None), slice(None)) + (slice(None, None, self.stride),) * (x.dim() - 2)
        return x[index].mul(0.0)


def variant_assignments(sizes: Sequence[int]) -> list[tuple[int, ...]]:
    """Every combination of indices for decisions with ``sizes`` candidates (last fastest)."""
    return list(itertools.product(*(range(n) for n in sizes)))
