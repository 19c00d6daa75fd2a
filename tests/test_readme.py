"""Every Python block of README.md runs as it is, in a fresh folder, in a fresh interpreter.

A block that shows an error catches it (``try: ... except ...:``), so that it runs to its end.
A block that imports an optional dependency (torch, pandas, ray, matplotlib) is skipped where
it is not installed.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
OPTIONAL = ("torch", "pandas", "ray", "matplotlib", "sklearn")


def python_blocks(text: str) -> list[tuple[int, str]]:
    """(first line number, code) of every ```python block."""
    out = []
    for match in re.finditer(r"^```python\n(.*?)^```", text, flags=re.S | re.M):
        out.append((text.count("\n", 0, match.start()) + 2, match.group(1)))
    return out


BLOCKS = python_blocks(README.read_text(encoding="utf-8"))


def test_the_readme_has_python_blocks() -> None:
    assert len(BLOCKS) >= 5


def _needs(code: str) -> list[str]:
    imported = set(re.findall(r"^\s*(?:import|from)\s+(\w+)", code, flags=re.M))
    if "trials_dataframe" in code:
        imported.add("pandas")
    if "sbt" in code or "symbo.backends import torch" in code:
        imported.update({"torch", "sklearn"})
    return [m for m in OPTIONAL if m in imported and importlib.util.find_spec(m) is None]


@pytest.mark.slow
@pytest.mark.parametrize("line, code", BLOCKS, ids=[f"README.md:{line}" for line, _ in BLOCKS])
def test_a_readme_block_runs_as_it_is(tmp_path: Path, line: int, code: str) -> None:
    missing = _needs(code)
    if missing:
        pytest.skip(f"needs {', '.join(missing)}")
    script = tmp_path / f"readme_{line}.py"
    script.write_text(code, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
               OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"README.md:{line}:\n{done.stderr[-3000:]}"
