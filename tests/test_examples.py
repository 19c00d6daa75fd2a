"""Every example runs to the end (they are part of the documentation)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.py"))
NEEDS_TORCH = {"torch_hpo.py", "darts_cell.py", "hybrid_search.py", "oneshot_search.py"}


@pytest.mark.slow
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(path: Path, tmp_path: Path) -> None:
    if path.name in NEEDS_TORCH:
        pytest.importorskip("torch")
        pytest.importorskip("sklearn")
    env = {**os.environ, "PYTHONPATH": str(path.parent.parent)}
    result = subprocess.run([sys.executable, str(path)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip(), "an example prints what it shows"
