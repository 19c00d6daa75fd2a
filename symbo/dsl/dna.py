"""DNA: one point of a space, a tree of decisions mirroring the DNA spec.

* a space (the whole one, or a candidate's) is ``DNA(None, (d1, d2, ...))``;
* a one_of is ``DNA(index, <decisions of the chosen candidate>)``;
* a many_of/permutate is ``DNA(None, (DNA(i1, ...), DNA(i2, ...)))``, one child per position;
* a float_range or int_range is ``DNA(value)``.

DNA is an immutable, hashable value; it converts to and from a flat list of numbers, a
``{name_or_id: index or number}`` dict (``to_dict``, what algorithms use) and **params**,
``{name_or_id: literal value}`` (``to_params``, what users read and write: ``64``, not the
index ``1``).

>>> import symbo as sb
>>> space = sb.Dict(opt=sb.one_of(["sgd", "adam"], name="opt"), lr=sb.float_range(0.01, 0.1))
>>> spec = sb.dna_spec(space)
>>> dna = sb.DNA.from_numbers(spec, [1, 0.05])
>>> dna, dna.to_numbers(), dna.to_dict()
(DNA([1, 0.05]), [1, 0.05], {'opt': 1, 'lr': 0.05})
>>> dna.to_params()
{'opt': 'adam', 'lr': 0.05}
>>> sb.DNA.from_params(spec, {"opt": "adam", "lr": 0.05}) == dna
True
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any

from symbo.core import SymbolicKeyError, SymbolicTypeError, SymbolicValueError

if TYPE_CHECKING:
    from collections.abc import Callable

    from symbo.dsl.points import Decisions
    from symbo.dsl.spec import DNASpec

Number = int | float
_set = object.__setattr__


class DNAError(SymbolicValueError):
    """A DNA that does not fit its spec (wrong shape, index or value out of range)."""


class DNA:
    """A tree of decisions. ``spec`` (optional, not part of equality) enables names and dicts.

    **Literals.** Besides ``DNA(value, children)``, a DNA may be written as nested numbers:
    a list is a node without a value whose children are its items (a space, or a many_of's
    picks), a tuple a chain of decisions, each the child of the one before (a one_of and the
    decision under its candidate), its last item a number or a list:
    ``DNA([1, 2]) == DNA(None, (DNA(1), DNA(2)))``, ``DNA((1, 1)) == DNA(1, (DNA(1),))``,
    ``DNA((0, [1, 2])) == DNA(0, (DNA(1), DNA(2)))``. ``to_numbers(flatten=False)`` gives the
    literal back. Values are ints (candidate indices, int ranges), floats (float ranges), strs
    (``sb.CustomHyper`` decisions) or None.

    **Equality** ignores redundant levels (a node without a value and with one child is that
    child; a lone child without a value is flattened), as PyGlove's DNA does:
    ``DNA(None, (DNA(1),)) == DNA(1)``, so a one-decision space's DNA may be written as the
    decision's own. Functions that take a spec (``materialize``, ``use_spec``, ``to_dict``,
    ...) accept such reduced forms.

    **Navigation.** ``dna[i]`` is the i-th child; ``dna[name_or_id]`` (with a spec) the DNA of
    a decision (a list of picks for a many_of; None when the decision is inactive);
    iteration goes over the children, ``value in dna`` tests their values (or a child DNA);
    ``parent_dna`` and ``root`` walk up. DNA sort (``<``) by value, then children.

    >>> import symbo as sb
    >>> sb.DNA([(0, 1), 2]) == sb.DNA(None, (sb.DNA(0, (sb.DNA(1),)), sb.DNA(2)))
    True
    >>> sb.DNA(None, (sb.DNA(None, (sb.DNA(1),)),)) == sb.DNA(1), sb.DNA([0, 1]) < sb.DNA([0, 2])
    (True, True)
    >>> dna = sb.DNA([(0, 1), 2])
    >>> dna.children[0].parent_dna is dna, dna.children[0].children[0].root is dna, 2 in dna
    (True, True, True)
    >>> dna.to_numbers(flatten=False)
    [(0, 1), 2]
    """

    __slots__ = ("value", "children", "spec", "_parent", "_memo", "_named")

    value: Number | str | None
    children: tuple[DNA, ...]
    spec: DNASpec | None

    def __init__(self, value: Any = None, children: Any = None,
                 spec: DNASpec | None = None) -> None:
        t = type(value)
        if t is int or value is None or t is float or t is str:
            pass
        elif t is list or t is tuple:
            if children:
                raise DNAError(f"'children' ({children!r}) must be empty when 'value' "
                               f"({value!r}) is a literal list or tuple")
            value, children = _from_literal(value)
        else:
            value = _checked_value(value)
        if children is None:
            children = ()
        elif type(children) is not tuple:
            if isinstance(children, (str, bytes)) or not hasattr(children, "__iter__"):
                raise SymbolicTypeError(
                    f"DNA children are a sequence of DNA, got {type(children).__name__} "
                    f"{children!r:.60}")
            children = tuple(children)
        set_ = _set
        set_(self, "value", value)
        set_(self, "children", children)
        set_(self, "spec", spec)
        set_(self, "_parent", None)
        set_(self, "_memo", None)  # (canonical key, hash), computed on first use
        for c in children:
            if type(c) is not DNA:
                children = tuple([_as_child(x) for x in children])
                set_(self, "children", children)
                for x in children:
                    if x._parent is None:
                        set_(x, "_parent", self)
                break
            if c._parent is None:  # the first tree a node is put in is its tree
                set_(c, "_parent", self)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"DNA is immutable (cannot set {name!r}); build a new one")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"DNA is immutable (cannot delete {name!r})")

    def __reduce__(self) -> Any:
        return (DNA, (self.value, self.children, self.spec))

    def __copy__(self) -> DNA:
        return self

    def __deepcopy__(self, memo: dict) -> DNA:
        return self

    # ---- value semantics -------------------------------------------------------------
    def _canonical(self) -> tuple:
        """(value, children) with redundant levels removed (what equality compares): a node
        without a value and with one child stands for that child; a lone child without a
        value is replaced by its children. Children stay DNA (compared the same way)."""
        memo = self._memo
        if memo is not None:
            return memo[0]
        kids = self.children
        if len(kids) == 1:
            cv, ck = kids[0]._canonical()
            if cv is None:
                kids = ck
        if self.value is None and len(kids) == 1:
            key = kids[0]._canonical()
        else:
            key = (self.value, kids)
        _set(self, "_memo", (key, None))
        return key

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if type(other) is not DNA:
            return NotImplemented
        ca, cb = self.children, other.children  # type: ignore[attr-defined]
        if len(ca) != 1 and len(cb) != 1:  # neither has a redundant level at the top
            return self.value == other.value and ca == cb  # type: ignore[attr-defined]
        return self._canonical() == other._canonical()  # type: ignore[attr-defined]

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self) -> int:
        memo = self._memo
        if memo is not None and memo[1] is not None:
            return memo[1]
        if len(self.children) != 1:
            h = hash((self.value, self.children))
            _set(self, "_memo", ((self.value, self.children), h))
        else:
            key = self._canonical()
            h = hash(key)
            _set(self, "_memo", (key, h))
        return h

    def __lt__(self, other: DNA) -> bool:
        if type(other) is not DNA:
            return NotImplemented
        return _compare(self._canonical(), other._canonical(), self, other) < 0

    def __le__(self, other: DNA) -> bool:
        if type(other) is not DNA:
            return NotImplemented
        return _compare(self._canonical(), other._canonical(), self, other) <= 0

    def __gt__(self, other: DNA) -> bool:
        if type(other) is not DNA:
            return NotImplemented
        return _compare(self._canonical(), other._canonical(), self, other) > 0

    def __ge__(self, other: DNA) -> bool:
        if type(other) is not DNA:
            return NotImplemented
        return _compare(self._canonical(), other._canonical(), self, other) >= 0

    # ---- printing --------------------------------------------------------------------
    def __repr__(self) -> str:
        return f"DNA({_short(self)})"

    def __str__(self) -> str:
        return repr(self)

    def use_spec(self, spec: DNASpec) -> DNA:
        """This DNA attached to ``spec`` (validated; a reduced form is expanded)."""
        dna = normalized(spec, self)
        return dna if dna.spec is spec else dna._with_spec(spec)

    def _with_spec(self, spec: DNASpec | None) -> DNA:
        return DNA(self.value, self.children, spec)

    # ---- tree ------------------------------------------------------------------------
    @property
    def parent_dna(self) -> DNA | None:
        """The DNA this one is a child of (the first one it was made a child of), or None."""
        return self._parent

    @property
    def root(self) -> DNA:
        """The top of the tree this DNA belongs to."""
        node = self
        while node._parent is not None:
            node = node._parent
        return node

    @property
    def is_leaf(self) -> bool:
        return not self.children

    def __iter__(self) -> Any:
        return iter(self.children)

    def __contains__(self, item: Any) -> bool:
        if isinstance(item, DNA):
            return any(c == item for c in self.children)
        if isinstance(item, (int, float, str)) and not isinstance(item, bool):
            return any(c.value == item for c in self.children)
        raise DNAError(f"'in' a DNA takes a decision value (int, float, str) or a DNA, got "
                       f"{type(item).__name__} {item!r:.60}")

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, (int, slice)) and not isinstance(key, bool):
            return self.children[key]
        spec = self.spec
        if spec is None:
            raise DNAError(f"{self!r} has no spec: dna[{key!r}] needs one (dna.use_spec(spec))")
        if not isinstance(key, str):
            key = getattr(key, "id", key)  # a decision point
        try:
            named = self._named
        except AttributeError:
            named = _by_key(spec, normalized(spec, self))
            _set(self, "_named", named)
        if key in named:
            return named[key]
        if key in spec.by_name or key in spec.by_id:
            return None  # a decision not on this DNA's path (under another candidate)
        raise SymbolicKeyError(f"no decision named or with id {key!r} in this DNA's spec")

    def get(self, key: Any, default: Any = None) -> Any:
        """``dna[key]``, or ``default`` when the key is not a decision of the spec."""
        try:
            return self[key]
        except (KeyError, IndexError):
            return default

    # ---- iteration -------------------------------------------------------------------
    def next_dna(self) -> DNA | None:
        """The DNA after this one in its spec's order (``sb.iterate_dna``), or None."""
        if self.spec is None:
            raise DNAError(f"{self!r} has no spec: next_dna needs one (dna.use_spec(spec))")
        return self.spec.next_dna(self)

    def iter_dna(self) -> Any:
        """The DNA after this one in its spec's order, lazily (this one excluded)."""
        dna: DNA | None = self
        while True:
            dna = dna.next_dna()  # type: ignore[union-attr]
            if dna is None:
                return
            yield dna

    # ---- flat numbers ----------------------------------------------------------------
    def to_numbers(self, flatten: bool = True) -> Any:
        """The decisions in preorder: an index per choice, the value per range.

        ``flatten=False`` gives the nested literal form instead (``DNA(literal)`` reads it):

        >>> import symbo as sb
        >>> sb.DNA([(0, [1, 2]), 0.5]).to_numbers(), sb.DNA([(0, [1, 2]), 0.5]).to_numbers(False)
        ([0, 1, 2, 0.5], [(0, [1, 2]), 0.5])
        """
        if not flatten:
            return _to_literal(self)
        out: list[Number] = []
        _numbers(self, out)
        return out

    @staticmethod
    def from_numbers(spec: DNASpec, numbers: list[Number]) -> DNA:
        """The inverse of :meth:`to_numbers` for ``spec``."""
        it = iter(numbers)
        try:
            children = _space_from_numbers(spec.space, it)
        except StopIteration:
            raise DNAError(f"too few numbers ({len(numbers)}) for this space") from None
        rest = list(it)
        if rest:
            raise DNAError(f"{len(rest)} numbers left over after reading a DNA: {rest[:5]}")
        dna = DNA(None, children, spec)
        validate(spec, dna)
        return dna

    # ---- dicts -----------------------------------------------------------------------
    def to_dict(self, key_type: str = "name_or_id", value_type: str = "value",
                spec: DNASpec | None = None) -> dict[str, Any]:
        """``{key: decision}`` by **index**: keys are names where given, else ids
        (``key_type='id'``: ids).

        ``value_type='value'`` (the default) gives the candidate index (a list of indices for a
        many_of) or the number of a range: the algorithms' form, meaningless without the
        space. ``'literal'`` gives the chosen candidates' formatted text. For the values
        themselves (``64``, not ``1``) use :meth:`to_params`.

        >>> import symbo as sb
        >>> spec = sb.dna_spec(sb.Dict(batch=sb.one_of([32, 64], name="batch")))
        >>> sb.DNA.from_numbers(spec, [1]).to_dict()
        {'batch': 1}
        """
        spec = spec or self.spec
        if spec is None:
            raise DNAError("this DNA has no spec; pass spec= or use dna.use_spec(spec)")
        dna = normalized(spec, self)
        if value_type not in _VALUE_TYPES:
            raise DNAError(f"value_type must be 'value' or 'literal', got {value_type!r}")
        if key_type not in ("name_or_id", "id"):
            raise DNAError(f"key_type must be 'name_or_id' or 'id', got {key_type!r}")
        out: dict[str, Any] = {}
        _to_dict(spec.space, dna, (), out, key_type == "id", _VALUE_TYPES[value_type])
        return out

    def to_params(self, spec: DNASpec | None = None, *, checked: bool = False) -> dict[str, Any]:
        """``{name_or_id: literal value}``: the chosen candidate itself when it is plain data
        (``None``, bools, ints, strings, finite floats, and lists and str-keyed dicts of
        them), else its formatted text (``sb.format(candidate, compact=True)``); a list of
        those for a many_of or permutate; the number for a range. Decisions under candidates
        that were not chosen are left out. JSON-compatible; :meth:`from_params` reads it back.
        ``checked=True`` skips validating a DNA already known to fit ``spec`` (the search
        loop's, which it materialized).

        >>> import symbo as sb
        >>> spec = sb.dna_spec(sb.Dict(batch=sb.one_of([32, 64], name="batch"),
        ...                            acts=sb.many_of(2, ["relu", "gelu", "tanh"], name="acts")))
        >>> sb.DNA.from_numbers(spec, [1, 2, 0]).to_params()
        {'batch': 64, 'acts': ['tanh', 'relu']}
        """
        spec = spec or self.spec
        if spec is None:
            raise DNAError("this DNA has no spec; pass spec= or use dna.use_spec(spec)")
        out: dict[str, Any] = {}
        _to_dict(spec.space, self if checked else normalized(spec, self), (), out, False, None)
        return out

    @staticmethod
    def from_dict(spec: DNASpec, values: dict[str, Any]) -> DNA:
        """The inverse of :meth:`to_dict` (indices or numbers as values)."""
        return _from_mapping(spec, values, lambda d, value, key: d.read(value))

    @staticmethod
    def from_params(spec: DNASpec, params: dict[str, Any], *,
                    fill: Callable[[Any, str], Any] | None = None) -> DNA:
        """The DNA whose :meth:`to_params` is ``params`` (the inverse of ``to_params``).

        A choice's value is matched against its candidates' param values: the candidate
        itself when it is plain data (an int candidate also matches an integral float such as
        ``64.0``), else its formatted text, or the candidate itself (``F.gelu``, ``(3, 3)``:
        what a user hands ``study.enqueue_trial``). Unknown or inactive names, missing decisions,
        values that are no candidate and numbers out of range raise :class:`DNAError` naming
        the decision. With ``fill``, a decision that ``params`` leave out (and that is active)
        takes the param value ``fill(decision_point, key)`` instead (partial params: e.g.
        ``study.enqueue_trial`` completes them with the algorithm's proposal).

        >>> import symbo as sb
        >>> spec = sb.dna_spec(sb.Dict(batch=sb.one_of([32, 64], name="batch"),
        ...                            lr=sb.float_range(1e-4, 1e-1, name="lr")))
        >>> sb.DNA.from_params(spec, {"batch": 64, "lr": 0.01})
        DNA([1, 0.01])
        >>> sb.DNA.from_params(spec, {"batch": 48, "lr": 0.01})
        Traceback (most recent call last):
        ...
        symbo.dsl.dna.DNAError: batch: 48 is not one of the candidates [32, 64]
        """
        if not isinstance(params, dict):
            raise DNAError(f"params are a dict {{name: value}}, got {type(params).__name__}")
        return _from_mapping(spec, params, lambda d, value, key: d.from_param(value, key),
                             "values", fill)


