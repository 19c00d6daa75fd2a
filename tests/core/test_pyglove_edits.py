"""PyGlove's container and edit features (issue 14): sealed containers, change callbacks,
attribute access on Dict, notification control, int keys and insertions in rebind, and the
``as_sealed``/``notify_on_change`` scopes."""

import threading

import pytest

import symbo as sb


def test_sealed_list_refuses_every_edit():
    sl = sb.List([0], sealed=True)
    assert sl.is_sealed
    edits = [lambda: sl.append(1), lambda: sl.insert(0, 1), lambda: sl.extend([0, 1]),
             lambda: sl.pop(), lambda: sl.__setitem__(0, 1), lambda: sl.__setitem__(slice(None), [1]),
             lambda: sl.__delitem__(0), lambda: sl.rebind({0: 3}), lambda: sl.clear()]
    for edit in edits:
        with pytest.raises(sb.SealedError, match="cannot edit a sealed List"):
            edit()
    assert sl == [0]
    sl.seal(False)
    sl[0] = 2
    sl.append(3)
    sl.rebind({-1: 7})
    assert sl == [2, 7]


def test_sealed_nested_and_dict():
    sl = sb.List([[]], sealed=True)
    assert sl[0].is_sealed
    d = sb.Dict(a=1, b=[1], sealed=True)
    assert d.is_sealed and d.b.is_sealed
    with pytest.raises(sb.SealedError):
        d.a = 2
    with pytest.raises(sb.SealedError):
        d.b.append(2)
    assert sb.Dict({"sealed": 1, "onchange_callback": 2}) == {"sealed": 1, "onchange_callback": 2}


def test_as_sealed_scope_overrides_without_changing_the_flags():
    sl = sb.List([0], sealed=True)
    with sb.as_sealed(False):
        sl[0] = 2
        sl.append(3)
        sl.rebind({-1: 7})
        assert sl.is_sealed
    assert sl == [2, 7]
    d = sb.Dict(a=1)
    with sb.as_sealed(True):
        with pytest.raises(sb.SealedError):
            d.b = 1
        with pytest.raises(sb.SealedError):
            del d.a
        with sb.as_sealed(None):
            d.c = 3
    assert d == {"a": 1, "c": 3}


def test_scopes_are_per_thread():
    d = sb.Dict(a=1)
    seen = []
    inside = threading.Event()
    done = threading.Event()

    def other():
        inside.wait()
        try:
            d.a = 2
            seen.append("edited")
        except sb.SealedError:
            seen.append("sealed")
        done.set()

    t = threading.Thread(target=other)
    t.start()
    with sb.as_sealed(True):
        inside.set()
        done.wait()
    t.join()
    assert seen == ["edited"]


def test_dict_attribute_set_and_delete():
    sd = sb.Dict()
    sd.a = 0
    assert sd == {"a": 0} and sd.a == 0
    sd.b = [1]
    assert sd.b.sym_path == "b"
    del sd.a
    assert sd == {"b": [1]}
    with pytest.raises(KeyError, match="no key 'x'"):
        del sd.x
    with pytest.raises(AttributeError, match="no key or attribute 'x'"):
        sd.x  # noqa: B018


def test_onchange_callback_on_list_and_dict():
    heard = []
    sl = sb.List([0], onchange_callback=lambda updates: heard.append(
        {str(k): (u.old_value, u.new_value) for k, u in updates.items()}))
    sl.append(1)
    sl[1] = 3
    sl.insert(0, 2)
    del sl[0]
    sl.remove(3)
    assert len(heard) == 5 and heard[0] == {"[1]": (sb.MISSING, 1)}
    d = sb.Dict(x=sb.Dict(y=1), onchange_callback=lambda u: heard.append(sorted(map(str, u))))
    d.rebind({"x.y": 2, "z": 3})
    assert heard[-1] == ["x.y", "z"]
    assert sb.clone(d)._sym_onchange is d._sym_onchange


