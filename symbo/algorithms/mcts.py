"""Monte Carlo tree search over the decision tree (DeepArchitect, Negrinho & Gordon 2017).

A sample is the ordered sequence of decisions made walking the spec in preorder: under a
``one_of`` the chosen candidate's sub-decisions come next; the positions of a ``many_of`` are
successive decisions whose options shrink with ``distinct``/``sorted``. The nodes of the
search tree are partial decision sequences. ``propose`` walks from the root choosing children
by UCT (normalised mean reward ``+ c * sqrt(2 ln N_parent / n_child)``; children never
visited come first, in random order), adds one new node at the first node with an untried
option, and finishes the remaining decisions uniformly at random. ``feedback`` backs the
normalised reward up the walked path.

Continuous decisions are binned: ``num_bins`` equal bins of the unit interval (log ranges in
log space), the value drawn uniformly inside the chosen bin; ``int_range`` with more than
``num_bins`` values is binned the same way. With ``widening=alpha`` they use progressive
widening instead: a node holds at most ``ceil(widening_k * n ** alpha)`` sampled values after
``n`` visits.

>>> import symbo as sb
>>> from symbo.algorithms.mcts import MCTS
>>> space = sb.Dict(depth=sb.one_of([1, 2, 3, 4]), lr=sb.float_range(1e-4, 1e-1, scale="log"))
>>> study = sb.tune(lambda p: p.depth, space, MCTS(seed=0), num_trials=20)
>>> study.best_trial.reward
4.0
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right, insort
from collections.abc import Hashable, Sequence
from typing import Any, Literal

from symbo.algorithms.base import Algorithm, AlgorithmError, Reward, make_rng, scalar
from symbo.core import field
from symbo.dsl import DNA, DNASpec
from symbo.dsl.dna import validate
from symbo.dsl.encoding import from_unit, to_unit
from symbo.dsl.materialize import random_decision
from symbo.dsl.spec import Choice, DecisionPoint, FloatDecision, IntDecision, Space

Key = Hashable

# plan kinds
_ONE, _MANY, _EXACT, _BINNED, _WIDEN = range(5)


class _Node:
    """A partial decision sequence: visits, sum of backed-up values, pending proposals."""

    __slots__ = ("children", "n", "w", "p")

    def __init__(self, n: int = 0, w: float = 0.0, p: int = 0) -> None:
        self.children: dict[Key, _Node] = {}
        self.n = n
        self.w = w
        self.p = p


class _Plan:
    """One decision point, compiled for the walk (options, sub-plans per candidate)."""

    __slots__ = ("kind", "d", "options", "subs", "k", "distinct", "sorted", "num_bins")

    def __init__(self, kind: int, d: DecisionPoint, options: tuple[Key, ...] = (),
                 subs: tuple[tuple[_Plan, ...], ...] = (), num_bins: int = 0) -> None:
        self.kind = kind
        self.d = d
        self.options = options
        self.subs = subs
        self.num_bins = num_bins
        if isinstance(d, Choice):
            self.k, self.distinct, self.sorted = d.num_choices, d.distinct, d.sorted
        else:
            self.k, self.distinct, self.sorted = 1, False, False


def _compile(space: Space, num_bins: int, widen: bool) -> tuple[_Plan, ...]:
    plans = []
    for d in space.decisions:
        if isinstance(d, Choice):
            subs = tuple(_compile(c.space, num_bins, widen) for c in d.candidates)
            kind = _ONE if d.num_choices == 1 else _MANY
            plans.append(_Plan(kind, d, tuple(range(len(d.candidates))), subs))
        elif isinstance(d, IntDecision) and d.size <= num_bins:
            plans.append(_Plan(_EXACT, d, tuple(range(d.low, d.high + 1))))
        elif widen:
            plans.append(_Plan(_WIDEN, d))
        else:
            plans.append(_Plan(_BINNED, d, tuple(range(num_bins)), num_bins=num_bins))
    return tuple(plans)


class MCTS(Algorithm, type_name="symbo.algorithms.MCTS"):
    """UCT tree search over the sequence of decisions, with random rollouts.

    ``exploration`` is ``c`` in ``mean + c * sqrt(2 ln N / n)``; rewards are normalised to
    ``[0, 1]`` first, by the running min/max (``normalize='minmax'``) or by the quantile of
    each reward among the earlier ones (``'rank'``), so ``c`` means the same on any scale.
    ``num_bins`` bins split each continuous decision (and each int range with more values);
    ``widening`` (an exponent in ``(0, 1]``) switches them to progressive widening with
    ``ceil(widening_k * n ** widening)`` sampled values per node. Several proposals may be
    outstanding at once; feedback finds each one's path by its DNA. On small budgets a lower
    ``exploration`` (0.25 to 0.5) exploits good branches sooner.

    >>> import symbo as sb
    >>> from symbo.algorithms.mcts import MCTS
    >>> algo = MCTS(seed=1)
    >>> algo.setup(sb.dna_spec(sb.Dict(a=sb.one_of(["x", "y"]), b=sb.int_range(0, 3))))
    >>> for _ in range(8):
    ...     dna = algo.propose()
    ...     algo.feedback(dna, float(dna.to_numbers()[0]))
    >>> algo.tree_node()["children"]
    {0: 2, 1: 6}
    """

    proposes_valid_dna = True

    exploration: float = field(1.0, check=lambda v: v >= 0, message="MCTS: exploration must be >= 0")
    num_bins: int = field(8, check=lambda v: v >= 1, message="MCTS: num_bins must be >= 1")
    widening: float | None = field(None, check=lambda v: v is None or 0 < v <= 1,
                                   message="MCTS: widening must be in (0, 1] (or None)")
    widening_k: float = field(1.0, check=lambda v: v > 0, message="MCTS: widening_k must be > 0")
    normalize: Literal["minmax", "rank"] = "minmax"
    seed: int | None = None

    # ---- setup -------------------------------------------------------------------------------
    def _setup(self, spec: DNASpec) -> None:
        self._plans = _compile(spec.space, self.num_bins, self.widening is not None)
        self._c = float(self.exploration)
        self._rank = self.normalize == "rank"
        self._reset()

    def _reset(self) -> None:
        self._rng = make_rng(self.seed)
        self._root = _Node()
        self._pending: dict[DNA, list[list[_Node]]] = {}
        self._lo = math.inf
        self._hi = -math.inf
        self._sorted: list[float] = []  # the rewards so far, sorted (rank normalisation)
        self._cur: _Node | None = None
        self._path: list[_Node] = []

    # ---- propose -----------------------------------------------------------------------------
    def _propose(self) -> DNA:
        root = self._root_node()
        self._cur = root
        self._path = path = [root]
        dna = DNA(None, self._space(self._plans), self.spec)
        for node in path:
            node.p += 1
        self._pending.setdefault(dna, []).append(path)
        self._cur = None
        return dna

    def _root_node(self) -> _Node:
        try:
            return self._root
        except AttributeError:
            raise AlgorithmError("MCTS.setup(spec) was not called") from None

    def _space(self, plans: tuple[_Plan, ...]) -> tuple[DNA, ...]:
        return tuple([self._decide(p) for p in plans])

    def _decide(self, p: _Plan) -> DNA:
        if self._cur is None:  # rollout
            return random_decision(p.d, self._rng)
        kind = p.kind
        if kind == _ONE:
            i = self._pick(p.options)
            return DNA(i, self._space(p.subs[i]))
        if kind == _MANY:
            return self._many(p)
        if kind == _EXACT:
            return DNA(self._pick(p.options))
        if kind == _BINNED:
            return DNA(_in_bin(p, self._pick(p.options), self._rng.random()))
        return DNA(self._widen(p))

    def _many(self, p: _Plan) -> DNA:
        n, k, rng = len(p.options), p.k, self._rng
        picks: list[DNA] = []
        indices: list[int] = []
        for j in range(k):
            if self._cur is None:
                for i in _random_rest(p, indices, rng):
                    sub = p.d.candidates[i].space.decisions  # type: ignore[union-attr]
                    picks.append(DNA(i, tuple([random_decision(d, rng) for d in sub])))
                break
            if p.distinct:
                if p.sorted:
                    options: Sequence[int] = range(indices[-1] + 1 if indices else 0, n - k + j + 1)
                else:
                    options = [i for i in p.options if i not in indices]
            else:
                options = range(indices[-1], n) if p.sorted and indices else p.options
            i = self._pick(options)
            indices.append(i)
            picks.append(DNA(i, self._space(p.subs[i])))
        return DNA(None, tuple(picks))

    def _pick(self, options: Sequence[Any]) -> Any:
        """One decision at the current node: expand an untried option, or select by UCT."""
        node = self._cur
        assert node is not None
        children = node.children
        if len(children) < len(options):
            untried = [o for o in options if o not in children] if children else options
            key = untried[self._rng.randrange(len(untried))]
            self._expand(node, key)
            return key
        key = self._select(node, options)
        self._cur = child = children[key]
        self._path.append(child)
        return key

    def _widen(self, p: _Plan) -> Any:
        node = self._cur
        assert node is not None
        children = node.children
        allowed = math.ceil(self.widening_k * (node.n + node.p) ** self.widening)  # type: ignore[operator]
        if len(children) < max(1, allowed):
            value = random_decision(p.d, self._rng).value
            if value not in children:
                self._expand(node, value)
                return value
            key = value
        else:
            key = self._select(node, list(children))
        self._cur = child = children[key]
        self._path.append(child)
        return key

    def _expand(self, node: _Node, key: Key) -> None:
        child = _Node()
        node.children[key] = child
        self._path.append(child)
        self._cur = None

    def _select(self, node: _Node, keys: Sequence[Any]) -> Any:
        """The child maximising UCT (ties broken at random)."""
        children = node.children
        total = node.n + node.p
        log_n2 = 2.0 * math.log(total) if total > 1 else 0.0
        c = self._c
        if self._rank:
            lo, scale = 0.0, 1.0
        elif self._hi > self._lo:
            lo, scale = self._lo, 1.0 / (self._hi - self._lo)
        else:
            lo, scale = self._lo, 0.0
        # first-play value for children with only pending proposals: the parent's mean
        fpu = ((node.w / node.n - lo) * scale if scale else 0.5) if node.n else 0.5
        best = -math.inf
        bests: list[Any] = []
        for key in keys:
            ch = children[key]
            n = ch.n + ch.p
            if n == 0:
                score = math.inf
            else:
                mean = ((ch.w / ch.n - lo) * scale if scale else 0.5) if ch.n else fpu
                score = mean + c * math.sqrt(log_n2 / n)
            if score > best:
                best = score
                bests = [key]
            elif score == best:
                bests.append(key)
        return bests[0] if len(bests) == 1 else bests[self._rng.randrange(len(bests))]

    # ---- feedback ----------------------------------------------------------------------------
    def _feedback(self, dna: DNA, reward: Reward) -> None:
        """Backs the normalised reward up the path of the proposal ``dna`` (or of its
        decisions, for a DNA this instance did not propose). (A non-finite reward is a
        failure: ``Algorithm.feedback`` sends it to ``on_failure``.)"""
        r = scalar(reward)
        path = self._take_pending(dna)
        if path is None:
            path = self._path_of(dna)
        value = self._observe(r)
        for node in path:
            node.n += 1
            node.w += value

    def _on_failure(self, dna: DNA, error: str) -> None:
        """Drops the proposal ``dna``; a node added for it alone is removed again."""
        path = self._take_pending(dna)
        if path is None:
            return
        for parent, node in zip(reversed(path[:-1]), reversed(path[1:]), strict=True):
            if node.n or node.p or node.children:
                break
            for key, child in parent.children.items():
                if child is node:
                    del parent.children[key]
                    break

    def _restore_proposed(self, dna: DNA) -> None:
        """A stored trial's DNA, as its proposal would have left the tree: its path (existing
        nodes, plus the one node its proposal expanded) pending until its result comes. A
        study's trials replayed in order rebuild the tree the search had."""
        path = self._path_of(dna)
        for node in path:
            node.p += 1
        self._pending.setdefault(dna, []).append(path)

    def _take_pending(self, dna: DNA) -> list[_Node] | None:
        paths = self._pending.get(dna)
        if not paths:
            return None
        path = paths.pop(0)
        if not paths:
            del self._pending[dna]
        for node in path:
            node.p -= 1
        return path

    def _observe(self, r: float) -> float:
        """Records a reward; the value to back up (raw for min/max, a quantile for rank)."""
        if self._rank:
            seen = self._sorted
            if seen:
                lt, le = bisect_left(seen, r), bisect_right(seen, r)
                value = (lt + 0.5 * (le - lt)) / len(seen)
            else:
                value = 0.5
            insort(seen, r)
            return value
        self._lo = min(self._lo, r)
        self._hi = max(self._hi, r)
        return r

    def _path_of(self, dna: DNA) -> list[_Node]:
        """The tree path of ``dna``'s decisions: existing nodes, plus at most one new one."""
        validate(self.spec, dna)
        node = self._root_node()
        path = [node]
        for key in self._keys(self._plans, dna.children, []):
            child = node.children.get(key)
            if child is None:
                child = node.children[key] = _Node()
                path.append(child)
                break
            path.append(child)
            node = child
        return path

    def _keys(self, plans: tuple[_Plan, ...], children: tuple[DNA, ...],
              out: list[Key]) -> list[Key]:
        """The decision sequence (tree keys) of a DNA, in preorder."""
        for p, c in zip(plans, children, strict=True):
            if p.kind == _ONE:
                out.append(c.value)
                self._keys(p.subs[c.value], c.children, out)  # type: ignore[index]
            elif p.kind == _MANY:
                for pick in c.children:
                    out.append(pick.value)
                    self._keys(p.subs[pick.value], pick.children, out)  # type: ignore[index]
            elif p.kind == _BINNED:
                out.append(_bin_of(p, c.value))  # type: ignore[arg-type]
            else:
                out.append(c.value)
        return out

    # ---- inspection --------------------------------------------------------------------------
    def tree_node(self, keys: Sequence[Key] = ()) -> dict[str, Any]:
        """Statistics of the node reached by the decision keys ``keys`` (choice indices, int
        values, bin indices or sampled values): visits, pending proposals, the normalised
        mean reward (None before any visit) and ``{key: visits}`` of its children.

        >>> import symbo as sb
        >>> from symbo.algorithms.mcts import MCTS
        >>> algo = MCTS(seed=0)
        >>> algo.setup(sb.dna_spec(sb.Dict(a=sb.one_of([1, 2]))))
        >>> algo.tree_node()
        {'visits': 0, 'pending': 0, 'mean': None, 'children': {}}
        """
        node = self._root_node()
        for key in keys:
            node = node.children[key]
        if node.n == 0:
            mean = None
        elif self._rank:
            mean = node.w / node.n
        else:
            mean = (node.w / node.n - self._lo) / (self._hi - self._lo) if self._hi > self._lo \
                else 0.5
        return {"visits": node.n, "pending": node.p, "mean": mean,
                "children": {k: c.n for k, c in node.children.items()}}

    @property
    def num_nodes(self) -> int:
        """The number of nodes of the search tree (the root included)."""
        count, stack = 0, [self._root_node()]
        while stack:
            node = stack.pop()
            count += 1
            stack.extend(node.children.values())
        return count