# ---- helpers: printing ---------------------------------------------------------------------
def _num(v: Number | None) -> str:
    return repr(v)


def _short(dna: DNA) -> str:
    if dna.value is None:  # a space (the root, a candidate's) or a many_of's picks
        return "[" + ", ".join(_short(c) for c in dna.children) + "]"
    if not dna.children:
        return _num(dna.value)
    inner = ", ".join(_short(c) for c in dna.children)
    if len(dna.children) == 1:
        return f"({_num(dna.value)}, {inner})"
    return f"({_num(dna.value)}, [{inner}])"


def _numbers(dna: DNA, out: list[Number]) -> None:
    if dna.value is not None:
        out.append(dna.value)
    for c in dna.children:
        _numbers(c, out)


# List comprehensions, not generator expressions: a StopIteration from ``next(it)`` (too few
# numbers) must reach ``from_numbers``, and a generator would turn it into a RuntimeError.
def _space_from_numbers(space: Decisions, it: Any) -> tuple[DNA, ...]:
    return tuple([d.read_numbers(it) for d in space.decisions])


# ---- validation ----------------------------------------------------------------------------
def validate(spec: DNASpec, dna: DNA) -> None:
    """Raises DNAError naming the decision when ``dna`` does not fit ``spec``."""
    if not isinstance(dna, DNA):
        raise DNAError(f"expected a DNA, got {type(dna).__name__}")
    from symbo.dsl.points import validate_decisions

    validate_decisions(spec.space, dna.children, "DNA")