def test_notify_on_change_scope_silences_callbacks_and_hooks():
    count = sb.Dict(n=0)

    def bump(updates):
        count.n += 1

    class Watch(sb.Object):
        x: int = 0

        def _on_bound(self):
            self._bound = getattr(self, "_bound", 0) + 1

    sl = sb.List([0], onchange_callback=bump)
    w = Watch()
    with sb.notify_on_change(False):
        sl.append(1)
        sl[1] = 3
        del sl[0]
        w.x = 5
    assert count.n == 0 and sl == [3] and w._bound == 1 and w.x == 5
    sl.append(4)
    assert count.n == 1


def test_rebind_skip_notification():
    def fail(updates):
        raise AssertionError("notified")

    sl = sb.List([0, 1, 2], onchange_callback=fail)
    sl.rebind({0: 100}, skip_notification=True)
    assert sl == [100, 1, 2]


def test_rebind_without_notifying_parents():
    heard = []

    def on(name):
        return lambda updates: heard.append(name)

    c = sb.List([0], onchange_callback=on("c"))
    b = sb.List([c], onchange_callback=on("b"))
    a = sb.List([b], onchange_callback=on("a"))
    sb.List([a], onchange_callback=on("y"))
    a = a.sym_parent[0]
    a.rebind({"[0][0][0]": 2}, notify_parents=False)
    assert heard == ["c", "b", "a"]
    heard.clear()
    a.rebind({"[0][0][0]": 3})
    assert heard == ["c", "b", "a", "y"]
    heard.clear()
    a.rebind({0: 1}, notify_parents=False)
    assert heard == ["a"]


def test_notifications_go_deepest_path_first():
    heard = []

    def on(name):
        return lambda updates: heard.append((name, sorted(map(str, updates))))

    sl = sb.List([
        1,
        sb.Dict(x=1, y=sb.Dict(onchange_callback=on("[1].y")), onchange_callback=on("[1]")),
        sb.List([sb.Dict(p=1, onchange_callback=on("[2][0]"))], onchange_callback=on("[2]")),
        "foo",
    ], onchange_callback=on("root"))
    sl.rebind({
        "[0]": 2, "[1].x": 2, "[1].y.z": 1, "[2][0].p": sb.MISSING, "[2][0].q": 2,
        "[3]": "foo",                   # unchanged: not notified
        "[4]": sb.Insertion("bar"),     # at the end: appended
    })
    assert [name for name, _ in heard] == ["[2][0]", "[2]", "[1].y", "[1]", "root"]
    assert heard[0][1] == ["p", "q"] and heard[3][1] == ["x", "y.z"]
    assert heard[-1][1] == ["[0]", "[1].x", "[1].y.z", "[2][0].p", "[2][0].q", "[4]"]
    assert sl[4] == "bar"


def test_rebind_with_nothing_to_change():
    sl = sb.List([0, 1])
    assert sl.rebind() is sl and sl.rebind(lambda k, v, p: v) is sl
    with pytest.raises(sb.SymbolicValueError, match="no values to rebind"):
        sl.rebind(raise_on_no_change=True)


def test_rebinder_with_two_arguments():
    d = sb.Dict(a=1, b=[2])
    d.rebind(lambda k, v: v + 1 if isinstance(v, int) else v)
    assert d == {"a": 2, "b": [3]}
    with pytest.raises(sb.SymbolicTypeError, match="rebinder must take"):
        d.rebind(lambda v: v)


def test_int_keys_in_rebind_dicts():
    sl = sb.List([0, 1])
    sl.rebind({0: "a", 2: "c"})
    assert sl == ["a", 1, "c"]


def test_insertion_in_rebind_and_errors():
    sl = sb.List([0, 1])
    sl.rebind({0: sb.Insertion(2)})
    assert sl == [2, 0, 1]
    sl.rebind({1: sb.Insertion("x"), "[1]": sb.MISSING})  # insert before, then drop, old [1]
    assert sl == [2, "x", 1]
    with pytest.raises(sb.SymbolicTypeError, match="only inserts into lists"):
        sb.Dict(a=1).rebind(a=sb.Insertion(2))
    typed = sb.List([1], element=sb.core.validation.compile_check(int))
    with pytest.raises(sb.SymbolicTypeError, match=r"^\[0\]: expected int"):
        typed.rebind({0: sb.Insertion("s")})
    assert typed == [1]
