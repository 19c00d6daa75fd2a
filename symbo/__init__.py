"""symbo: symbolic AutoML programming for PyTorch.

Write markers into the model and training code you already have, then search the space with any
algorithm. This package re-exports the public names of ``API.md``.

>>> import symbo as sb
>>> class Config(sb.Object):
...     lr: float = 0.1
>>> sb.format(Config(lr=0.01))
'Config(lr=0.01)'
"""

from symbo import algorithms  # noqa: E402
from symbo.backends import (  # noqa: E402
    Comparison,
    Feedback,
    StorageError,
    Study,
    StudyMismatchError,
    Trial,
    TrialPruned,
    compare,
    create_study,
    load_study,
    sample,
    tune,
)
from symbo.core import *  # noqa: F403
from symbo.core import __all__ as _core_all
from symbo.dsl import *  # noqa: F403
from symbo.dsl import __all__ as _dsl_all

__version__ = "0.1.0"
__all__ = list(_core_all) + list(_dsl_all) + [
    "algorithms", "Comparison", "Feedback", "StorageError", "Study", "StudyMismatchError", "Trial",
    "TrialPruned", "compare", "create_study", "load_study", "sample", "tune", "__version__",
]