# ---- helpers: literals, values, order -----------------------------------------------------------
def _from_literal(literal: list | tuple) -> tuple[Any, tuple[DNA, ...]]:
    """(value, children) of a literal list (a node without value) or tuple (a chain)."""
    if type(literal) is list:
        return None, tuple(DNA(v) for v in literal)
    if len(literal) < 2:
        raise DNAError(f"a tuple literal is a chain of at least 2 decisions, got {literal!r}")
    head, rest = literal[0], literal[1:]
    if isinstance(head, (list, tuple)) or head is None:
        raise DNAError(f"in a tuple literal only the last item may be a list, got {literal!r}")
    if len(rest) == 1:
        last = rest[0]
        if type(last) is list:
            return head, tuple(DNA(v) for v in last)
        return head, (DNA(last),)
    return head, (DNA(rest),)


def _checked_value(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, str)):
        raise SymbolicTypeError(
            f"a DNA value is an int, float, str or None (or a list or tuple literal), got "
            f"{type(value).__name__} {value!r:.60}")
    if isinstance(value, str):
        return str(value)
    return int(value) if isinstance(value, numbers.Integral) else float(value)


def _as_child(value: Any) -> DNA:
    if isinstance(value, DNA):
        return value
    if value is None or isinstance(value, (list, tuple, str)) or (
            isinstance(value, numbers.Real) and not isinstance(value, bool)):
        return DNA(value)
    raise SymbolicTypeError(f"DNA children are DNA (or literals), got {type(value).__name__} "
                            f"{value!r:.60}")