# ---- ranges ------------------------------------------------------------------------------------
def _in_bin(p: _Plan, b: int, x: float) -> float | int:
    """The value at fraction ``x`` of bin ``b`` (in unit space; log ranges in log space)."""
    d = p.d
    u = (b + x) / p.num_bins
    if isinstance(d, FloatDecision):
        return from_unit(d, u)
    assert isinstance(d, IntDecision)
    if d.scale == "log":
        value = int(math.exp(math.log(d.low) + u * (math.log(d.high + 1) - math.log(d.low))))
    else:
        value = d.low + int(u * (d.high - d.low + 1))
    return min(max(value, d.low), d.high)


def _bin_of(p: _Plan, value: float) -> int:
    """The bin of a value (ints: the bin of the middle of the unit interval mapping to it)."""
    d = p.d
    if isinstance(d, FloatDecision):
        u = to_unit(d, value)
    elif d.scale == "log":  # type: ignore[union-attr]
        span = math.log(d.high + 1) - math.log(d.low)  # type: ignore[union-attr]
        u = (math.log(value) + math.log(value + 1) - 2 * math.log(d.low)) / (2 * span)  # type: ignore[union-attr]
    else:
        u = (value - d.low + 0.5) / (d.high - d.low + 1)  # type: ignore[union-attr]
    return min(max(int(u * p.num_bins), 0), p.num_bins - 1)


def _random_rest(p: _Plan, indices: list[int], rng: Any) -> list[int]:
    """Uniformly random indices for the remaining positions of a many_of."""
    n, m = len(p.options), p.k - len(indices)
    if p.distinct:
        if p.sorted:
            start = indices[-1] + 1 if indices else 0
            return sorted(rng.sample(range(start, n), m))
        return rng.sample([i for i in range(n) if i not in indices], m)
    if p.sorted:
        start = indices[-1] if indices else 0
        return sorted(rng.randrange(start, n) for _ in range(m))
    return [rng.randrange(n) for _ in range(m)]
