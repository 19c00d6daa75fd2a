"""DARTS on a DAG cell checked against an independent reference written here, in plain torch.

The reference is the paper's computation on a tiny cell (2 inputs, 2 nodes, 5 edges, 3 ops
including 'none'): ``node_i = sum_j sum_o softmax(alpha_e)_o op_o(state_j)``, the output the
concatenation of the nodes, a linear stem and head around it. The supernet's forward, its
first-order architecture gradient and its unrolled second-order one (computed exactly here by
differentiating through the virtual SGD step, weight decay included) must agree with it.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import symbo as sb  # noqa: E402
from symbo.backends import torch as sbt  # noqa: E402
from symbo.backends.torch.mixed_ops import Zero  # noqa: E402

F = torch.nn.functional
C, XI, WD = 3, 0.1, 3e-4
OPS_NAMES = ["none", "lin", "tanh"]


def lin(c: int, stride: int) -> torch.nn.Module:
    return torch.nn.Linear(c, c)


def tanh_lin(c: int, stride: int) -> torch.nn.Module:
    return torch.nn.Sequential(torch.nn.Linear(c, c), torch.nn.Tanh())


def none(c: int, stride: int) -> torch.nn.Module:
    return Zero(stride)


OPS = {"none": none, "lin": lin, "tanh": tanh_lin}


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def tiny_space() -> object:
    cell = sb.dag_cell(2, OPS_NAMES, name="c")
    return sbt.CellStack(stem=sbt.nn.Linear(4, C), cells=[sbt.DagCell(cell, C, OPS)],
                         head=sbt.nn.Linear(2 * C, 1))


def make_darts(order: int) -> tuple[object, dict]:
    darts = sbt.DARTS(tiny_space(), order=order, seed=0, device="cpu", dtype=torch.float64,
                      alpha_init_std=0.7, unrolled_lr=XI, grad_clip=None,
                      weight_optimizer=lambda params: torch.optim.SGD(params, lr=0.05, weight_decay=WD))
    net = darts.setup()
    cell = net.cells[0]
    edges = cell.edges  # (node, source) per edge, in the order of alpha's rows
    # the weights the reference gets, by name: stem, head, and per edge the two linear ops
    weights = {"stem.w": net.stem.weight, "stem.b": net.stem.bias,
               "head.w": net.head.weight, "head.b": net.head.bias}
    for e in range(len(edges)):
        lin_op, tanh_op = cell.ops[e].candidates[1], cell.ops[e].candidates[2][0]
        weights[f"e{e}.lin.w"], weights[f"e{e}.lin.b"] = lin_op.weight, lin_op.bias
        weights[f"e{e}.tanh.w"], weights[f"e{e}.tanh.b"] = tanh_op.weight, tanh_op.bias
    assert {id(w) for w in weights.values()} == {id(p) for p in net.parameters()}
    return darts, weights


def reference(w: dict, alpha: torch.Tensor, edges: list, x: torch.Tensor) -> torch.Tensor:
    """The paper's search cell, written directly."""
    s = x @ w["stem.w"].T + w["stem.b"]
    states = [s, s]  # CellStack: s0 = s1 = stem(x)
    for i in range(2):
        total = 0.0
        for e, (node, src) in enumerate(edges):
            if node != i:
                continue
            p = torch.softmax(alpha[e], dim=0)
            h = states[src]
            out_lin = h @ w[f"e{e}.lin.w"].T + w[f"e{e}.lin.b"]
            out_tanh = torch.tanh(h @ w[f"e{e}.tanh.w"].T + w[f"e{e}.tanh.b"])
            total = total + p[0] * torch.zeros_like(h) + p[1] * out_lin + p[2] * out_tanh
        states.append(total)
    return torch.cat(states[2:], dim=1) @ w["head.w"].T + w["head.b"]


def batches() -> tuple[tuple, tuple]:
    g = torch.Generator().manual_seed(1)
    xt, xv = (torch.randn(8, 4, generator=g, dtype=torch.float64) for _ in range(2))
    return (xt, xt.sum(1, keepdim=True).sin()), (xv, xv.prod(1, keepdim=True))


def test_the_supernet_forward_is_the_papers_search_cell() -> None:
    darts, weights = make_darts(order=1)
    net = darts.supernet
    assert list(darts.decisions) == ["c"]
    alpha = darts.decisions["c"].alpha
    assert alpha.shape == (5, 3)  # node 0: 2 edges, node 1: 3 edges; 3 ops each
    edges = net.cells[0].edges
    assert edges == [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2)]
    (xt, _), _ = batches()
    darts.relaxation.set_phase("weight")
    got = net(xt)
    want = reference({k: v.detach() for k, v in weights.items()}, alpha.detach(), edges, xt)
    assert torch.allclose(got, want, rtol=0, atol=1e-12)


def test_the_first_order_architecture_gradient_matches_the_reference() -> None:
    darts, weights = make_darts(order=1)
    train, (xv, yv) = batches()
    _, grads = darts.architecture_gradients(train, (xv, yv), F.mse_loss)
    alpha = darts.decisions["c"].alpha.detach().clone().requires_grad_(True)
    w = {k: v.detach() for k, v in weights.items()}
    loss = F.mse_loss(reference(w, alpha, darts.supernet.cells[0].edges, xv), yv)
    want = torch.autograd.grad(loss, alpha)[0]
    assert torch.allclose(grads["c"], want, rtol=1e-10, atol=1e-14)


def test_the_second_order_architecture_gradient_matches_the_exact_unrolled_one() -> None:
    darts, weights = make_darts(order=2)
    (xt, yt), (xv, yv) = batches()
    _, grads = darts.architecture_gradients((xt, yt), (xv, yv), F.mse_loss)
    edges = darts.supernet.cells[0].edges
    alpha = darts.decisions["c"].alpha.detach().clone().requires_grad_(True)
    names = list(weights)
    w = [weights[n].detach().clone().requires_grad_(True) for n in names]
    # the virtual step w' = w - xi (grad_w L_train + wd w), differentiated through exactly
    train_loss = F.mse_loss(reference(dict(zip(names, w)), alpha, edges, xt), yt)
    g_w = torch.autograd.grad(train_loss, w, create_graph=True)
    w_prime = {n: wi - XI * (gi + WD * wi) for n, wi, gi in zip(names, w, g_w)}
    val_loss = F.mse_loss(reference(w_prime, alpha, edges, xv), yv)
    exact = torch.autograd.grad(val_loss, alpha)[0]
    # DARTS's finite-difference Hessian-vector product is a close approximation of it
    assert torch.allclose(grads["c"], exact, rtol=1e-4, atol=1e-9)
    # and the unrolled term matters here: the first-order gradient is measurably different
    first = torch.autograd.grad(F.mse_loss(reference({n: x.detach() for n, x in zip(names, w)}, alpha,
                                                     edges, xv), yv), alpha)[0]
    assert not torch.allclose(first, exact, rtol=1e-3)
