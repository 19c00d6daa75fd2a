"""DARTS: differentiable architecture search over a symbo space, returning DNA.

``DARTS(space, ...).search(train_loader, val_loader, epochs=...)`` relaxes the space into a
supernet (see :mod:`symbo.backends.torch.supernet`: module choices become mixed ops, widths
become channel masks, argument choices of a module become mixed variants, DAG cells given to
``sbt.DagCell`` become the paper's search cell), trains weights on train batches and
architecture weights (``alpha``) on validation batches, alternately, and converts the result
back to a DNA of ``sb.dna_spec(space)``: ``sb.materialize(space, dna)`` is the discrete
architecture, to retrain like one found by any black-box algorithm.

The package, by job: :mod:`.settings` (what can be set), :mod:`.search` (set-up, the loop,
derivation), :mod:`.steps` (weight and first-order architecture steps, evaluation),
:mod:`.unrolled` (the second-order step), :mod:`.selection` (perturbation selection),
:mod:`.checkpoint` (state dicts), :mod:`.plotting`.

The method, as in the papers:

* **Bi-level optimization** (Liu et al., DARTS, 2019). Each step first updates alpha on a
  validation batch (Adam, lr 3e-4, betas (0.5, 0.999), weight decay 1e-3), then the weights on
  a train batch (SGD, lr 0.025 with a cosine schedule to 1e-3 over the whole search, momentum
  0.9, weight decay 3e-4, gradient norm clipped at 5). ``order=1`` uses ``grad_alpha
  L_val(w, alpha)``; ``order=2`` the unrolled gradient (see :mod:`.unrolled`).
* **Modes.** ``softmax``: every candidate runs, weighted by ``softmax(alpha)``. ``gumbel``
  (GDAS): a Gumbel-softmax sample per decision and step at temperature ``tau``, annealed
  linearly from ``temperature[0]`` to ``temperature[1]`` over the epochs; with ``gumbel_hard``
  (default) only the sampled candidate runs and gets the straight-through weight ``h = onehot
  - sg(y) + y``. ``single_path`` (ProxylessNAS): weight steps run one path sampled from
  ``softmax(alpha)``; architecture steps draw **two** paths without replacement, make one
  active (drawn from the softmax over the two), run the active one with gradients and the other
  without (``torch.no_grad``), and estimate the gradient through the binary gates, ``grad
  alpha_i = sum_j dL/dg_j p_j (delta_ij - p_i)`` over the two paths (``p`` the softmax over
  them); after the Adam step the two alphas are shifted so the other paths keep their
  probabilities. So a weight step holds one candidate's activations per decision; an
  architecture step holds the active path's, plus both paths' outputs (the gate gradient
  ``dL/dg_j = <dL/dout, out_j>`` needs them).
* **Derivation.** ``magnitude``: the argmax of alpha per decision (the top k for a
  ``many_of``); for a DAG cell, the paper's genotype: per node, the ``in_degree`` incoming
  edges whose strongest op other than 'none' is strongest, each with that op ('none' is never
  chosen). ``perturbation`` (Wang et al. 2021, see :mod:`.selection`): the candidate whose
  removal hurts the validation score most, one decision at a time with fine-tuning between;
  for a cell both of the paper's steps (the op of each edge, then the edges of each node).
* **Search control.** ``search(..., epochs=N, callback=fn)``: ``N`` is the length of the whole
  search, ``fn(epoch, darts)`` runs after each epoch (True stops). ``state_dict()`` /
  ``load_state_dict()`` hold weights, alphas, optimizers, the schedule, random states and the
  epoch: a search split in parts (stopped and resumed, in another process too) equals one run,
  and a fresh ``DARTS(space, ...)`` restored from a state answers ``alphas()``/``derive()``.
* **Failure.** A loss or score that is not finite stops the search with a ``RuntimeWarning``;
  the architecture weights go back to those of the best epoch so far (by validation score
  measured at epoch ends: accuracy for class labels, minus the loss otherwise), selection is by
  magnitude, and ``darts.result.nan_stopped`` is True. A search whose softmax(alpha) moved less
  than ``min_alpha_change`` (0.01) warns that its architecture is the initialization's: with the
  paper's ``arch_lr=3e-4``, a few epochs leave every weight at about ``1/k``.

Architecture weights are inspectable (``darts.alphas()``, ``darts.history`` per epoch) and
plottable (``darts.plot_alphas(path)``, with matplotlib).

**Hybrid search.** DARTS relaxes only choices among modules and module arguments (see
:func:`~symbo.backends.torch.supernet.relaxable`); anything else (a learning rate
``float_range``, a batch size) is refused with a list of the markers. Let an outer black-box
search decide those and DARTS the rest::

    outer = sb.algorithms.TPE(seed=0)
    for program, feedback in sb.sample(space, outer, num_trials=20,
                                       where=lambda m: not sbt.relaxable(m)):
        dna = sbt.DARTS(program.model).search(train, val, epochs=10)   # the rest
        model = sb.materialize(program.model, dna)                      # all decided
        feedback(train_and_evaluate(model, lr=program.lr))

or give DARTS their values, ``DARTS(space, fixed={"lr": 0.01})``: the DNA it returns then
holds them and covers the whole space. (With ``where=``, an outer search does not reach
markers inside the candidates of a choice it leaves to DARTS; give those to DARTS as
``fixed`` values, keyed by their ids, or make them relaxable.)

>>> import symbo as sb, torch
>>> from symbo.backends import torch as sbt
>>> space = sbt.nn.Sequential(sbt.nn.Linear(4, 8), sb.one_of([sbt.nn.ReLU(), sbt.nn.Tanh()], name="act"),
...                           sbt.nn.Linear(8, 1))
>>> x = torch.randn(64, 4); y = x.sum(1, keepdim=True)
>>> data = [(x[i:i + 16], y[i:i + 16]) for i in range(0, 64, 16)]
>>> darts = sbt.DARTS(space, seed=0, device="cpu", arch_lr=0.05)
>>> dna = darts.search(data, data, epochs=2, loss_fn=torch.nn.functional.mse_loss)
>>> dna.to_dict()["act"] in (0, 1), len(darts.history), sorted(darts.alphas())
(True, 2, ['act'])
>>> type(sb.build(sb.materialize(space, dna))[1]).__name__ in ("ReLU", "Tanh")
True
"""

from symbo.backends.torch.darts.search import DARTS, SearchResult, SearchWarning
from symbo.backends.torch.darts.settings import DARTSSettings

__all__ = ["DARTS", "DARTSSettings", "SearchResult", "SearchWarning"]
