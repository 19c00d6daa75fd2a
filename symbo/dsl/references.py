"""``sb.ValueReference``: a value that copies another value of the same tree (PyGlove's
``pg.hyper.ValueReference``), resolved when a program is materialized.

A space can derive one setting from another decision: ``out`` below is whatever ``hidden``
becomes. The reference path is looked up from the reference's parent upwards (the nearest
ancestor that has it), so the same relative path works in every copy of a block.

>>> import symbo as sb
>>> space = sb.Dict(hidden=sb.one_of([64, 128]), head=sb.Dict(out=sb.ValueReference("hidden")))
>>> [p.head.out for p in sb.iterate(space)]
[64, 128]
"""

from __future__ import annotations

import copy
from typing import Any

from symbo.core import DeferredValue, KeyPath, Object, Symbolic, SymbolicValueError
from symbo.core.traversal import TraverseAction, traverse

__all__ = ["ValueReference", "resolve_references"]


class ValueReference(Object, DeferredValue, type_name="symbo.ValueReference"):
    """A copy of the value at ``reference_paths[0]`` (one key path; a str is accepted),
    searched from this node's parent up to the root. It fits any field.

    >>> import symbo as sb
    >>> d = sb.Dict(c=[{"x": 1}, {"x": 2}])
    >>> d.c[1].y = sb.ValueReference("x")
    >>> d.c[1].y(), d.c[1].y.resolve()[1]
    (2, KeyPath('c[1].x'))
    """

    reference_paths: list[str] = []

    def __init__(self, reference_paths: Any = (), **kwargs: Any) -> None:
        if isinstance(reference_paths, (str, KeyPath)):
            reference_paths = [reference_paths]
        paths = [str(KeyPath.parse(p)) for p in reference_paths]
        super().__init__(reference_paths=paths, **kwargs)

    def _on_bound(self) -> None:
        if len(self.reference_paths) != 1:
            raise SymbolicValueError(
                f"ValueReference takes exactly one key path, got {list(self.reference_paths)}"
            )

    @property
    def reference_path(self) -> KeyPath:
        return KeyPath.parse(self.reference_paths[0])

    def sym_check_against(self, check: Any) -> None:
        """Any field accepts a reference (the value it copies is checked where it stands)."""

    def resolve(self, path: str | KeyPath | None = None) -> tuple[Symbolic, KeyPath]:
        """(the ancestor the path is found under, the full path of the referenced value)."""
        reference = self.reference_path if path is None else KeyPath.parse(path)
        parent = self.sym_parent
        while parent is not None and not reference.exists(parent):
            parent = parent.sym_parent
        if parent is None:
            raise SymbolicValueError(
                f"{self.sym_path or 'the root'}: cannot resolve ValueReference "
                f"{str(reference)!r}: no ancestor has that path"
            )
        return parent, parent.sym_path + reference

    def __call__(self) -> Any:
        """A copy of the referenced value (which must hold no references itself)."""
        parent, full = self.resolve()
        value = self.reference_path.query(parent)
        if _holds_reference(value):
            raise SymbolicValueError(
                f"{self.sym_path}: ValueReference {self.reference_paths[0]!r} refers to "
                f"{full}, which holds a ValueReference itself (references do not chain)"
            )
        return copy.copy(value) if isinstance(value, Symbolic) else value


def _holds_reference(value: Any) -> bool:
    if isinstance(value, ValueReference):
        return True
    if not isinstance(value, Symbolic):
        return False
    found: list[Any] = []

    def visit(path: Any, node: Any, parent: Any) -> TraverseAction:
        if isinstance(node, ValueReference):
            found.append(node)
            return TraverseAction.STOP
        return TraverseAction.ENTER

    traverse(value, visit)
    return bool(found)


def resolve_references(program: Any) -> Any:
    """``program`` with each ValueReference replaced by the value it refers to (in place)."""
    if isinstance(program, ValueReference):
        raise SymbolicValueError("a ValueReference cannot be a whole program")
    if not isinstance(program, Symbolic):
        return program
    refs: list[ValueReference] = []

    def visit(path: Any, node: Any, parent: Any) -> TraverseAction:
        if isinstance(node, ValueReference):
            refs.append(node)
            return TraverseAction.SKIP
        return TraverseAction.ENTER

    traverse(program, visit)
    if refs:
        updates = {ref.sym_path.relative_to(program.sym_path): ref() for ref in refs}
        program.rebind(updates)
    return program


def _register() -> None:
    import sys

    sys.modules["symbo.dsl.materialize"]._REF = ValueReference  # type: ignore[attr-defined]


_register()
