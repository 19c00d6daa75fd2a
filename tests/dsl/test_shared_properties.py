"""Properties of spaces with shared names (hypothesis), within and across processes.

Spaces come from ``space_builder.build(seed)``: nested values with markers, functions, classes,
partials and tuples, and one marker named ``"shared"`` standing in several places (also under
exclusive candidates and inside tuples).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symbo as sb
from tests.dsl import space_builder

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _at(program: Any, path: sb.KeyPath) -> tuple[bool, Any]:
    value = program
    for key in path.keys:
        if isinstance(value, sb.Symbolic):
            if not value.sym_has(sb.KeyPath._from_keys((key,))):
                return False, None
            value = value.sym_get(sb.KeyPath._from_keys((key,)))
        elif isinstance(value, (tuple, list)) and isinstance(key, int) and key < len(value):
            value = value[key]
        else:
            return False, None
    return True, value


def _program_path(place: str, chosen: dict[str, Any]) -> str | None:
    """Where the marker of id ``place`` stands in the program (None: under a candidate that was
    not chosen): ``s3[=0].act`` is ``s3.act`` when the choice ``s3`` took candidate 0."""
    segments = place.split("[=")
    path = choice = segments[0]
    for segment in segments[1:]:
        index, rest = segment.split("]", 1)
        if chosen.get(choice) != int(index):
            return None
        choice = f"{choice}[={index}]{rest}"
        path += rest
    return path


def _shared_values(spec: sb.DNASpec, dna: sb.DNA, program: Any) -> list[Any]:
    """The values the program holds where the space's ``shared`` markers stand."""
    chosen = dna.to_dict(key_type="id")
    out = []
    for place in spec["shared"].occurrences:
        path = _program_path(place, chosen)
        if path is not None:
            found, value = _at(program, sb.KeyPath.parse(path))
            assert found, path
            out.append(value)
    return out


@SETTINGS
@given(seed=st.integers(0, 10**6), dna_seed=st.integers(0, 2**32))
def test_a_shared_name_is_one_decision_set_alike_everywhere(seed, dna_seed):
    space = space_builder.build(seed)
    spec = sb.dna_spec(space)
    assert [d.name for d in spec].count("shared") == 1
    dna = sb.random_dna(spec, dna_seed)
    program = sb.materialize(space, dna, spec=spec)
    values = _shared_values(spec, dna, program)
    assert all(sb.eq(v, values[0]) for v in values)  # none when every place is unchosen


@SETTINGS
@given(seed=st.integers(0, 10**6), dna_seed=st.integers(0, 2**32))
def test_materialize_from_a_trials_params_gives_its_program(seed, dna_seed):
    space = space_builder.build(seed)
    spec = sb.dna_spec(space)
    dna = sb.random_dna(spec, dna_seed)
    params = json.loads(json.dumps(dna.to_params(spec)))  # as a storage gives them back
    program = sb.materialize(space, dna, spec=spec)
    assert sb.eq(sb.materialize(space, sb.DNA.from_params(spec, params)), program)
    assert sb.DNA.from_params(spec, params).to_params(spec) == params  # equal candidates
    study = sb.tune(lambda p: 0.0, space, sb.algorithms.Random(seed=dna_seed), num_trials=3)
    for t in study.trials:
        stored = json.loads(json.dumps(t.params))
        assert sb.eq(sb.materialize(space, sb.DNA.from_params(spec, stored)), t.program)


@SETTINGS
@given(seed=st.integers(0, 10**6))
def test_the_fingerprint_survives_json_and_text(seed):
    space = space_builder.build(seed)
    again = sb.from_json(json.loads(json.dumps(sb.to_json(space))))
    assert sb.fingerprint(again) == sb.fingerprint(space)
    assert sb.fingerprint(sb.clone(space)) == sb.fingerprint(space)


OTHER_PROCESS = textwrap.dedent('''
    import json, sys
    import symbo as sb

    class Layer(sb.Object, type_name="elsewhere.Layer"):  # same short name, registered first
        depth: int = 1

    from tests.dsl import space_builder

    seeds = json.loads(sys.argv[1])
    print(json.dumps([sb.fingerprint(space_builder.build(s)) for s in seeds]))
''')


@settings(max_examples=3, deadline=None)
@given(seeds=st.lists(st.integers(0, 10**6), min_size=8, max_size=8))
def test_the_fingerprint_is_equal_for_equal_spaces_built_in_another_process(seeds):
    here = [sb.fingerprint(space_builder.build(s)) for s in seeds]
    done = subprocess.run([sys.executable, "-c", OTHER_PROCESS, json.dumps(seeds)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == here
    assert len(set(here)) == len(set(seeds))  # different seeds, different spaces
