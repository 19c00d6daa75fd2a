"""Execution, storage and PyTorch: the layer that wires spaces, algorithms and programs.

The search loop (``sample``, ``tune``), studies and their storages live here; PyTorch and Ray
are imported only in their own modules, lazily.
"""

from symbo.backends.compare import Comparison, compare
from symbo.backends.live_trial import LiveTrial, TrialPruned
from symbo.backends.loop import Feedback
from symbo.backends.search import sample, tune
from symbo.backends.storage import Storage, StorageError, open_storage
from symbo.backends.study import Study, StudyMismatchError, Trial, create_study, load_study
from symbo.backends.torch_names import install as _install_torch_names

_install_torch_names()

__all__ = [
    "Comparison", "Feedback", "LiveTrial", "Storage", "StorageError", "Study", "StudyMismatchError",
    "Trial", "TrialPruned", "compare", "create_study", "load_study", "open_storage", "sample", "tune",
]
