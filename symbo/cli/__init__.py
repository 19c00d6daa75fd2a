"""The ``symbo`` command line: run, inspect, resume, export and plot studies; run the demo.

::

    symbo run SCRIPT.py | SPACE.sym --objective module:function [options]
    symbo show STORAGE [NAME | --study NAME]  symbo best STORAGE [NAME] [--k 5]
    symbo resume STORAGE --study NAME (--objective module:function | --script SCRIPT.py)
    symbo export STORAGE --study NAME -o trials.csv|trials.json
    symbo plot STORAGE --study NAME -o history.png [--kind history|parallel|intermediate]
    symbo plot --kind darts --alphas alphas.json -o alphas.png
    symbo demo [--trials N] [--storage URL] [--quiet]
    symbo compare SCRIPT.py --algorithms TPE,Random --seeds N --trials T -o compare.png

``STORAGE`` is a URL (``sqlite:///study.db``, ``memory:``) or a path to a SQLite file
(``study.db``). ``--study`` may be left out when the storage holds one study.

**Scripts.** ``symbo run train.py`` executes the script as the module ``train`` (its file
stem; so its ``if __name__ == "__main__":`` block does not run, and what it defines is stored
as ``train.Name``, as when another process imports it or runs ``python train.py``), then:

* when it defines ``objective`` and ``space``, symbo searches with the command line's options
  (the script may also define ``algorithm``, ``early_stopping``, ``num_trials`` and
  ``objectives``, which the options override);
* else when it defines ``main()``, symbo calls it;
* else the script's top-level code was the run (it called ``sb.tune`` itself).

**Spaces.** ``symbo run space.sym --objective module:function`` imports the module (which
registers the classes the space names: import it before the space is read) and reads the
space with ``sb.load_space``; ``module`` may also be a path, ``objectives.py:train``. The
module may define ``algorithm``, ``early_stopping``, ``num_trials`` and ``objectives`` as a
script does. ``symbo resume`` takes the objective the same way (``--objective`` or
``--script``) and the space and algorithm from the study; the module's (or script's)
``early_stopping`` applies unless ``--early-stopping`` says otherwise (``none``: off).

**Reading studies** (``show``, ``best``, ``export``, ``plot``) imports only what symbo
itself provides (its modules, torch's symbolized classes). A space naming your own classes
is read with those objects as plain dicts (decision names and values intact) unless
``--import MODULE`` imports the module that defines them.

**Exit codes**: 0 done; 1 the user's script or module raised (its traceback is printed);
2 a mistake in what was asked; 130 interrupted (finished trials stay recorded).

**Algorithms** are text in the space language, e.g. ``--algorithm
"RegularizedEvolution(population_size=20)"`` (registered classes resolve by short name). The
default is TPE (regularized evolution where TPE is not available).

Mistakes in what was asked (a storage that cannot be opened, an unknown study, bad
algorithm text) print one line on stderr.

>>> import os, tempfile
>>> import symbo as sb
>>> db = os.path.join(tempfile.mkdtemp(), "study.db")
>>> _ = sb.tune(lambda p: float(p.x), sb.Dict(x=sb.one_of([1, 2, 3], name="x")),
...             sb.algorithms.Grid(), num_trials=3, storage="sqlite:///" + db, study_name="demo")
>>> main(["best", db, "--k", "2"])
study 'demo': 3 trials: 3 completed; best 3 (trial 2)
<BLANKLINE>
top 2 trials (reward: maximize):
rank  trial  status     reward  duration  x
----  -----  ---------  ------  --------  -
   1      2  completed       3  ...s  3
   2      1  completed       2  ...s  2
<BLANKLINE>
best program (trial 2, reward 3):
{'x': 3}
0
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence

from symbo.backends.storage import StorageError
from symbo.cli.algorithms import (
    algorithm_names,
    default_algorithm,
    parse_algorithm,
    tpe_algorithm,
)
from symbo.cli.errors import CLIError, UserCodeError, one_line
from symbo.cli.parser import build_parser
from symbo.cli.studies import open_study, storage_url
from symbo.cli.tables import fmt_duration, fmt_value, print_best, summary_line, table, trials_table
from symbo.cli.usercode import import_module, load_objective, run_script
from symbo.core import SymbolicError


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit code (0 done, 1 failed in user code, 2 a
    mistake in what was asked, 130 interrupted)."""
    import logging

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, --version, or a usage error (argparse printed it)
        return int(e.code or 0)
    logger = logging.getLogger("symbo")
    handler: logging.Handler | None = None
    if not logger.handlers:  # trial failures and notes, on stderr while the command runs
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("symbo: %(message)s"))
        handler.setLevel(logging.WARNING)
        logger.addHandler(handler)
    try:
        return int(args.run(args) or 0)
    except CLIError as e:
        print(f"symbo: error: {e}", file=sys.stderr)
        return 2
    except UserCodeError as e:
        print(f"symbo: error: {e}", file=sys.stderr)
        return 1
    except (StorageError, SymbolicError) as e:
        print(f"symbo: error: {one_line(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (symbo show ... | head)
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return 1
    finally:
        if handler is not None:
            logger.removeHandler(handler)


__all__ = [
    "CLIError", "UserCodeError", "algorithm_names", "build_parser", "default_algorithm", "tpe_algorithm",
    "fmt_duration", "fmt_value", "import_module", "load_objective", "main", "open_study",
    "parse_algorithm", "print_best", "run_script", "storage_url", "summary_line", "table",
    "trials_table",
]
