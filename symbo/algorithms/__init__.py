"""Search algorithms over DNA specs. Layer 2: imports ``symbo.core`` and ``symbo.dsl`` only.

Algorithms see the DNA spec and DNA, never the user's program, so either can change without
touching the other. Every algorithm is a symbolic object: its settings serialize, and can be
markers searched by an outer loop.
"""

from symbo.algorithms import operations, recombinators, selectors
from symbo.algorithms.auto import Auto
from symbo.algorithms.base import Algorithm, AlgorithmError, PastTrial
from symbo.algorithms.bowl import BOWL
from symbo.algorithms.deduping import Deduping
from symbo.algorithms.early_stopping import ASHA, EarlyStoppingPolicy, MedianStopping
from symbo.algorithms.evolution import HillClimb, RegularizedEvolution
from symbo.algorithms.evolutionary import Evolution
from symbo.algorithms.gp import GaussianProcessBO
from symbo.algorithms.grid import Grid
from symbo.algorithms.local_search import LocalSearch
from symbo.algorithms.mcts import MCTS
from symbo.algorithms.mutation import Mutator, Swap, Uniform
from symbo.algorithms.nsga2 import NSGA2
from symbo.algorithms.operations import Context, Operation
from symbo.algorithms.random_search import Random
from symbo.algorithms.recombinators import (
    PMX,
    Average,
    Crossover,
    Cycle,
    KPoint,
    Order,
    Recombinator,
    Segmented,
    UniformCrossover,
)
from symbo.algorithms.tpe import TPE

__all__ = [
    "PMX", "Average", "Context", "Cycle", "KPoint", "Operation", "Order", "Recombinator",
    "Segmented", "Swap", "operations", "recombinators", "selectors", "Deduping", "Evolution",
    "NSGA2",
    "ASHA", "BOWL", "Algorithm", "AlgorithmError", "Auto", "Crossover", "EarlyStoppingPolicy",
    "GaussianProcessBO",
    "Grid", "LocalSearch",
    "HillClimb", "MCTS", "MedianStopping", "Mutator", "PastTrial", "Random", "RegularizedEvolution",
    "TPE", "Uniform", "UniformCrossover",
]
