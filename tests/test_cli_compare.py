"""``symbo compare``: run as a user would, in another process, in a fresh folder."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import symbo as sb

SCRIPT = textwrap.dedent("""
    import symbo as sb
    space = sb.Dict(x=sb.float_range(-2.0, 2.0), k=sb.one_of(["a", "b"]))
    objectives = ("min",)
    def objective(p):
        return (p.x - 0.5) ** 2 + (p.k == "a")
""")


def symbo(tmp_path, *args):
    return subprocess.run([sys.executable, "-m", "symbo", *args], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)


def test_compare_prints_the_table_writes_the_plot_and_resumes(tmp_path):
    pytest.importorskip("matplotlib")
    (tmp_path / "s.py").write_text(SCRIPT)
    args = ["compare", "s.py", "--algorithms", "TPE,Random,RegularizedEvolution(population_size=5, "
            "tournament_size=2)", "--seeds", "3", "--trials", "12", "-o", "compare.png",
            "--storage", "c.db", "--save", "c.json", "--quiet"]
    first = symbo(tmp_path, *args)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert lines[0].startswith("best value so far (lowest is best)")
    names = [ln.split()[0] for ln in lines[2:5]]
    assert names == ["TPE", "Random", "RegularizedEvolution(population_size=5,"]
    assert (tmp_path / "compare.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = sb.Comparison.load(tmp_path / "c.json")
    assert saved.best_so_far("TPE").shape == (3, 12)
    assert len(sb.load_study(f"sqlite:///{tmp_path / 'c.db'}", "compare.Random.seed2").trials) == 12
    again = symbo(tmp_path, *args)                        # every run is read back, none re-run
    assert again.returncode == 0 and again.stdout.splitlines()[:5] == lines[:5]


@pytest.mark.parametrize("script, args, message", [
    (SCRIPT, ["--algorithms", "Nope"], "bad --algorithm 'Nope()'"),
    ("x = 1\n", ["--algorithms", "TPE"], "must define `space` and `objective`"),
    (SCRIPT, ["--algorithms", "TPE,TPE"], "twice"),
    (SCRIPT, ["--algorithms", "TPE", "--seeds", "0"], "--seeds"),
])
def test_mistakes_are_one_line_and_exit_2(tmp_path, script, args, message):
    (tmp_path / "s.py").write_text(script)
    result = symbo(tmp_path, "compare", "s.py", "--trials", "3", *args)
    assert result.returncode == 2
    assert message in result.stderr
