"""Tests of ``sb.CustomHyper``, ``sb.evolve`` and ``sb.ValueReference`` (issue 14)."""

import random
import subprocess
import sys
from pathlib import Path

import pytest

import symbo as sb


class IntSequence(sb.CustomHyper):
    """Comma-separated ints (PyGlove's example): a variable-length decision."""

    def custom_decode(self, dna):
        return [int(v) for v in dna.value.split(",") if v != ""]

    def custom_encode(self, value):
        return sb.DNA(",".join(str(v) for v in value))

    def random_dna(self, rng=None, previous_dna=None):
        rng = rng or random
        if previous_dna is None:
            return sb.DNA(",".join(str(rng.randint(-9, 9)) for _ in range(rng.randint(1, 4))))
        items = previous_dna.value.split(",")
        i = rng.randrange(len(items))
        items[i] = str(rng.randint(-9, 9))
        return sb.DNA(",".join(items))


class Counter3(sb.CustomHyper):
    """'0', '1', '2' in order: an enumerable custom decision."""

    def custom_decode(self, dna):
        return int(dna.value)

    def next_dna(self, dna=None):
        if dna is None:
            return sb.DNA("0")
        n = int(dna.value) + 1
        return sb.DNA(str(n)) if n < 3 else None


def test_custom_hyper_decodes_string_genomes_inside_a_space():
    space = sb.Dict(seq=IntSequence(name="seq"), other=sb.one_of([1, 2]))
    spec = sb.dna_spec(space)
    assert isinstance(spec.decisions[0], sb.CustomDecision) and spec.decisions[0].name == "seq"
    program = sb.materialize(space, sb.DNA(["1,-2,3", 1]))
    assert program == {"seq": [1, -2, 3], "other": 2}
    assert sb.encode(space, program) == sb.DNA(["1,-2,3", 1])
    assert sb.DNA.from_numbers(spec, ["4,5", 0]).to_params() == {"seq": "4,5", "other": 1}
    with pytest.raises(sb.DNAError, match="seq: expected a string genome of IntSequence"):
        sb.materialize(space, sb.DNA([3, 1]))


def test_custom_hyper_is_searched_by_random_and_evolution_and_refused_by_tpe():
    space = sb.Dict(seq=IntSequence())
    for algorithm in (sb.algorithms.Random(seed=1),
                      sb.algorithms.RegularizedEvolution(population_size=4, tournament_size=2,
                                                         seed=1)):
        study = sb.tune(lambda p: float(sum(p.seq)), space, algorithm, num_trials=12)
        assert len(study.trials) == 12 and all(t.status == "completed" for t in study.trials)
    with pytest.raises(sb.algorithms.AlgorithmError, match=r"custom decision\(s\) seq"):
        sb.algorithms.TPE(seed=0).setup(sb.dna_spec(space))


def test_enumerable_custom_hyper_iterates_in_its_order():
    space = sb.Dict(c=Counter3(), d=sb.one_of(["a", "b"]))
    assert [(p.c, p.d) for p in sb.iterate(space)] == [
        (0, "a"), (0, "b"), (1, "a"), (1, "b"), (2, "a"), (2, "b")]
    spec = sb.dna_spec(space)
    assert spec.first_dna() == sb.DNA(["0", 0])
    with pytest.raises(sb.SymbolicValueError, match="cannot enumerate"):
        list(sb.iterate(sb.Dict(s=IntSequence())))


def test_custom_hyper_prints_and_serializes():
    hyper = IntSequence(name="seq")
    assert sb.format(hyper) == "IntSequence(name='seq')"
    assert sb.eq(sb.from_json(sb.to_json(sb.Dict(s=hyper))), sb.Dict(s=hyper))


def test_evolve_grows_programs_from_an_initial_one():
    def mutate(path, old, parent):
        if isinstance(old, int):
            return old + 1
        if old is sb.MISSING:
            return 0
        return old

    space = sb.Dict(body=sb.evolve(sb.List([1, 2]), mutate, name="body"), scale=2)
    spec = sb.dna_spec(space)
    assert sb.materialize(space, spec.first_dna()) == {"body": [1, 2], "scale": 2}
    point = spec.decisions[0]
    rng = random.Random(0)
    dna = point.first_dna()
    seen = set()
    for _ in range(30):
        dna = point.mutate(dna, rng, None)
        seen.add(sb.to_json_str(sb.materialize(space, dna).body))
    assert len(seen) > 5
    study = sb.tune(lambda p: float(sum(p.body)), space,
                    sb.algorithms.RegularizedEvolution(population_size=4, tournament_size=2,
                                                       seed=0), num_trials=15)
    assert study.best_trial.reward >= 3.0


