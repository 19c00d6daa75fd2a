"""The registry of names that JSON and the text language may refer to.

Symbolic classes register themselves on definition under ``module.QualName`` (or the
``type_name=`` given in the class statement). Other values (a function, a third-party class, a
constant) are registered explicitly with :func:`register`.

**Values by reference.** A function, a class, or a module-level object that is not registered
is written by reference, as the module and qualified name it is defined under
(:func:`reference_name`: ``torch.nn.functional.relu``, ``torchvision.models.resnet.BasicBlock``),
and a name is resolved on load (:func:`lookup`) only to a registered value, a symbolic class,
or a value that code already imported in the reading process defines under exactly that name
(as the spaces and programs built there hold it). **Loading never imports anything**: a name
that resolves to nothing is an error that says which module to import. An object bound at
module level is found by identity in the modules its class names and in the user's own code
(the script, and imported modules outside the Python installation): ``train.BACKBONE``. A copy
of such an object (each program gets its own, :func:`note_copy`) is written under its name.

**Scripts.** Names defined in a script run as ``__main__`` are written and registered under the
script's module name (its file stem, or the module ``python -m`` ran), so that a process that
imports the script finds them; ``__main__.Name`` is kept as an alias.

>>> import symbo as sb
>>> def relu(x): return max(x, 0)
>>> sb.register(relu, "examples.relu") is relu
True
>>> sb.registry.lookup("examples.relu") is relu
True
>>> import math
>>> sb.registry.reference_name(math.sqrt), sb.registry.lookup("math.sqrt") is math.sqrt
('math.sqrt', True)
"""

from __future__ import annotations

import enum
import functools
import inspect
import keyword
import os
import sys
import weakref
from collections.abc import Callable
from typing import Any

from symbo.core.errors import SerializationError, SymbolicValueError

_BY_NAME: dict[str, Any] = {}
_NAME_OF: dict[int, str] = {}  # id(value) -> name
_SHORT: dict[str, set[str]] = {}
_REFERENCES: dict[int, tuple[Any, str]] = {}  # id(value) -> (value, reference_name)
_MAIN = "__main__"


def script_module() -> str | None:
    """The module name under which another process can import the script running as
    ``__main__``: the module ``python -m`` ran, else the script file's stem (None in an
    interactive session, or when the stem is not an identifier).

    >>> from symbo.core import registry
    >>> registry.script_module() is None or registry.script_module().isidentifier()
    True
    """
    main = sys.modules.get(_MAIN)
    spec = getattr(main, "__spec__", None)
    name = getattr(spec, "name", None)
    if name and name != _MAIN and not name.endswith("." + _MAIN):
        return name
    file = getattr(main, "__file__", None)
    if not file:
        return None
    stem = os.path.splitext(os.path.basename(file))[0]
    return stem if stem.isidentifier() and not keyword.iskeyword(stem) else None


def _module_name(module: str) -> str:
    if module == _MAIN:
        return script_module() or _MAIN
    return module


def default_name(value: Any) -> str:
    module = getattr(value, "__module__", None) or _MAIN
    qualname = getattr(value, "__qualname__", None) or getattr(value, "__name__", None)
    if qualname is None:
        raise SymbolicValueError(f"cannot derive a registry name for {value!r}; pass name=")
    return f"{_module_name(module)}.{qualname}"


def register(value: Any, name: str | None = None) -> Any:
    """Registers a class, function or constant under ``name`` (default ``module.qualname``,
    with a script's module name for ``__main__``).

    Returns the value, so it can be used as a decorator. Re-registering a name replaces it (so
    re-running a notebook cell works).
    """
    if name is None:
        name = default_name(value)
    if not isinstance(name, str) or not name:
        raise SymbolicValueError(f"registry names must be non-empty strings, got {name!r}")
    old = _BY_NAME.get(name)
    if old is not None:
        _NAME_OF.pop(id(old), None)
    _BY_NAME[name] = value
    _NAME_OF[id(value)] = name
    _SHORT.setdefault(name.rsplit(".", 1)[-1], set()).add(name)
    script = script_module()
    if script and getattr(value, "__module__", None) == _MAIN and name.startswith(script + "."):
        _BY_NAME[f"{_MAIN}.{name[len(script) + 1:]}"] = value  # the name it had before
    return value


def is_registered(name: str) -> bool:
    """Whether ``name`` is registered (generated names count once a resolver made them).

    >>> from symbo.core import registry
    >>> registry.is_registered("symbo.one_of"), registry.is_registered("nowhere.Nothing")
    (True, False)
    """
    return name in _BY_NAME


def name_of(value: Any) -> str | None:
    """The registered name of ``value``, or None."""
    name = _NAME_OF.get(id(value))
    if name is not None and _BY_NAME.get(name) is value:
        return name
    return None


_RESOLVERS: list[tuple[str, Callable[[str], Any]]] = []


