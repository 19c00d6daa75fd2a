"""Execution, storage and PyTorch: the layer that wires spaces, algorithms and programs.

The search loop (``sample``, ``tune``) and studies live here; PyTorch and Ray are imported
only in their own subpackages, lazily.
"""

from symbo.backends.loop import Feedback, sample, tune
from symbo.backends.study import Study, Trial

__all__ = ["Feedback", "Study", "Trial", "sample", "tune"]