def _to_literal(dna: DNA) -> Any:
    value, kids = dna._canonical()
    if value is None:
        return [_to_literal(k) for k in kids]
    if not kids:
        return value
    if len(kids) == 1:
        sub = _to_literal(kids[0])
        return (value, *sub) if type(sub) is tuple else (value, sub)
    return (value, [_to_literal(k) for k in kids])


def _order(x: Any, y: Any) -> int:
    if x == y:
        return 0
    if x is None:
        return -1
    if y is None:
        return 1
    if isinstance(x, str) != isinstance(y, str):
        return 1 if isinstance(x, str) else -1
    return -1 if x < y else 1


def _compare(a: tuple, b: tuple, left: DNA, right: DNA) -> int:
    result = _order(a[0], b[0])
    if result:
        return result
    if len(a[1]) != len(b[1]):
        raise DNAError(f"the two DNA have different numbers of children and do not order: "
                       f"{left!r} and {right!r}")
    for x, y in zip(a[1], b[1]):
        result = _compare(x._canonical(), y._canonical(), left, right)
        if result:
            return result
    return 0


# The spec-dependent parts (dicts, params, reduced forms, names) live in dna_paths.py.
from symbo.dsl.dna_paths import (  # noqa: E402
    _VALUE_TYPES,
    _by_key,
    _from_mapping,
    _to_dict,
    normalized,
)