def register_resolver(prefix: str, resolve: Callable[[str], Any]) -> None:
    """Lets a package register names under ``prefix`` on demand (e.g. generated wrappers of
    ``torch.nn``): ``resolve(name)`` registers and returns the value, or returns None. Only
    names under the prefix reach it; it is symbo's own code, never imported from the data.
    """
    _RESOLVERS.append((prefix, resolve))


def has_resolver(prefix: str) -> bool:
    """Whether a resolver is registered for ``prefix`` (see :func:`register_resolver`)."""
    return any(p == prefix for p, _ in _RESOLVERS)


def _resolve(name: str) -> Any:
    for prefix, resolve in _RESOLVERS:
        if name.startswith(prefix):
            value = resolve(name)
            if value is not None:
                return value
    return None


def lookup(name: str, *, loaded: bool = True) -> Any:
    """The value a full name stands for: registered (or generated by a resolver), or, with
    ``loaded``, defined under that name by code already imported (see the module docstring).
    Raises SerializationError, naming the module to import, if there is none."""
    try:
        return _BY_NAME[name]
    except (KeyError, TypeError):
        value = _resolve(name) if isinstance(name, str) else None
        if value is not None:
            return value
        value = _loaded(name) if loaded and isinstance(name, str) else _NOT_FOUND
        if value is not _NOT_FOUND and reference_name(value) == name:  # written under this name
            return value
        module = name.rsplit(".", 1)[0] if isinstance(name, str) and "." in name else None
        hint = f"; import {module!r} (or register the value) before loading" if module else ""
        raise SerializationError(f"unknown type {name!r}: not registered{hint}") from None


# ---- values by reference ----------------------------------------------------------------------
_NOT_FOUND: Any = object()


def reference_name(value: Any) -> str | None:
    """The name ``value`` is written under: its registered name, else the module and qualified
    name that define it (a function, a class, a builtin, an enum member, or another object
    bound to a name at module level), checked to give the value back; None when there is none
    (a lambda, a local function, an instance made at run time).

    >>> import enum, math
    >>> from symbo.core import registry
    >>> registry.reference_name(math.sqrt), registry.reference_name(enum.Enum)
    ('math.sqrt', 'enum.Enum')
    >>> registry.reference_name(lambda x: x) is None
    True
    """
    name = name_of(value)
    if name is not None:
        return name
    key = id(value)
    cached = _REFERENCES.get(key)
    if cached is not None and cached[0] is value:
        return cached[1]
    copied = _COPIES.get(key)
    if copied is not None and copied[0]() is value:  # a program's own copy of a named object
        return reference_name(copied[1])
    name = _find_reference(value)
    if name is not None:  # module-level values live as long as their module: safe to keep
        _REFERENCES[key] = (value, name)
    return name


_COPIES: dict[int, tuple[weakref.ref, Any]] = {}  # id(copy) -> (ref to the copy, original)


def note_copy(copy: Any, original: Any) -> None:
    """Records that ``copy`` is a deep copy of ``original`` (``sb.materialize`` gives every
    program its own copies of the objects in a space): a copy of an object written by
    reference (``train.DEFAULT_HEAD``, a registered instance) is written under the same name,
    so a program holding it is stored as its space is. Kept while the copy lives.

    >>> import copy
    >>> from symbo.core import registry
    >>> class Head: pass
    >>> head = registry.register(Head(), "examples.head")
    >>> mine = copy.deepcopy(head); registry.note_copy(mine, head)
    >>> registry.reference_name(mine)
    'examples.head'
    """
    key = id(copy)

    def forget(ref: weakref.ref, key: int = key) -> None:
        if _COPIES.get(key, (None,))[0] is ref:
            del _COPIES[key]

    try:
        ref = weakref.ref(copy, forget)
    except TypeError:  # no weak references (a slotted class): not written by reference
        return
    _COPIES[key] = (ref, original)


def _find_reference(value: Any) -> str | None:
    if isinstance(value, (int, float, str, bool, bytes, complex)) or value is None:
        return None
    if isinstance(value, enum.Enum):
        cls = type(value)
        name = f"{_module_name(cls.__module__)}.{cls.__qualname__}.{value.name}"
        return name if _loaded(name) is value else None
    module = getattr(value, "__module__", None)
    qualname = getattr(value, "__qualname__", None)
    if isinstance(module, str) and isinstance(qualname, str) and "<" not in qualname and (
            isinstance(value, type) or callable(value)):
        name = f"{_module_name(module)}.{qualname}"
        if _loaded(name) is value:
            if not any(p.startswith("_") for p in module.split(".")):
                return name
            # defined in a private module (torch._C._nn.gelu): the public name users know
            # (torch.nn.functional.gelu) reads better and outlives the private layout
            public = _public_name(value, module.split(".", 1)[0])
            return public or name
    # an object bound at module level (torch.float32, a builtin whose __module__ is private):
    # look for it by identity in the modules it names
    places = [m for m in (module, getattr(type(value), "__module__", None)) if isinstance(m, str)]
    for m in list(places):
        places.append(m.split(".", 1)[0])
    # and in the user's own code: the script and the modules imported from outside the Python
    # installation (BACKBONE = nn.Linear(4, 4) at the top of train.py, or of a module it uses)
    places += [_MAIN, *_user_modules()]
    for m in dict.fromkeys(places):
        mod = sys.modules.get(m)
        if mod is None:
            continue
        for attr, v in list(vars(mod).items()):
            if v is value and not attr.startswith("_"):
                name = f"{_module_name(m)}.{attr}"
                if _loaded(name) is value:
                    return name
    return None