def test_evolve_weights_choose_mutation_points():
    def mutate(path, old, parent):
        return old + 10 if isinstance(old, int) else old

    only_first = sb.evolve(sb.List([1, 2]), mutate,
                           weights=lambda kind, path, value, parent: float(
                               kind == "replace" and path == "[0]"))
    value = only_first.mutate(sb.List([1, 2]), random.Random(0))
    assert value == [11, 2]


def test_value_reference_copies_another_decision():
    space = sb.Dict(hidden=sb.one_of([64, 128], name="h"),
                    blocks=[sb.Dict(units=sb.ValueReference("hidden")),
                            sb.Dict(units=sb.ValueReference(["hidden"]))])
    programs = list(sb.iterate(space))
    assert [p.blocks[1].units for p in programs] == [64, 128]
    assert sb.dna_spec(space).space_size == 2
    assert sb.encode(space, programs[1]) == sb.DNA([1])
    assert sb.eq(sb.from_json(sb.to_json(space)), space)


def test_value_reference_resolve_and_call():
    sd = sb.Dict(c=[{"x": [{"z": 0}]}, {"x": [{"z": 1}]}])
    sd.a = sb.ValueReference("c[0].x[0].z")
    assert sd.a.resolve() == (sd, "c[0].x[0].z") and sd.a() == 0
    sd.c[0].y = sb.ValueReference("x[0].z")
    sd.c[1].y = sb.ValueReference("x[0].z")
    assert sd.c[0].y.resolve() == (sd.c[0], "c[0].x[0].z") and sd.c[1].y() == 1
    assert sd.c[0].y.resolve("[0]") == (sd.c, "c[0]")
    sd.c[1].z = sb.ValueReference("y")
    with pytest.raises(sb.SymbolicValueError, match="references do not chain"):
        sd.c[1].z()
    with pytest.raises(sb.SymbolicValueError, match="no ancestor has that path"):
        sb.ValueReference("x[0].z").resolve()
    with pytest.raises(sb.SymbolicValueError, match="exactly one key path"):
        sb.ValueReference([])


def test_value_reference_fits_typed_fields():
    class Block(sb.Object):
        width: int = 8
        out: int = 8

    space = Block(width=sb.int_range(1, 3), out=sb.ValueReference("width"))
    assert [p.out for p in sb.iterate(space)] == [1, 2, 3]


CUSTOM_SCRIPT = '''
import random, sys
import symbo as sb

class Bits(sb.CustomHyper):
    def custom_decode(self, dna):
        return [int(c) for c in dna.value]
    def random_dna(self, random_generator=None, previous_dna=None):  # PyGlove's names
        r = random_generator or random
        if previous_dna is None:
            return sb.DNA("".join(r.choice("01") for _ in range(6)))
        g = list(previous_dna.value); i = r.randrange(6); g[i] = "10"[int(g[i])]
        return sb.DNA("".join(g))

space = sb.Dict(bits=Bits(name="bits"), w=sb.one_of([1, 2], name="w"), same=sb.ValueReference("w"))

def objective(p):
    return float(sum(p.bits) * p.same)

if __name__ == "__main__":
    algo = sb.algorithms.RegularizedEvolution(population_size=4, tournament_size=2, seed=1)
    study = sb.tune(objective, space, algo, num_trials=int(sys.argv[2]), storage=sys.argv[1],
                    study_name="bits", load_if_exists=True)
    print(len(study.trials))
'''


def test_a_custom_hyper_study_resumes_in_another_process_and_shows_without_the_code(
        tmp_path: Path) -> None:
    """Genomes (strings) are stored DNA values: read back, resumed, shown by the CLI."""
    (tmp_path / "user").mkdir()
    script = tmp_path / "user" / "bits_search.py"
    script.write_text(CUSTOM_SCRIPT)
    url = f"sqlite:///{tmp_path / 's.db'}"

    def run(*argv: str, cwd: Path = tmp_path) -> str:
        done = subprocess.run([sys.executable, *argv], capture_output=True, text=True, cwd=cwd,
                              timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert run(str(script), url, "6").split() == ["6"]
    assert run(str(script), url, "10").split() == ["10"]  # resumed: the stored genomes are read
    study = sb.load_study(url, "bits")  # this process cannot import bits_search
    genomes = [t.params["bits"] for t in study.trials]
    assert len(genomes) == 10 and all(isinstance(g, str) and len(g) == 6 for g in genomes)
    assert study.trials[0].dna.children[0].value == genomes[0]
    shown = run("-m", "symbo", "show", str(tmp_path / "s.db"), "bits")
    assert "10 trials: 10 completed" in shown and genomes[0] in shown
    best = run("-m", "symbo", "best", str(tmp_path / "s.db"))
    assert "best program" in best