_USER_MODULES: tuple[int, list[str]] = (-1, [])
_IS_USER: dict[str, bool] = {}  # module name -> whether it is the user's code


def _user_modules() -> list[str]:
    """The imported modules that are not part of the Python installation (stdlib,
    site-packages) nor symbo: the user's code, sorted by name (modules imported since the
    last call are looked at; the others are remembered)."""
    global _USER_MODULES
    count = len(sys.modules)
    if _USER_MODULES[0] != count:
        roots = _installation()
        for name, module in list(sys.modules.items()):
            if name not in _IS_USER:
                file = getattr(module, "__file__", None)
                _IS_USER[name] = (name != _MAIN and isinstance(file, str)
                                  and os.path.isabs(file) and not file.startswith(roots))
        _USER_MODULES = (count, sorted(n for n in sys.modules if _IS_USER.get(n)))
    return _USER_MODULES[1]


@functools.cache
def _installation() -> tuple[str, ...]:
    """Folders whose modules are not the user's: Python's, the environment's and symbo's."""
    import sysconfig

    paths = sysconfig.get_paths()
    folders = {sys.prefix, sys.base_prefix, sys.exec_prefix, paths.get("stdlib"),
               paths.get("purelib"), paths.get("platlib"),
               os.path.dirname(os.path.dirname(os.path.abspath(__file__)))}  # symbo's package
    folders |= {os.path.realpath(f) for f in list(folders) if f}
    return tuple(os.path.join(f, "") for f in folders if f)


def _public_name(value: Any, package: str) -> str | None:
    """A name of ``value`` in an imported public module of ``package``, shortest first."""
    modules = sorted((m for m in list(sys.modules) if m == package or m.startswith(package + ".")),
                     key=lambda m: (m.count("."), len(m), m))
    for m in modules:
        if any(p.startswith("_") for p in m.split(".")):
            continue
        mod = sys.modules.get(m)
        namespace = getattr(mod, "__dict__", None)
        if not isinstance(namespace, dict):
            continue
        for attr, v in list(namespace.items()):
            if v is value and not attr.startswith("_"):
                name = f"{m}.{attr}"
                if _loaded(name) is value:
                    return name
    return None


def _loaded(name: str) -> Any:
    """The value already-imported code defines under ``name`` (module path, then attributes
    read statically: no module is imported, no property or ``__getattr__`` runs)."""
    parts = name.split(".")
    script = script_module()
    for i in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:i])
        module = sys.modules.get(module_name)
        if module is None and module_name == script:
            module = sys.modules.get(_MAIN)
        if module is None:
            continue
        value: Any = module
        for part in parts[i:]:
            value = inspect.getattr_static(value, part, _NOT_FOUND)
            if value is _NOT_FOUND:
                break
            if isinstance(value, (staticmethod, classmethod)):
                value = value.__func__
        if value is not _NOT_FOUND and not inspect.ismodule(value):
            return value
    return _NOT_FOUND


def lookup_short(name: str) -> Any:
    """A registered value by full name or, when unambiguous, by its last part."""
    if name in _BY_NAME:
        return _BY_NAME[name]
    full = _SHORT.get(name, set())
    live = sorted(n for n in full if n in _BY_NAME and n.rsplit(".", 1)[-1] == name)
    if len(live) == 1:
        return _BY_NAME[live[0]]
    if len(live) > 1:
        raise SerializationError(f"name {name!r} is ambiguous: write one of {', '.join(live)}")
    if "." not in name:  # a short name a resolver can generate (e.g. Linear -> torch.nn.Linear)
        for prefix, resolve in _RESOLVERS:
            if prefix.endswith("."):
                value = resolve(prefix + name)
                if value is not None:
                    return value
    return lookup(name)


def short_name(value: Any) -> str | None:
    """The shortest unambiguous registered name of ``value`` (last part when unique)."""
    name = name_of(value)
    if name is None:
        return None
    short = name.rsplit(".", 1)[-1]
    return short if len(_SHORT.get(short, ())) == 1 else name


def names() -> list[str]:
    return sorted(_BY_NAME)
