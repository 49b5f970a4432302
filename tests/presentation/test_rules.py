"""Local derivative rules against autograd: each rule is evaluated from its own formula on random
inputs and must give the vector-Jacobian product torch computes (torch is the oracle)."""

from __future__ import annotations

import json
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpviz.core.scenario import load_scenario
from bpviz.core.serialize import trace_to_json
from bpviz.core.trace import trace, trace_scenario
from bpviz.presentation.rules import (
    LOCAL,
    OpContext,
    Rule,
    edge_rule,
    edge_vjp,
    fan_in_rule,
    op_rule,
    path_rule,
    rule_symbol,
    supported_ops,
)

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _t(seed: int, shape: tuple[int, ...], positive: bool = False, away: float = 0.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=g, dtype=torch.float64)
    if positive:
        x = x.abs() + 0.5
    elif away:  # keep clear of a kink (relu at 0): the derivative there is a convention
        x = torch.where(x.abs() < away, x.sign() * away + (x == 0) * away, x)
    return x


# name -> (the op, how many inputs, whether they must be positive: log, sqrt, a fractional power).
# Inputs are float64 tensors of one shape, kept away from kinks (relu at 0).
CASES = {
    "add": (lambda a, b: a + b, 2, False),
    "add_alpha": (lambda a, b: torch.add(a, b, alpha=2.5), 2, False),
    "sub": (lambda a, b: a - b, 2, False),
    "rsub": (lambda a, b: torch.rsub(a, b), 2, False),
    "mul": (lambda a, b: a * b, 2, False),
    "div": (lambda a, b: a / b, 2, True),
    "neg": (lambda a: -a, 1, False),
    "pow2": (lambda a: a**2, 1, False),
    "pow3": (lambda a: a**3, 1, False),
    "pow_half": (lambda a: a**0.5, 1, True),
    "pow_tensor": (lambda a, b: a**b, 2, True),
    "exp": (torch.exp, 1, False),
    "log": (torch.log, 1, True),
    "sqrt": (torch.sqrt, 1, True),
    "tanh": (torch.tanh, 1, False),
    "sigmoid": (torch.sigmoid, 1, False),
    "relu": (F.relu, 1, False),
    "leaky_relu": (lambda a: F.leaky_relu(a, 0.2), 1, False),
    "gelu": (F.gelu, 1, False),
    "gelu_tanh": (lambda a: F.gelu(a, approximate="tanh"), 1, False),
    "abs": (torch.abs, 1, False),
    "sum": (torch.sum, 1, False),
    "sum_dim": (lambda a: a.sum(dim=-1), 1, False),
    "mean": (torch.mean, 1, False),
    "mean_dim": (lambda a: a.mean(dim=0), 1, False),
    "softmax": (lambda a: torch.softmax(a, dim=-1), 1, False),
    "log_softmax": (lambda a: torch.log_softmax(a, dim=-1), 1, False),
    "mse_loss": (F.mse_loss, 2, False),
    "mse_loss_sum": (lambda a, b: F.mse_loss(a, b, reduction="sum"), 2, False),
    "reciprocal": (torch.reciprocal, 1, True),
    "pow_scalar_base": (lambda a: 2.5**a, 1, False),
    "max": (torch.max, 1, False),
    "min": (torch.min, 1, False),
}


def _context(out: torch.Tensor, inputs: list[torch.Tensor], upstream: torch.Tensor) -> OpContext:
    """What a trace would give the rules: named inputs by slot (a, b, c...), the node, its
    output and dL/d(output)."""
    gf = out.grad_fn
    slots = {}
    for i, (fn, _) in enumerate(gf.next_functions):
        if fn is not None and hasattr(fn, "variable"):
            k = next(k for k, t in enumerate(inputs) if t is fn.variable)
            slots[i] = ("abcdefgh"[k], inputs[k].detach())
    return OpContext("op", type(gf).__name__, gf, slots, out.detach(), upstream, "y")


def _check(out: torch.Tensor, inputs: list[torch.Tensor], seed: int) -> list[Rule]:
    """Each input's rule, evaluated, equals autograd's vector-Jacobian product for it."""
    upstream = _t(seed + 99, tuple(out.shape))
    ctx = _context(out, inputs, upstream)
    expected = torch.autograd.grad(out, inputs, upstream, retain_graph=True, allow_unused=True)
    by_input: dict[int, list[int]] = {}
    for slot, (name, _) in ctx.inputs.items():
        by_input.setdefault("abcdefgh".index(name), []).append(slot)
    rules = []
    for k, slots in by_input.items():
        rule = op_rule(ctx, slots, tuple(inputs[k].shape))
        assert rule is not None, f"no rule for {ctx.autograd} input {slots}"
        got = edge_vjp(rule, upstream, tuple(inputs[k].shape))
        torch.testing.assert_close(
            got, expected[k], rtol=1e-6, atol=1e-9, msg=lambda m, rule=rule: f"{rule.line()}: {m}"
        )
        assert rule.symbolic and rule.formula and rule.lhs
        rules.append(rule)
    assert rules, "no input of the op is one of the given leaves: nothing was checked"
    return rules


@pytest.mark.parametrize("name", sorted(CASES))
@SETTINGS
@given(seed=st.integers(0, 2**20), shape=st.sampled_from([(), (3,), (2, 3)]))
def test_elementwise_rules_agree_with_autograd(name, seed, shape):
    fn, arity, positive = CASES[name]
    if name.startswith(("softmax", "log_softmax", "mean_dim", "sum_dim")) and shape == ():
        shape = (3,)
    inputs = [_t(seed + k, shape, positive, away=0.05).requires_grad_() for k in range(arity)]
    out = fn(*inputs)
    _check(out, inputs, seed)


@SETTINGS
@given(seed=st.integers(0, 2**20), n=st.integers(1, 5), k=st.integers(1, 4), m=st.integers(1, 4))
def test_matrix_rules_agree_with_autograd(seed, n, k, m):
    x = _t(seed, (n, k)).requires_grad_()
    w = _t(seed + 1, (m, k)).requires_grad_()
    b = _t(seed + 2, (m,)).requires_grad_()
    wt = _t(seed + 3, (k, m)).requires_grad_()
    _check(x @ wt, [x, wt], seed)  # matmul -> MmBackward0
    _check(torch.mm(x, wt), [x, wt], seed)
    _check(torch.addmm(b, x, wt, beta=0.5, alpha=2.0), [b, x, wt], seed)
    rules = _check(torch.addmm(b, x, wt), [b, x, wt], seed)  # what F.linear records
    assert [r.symbolic for r in rules] == ["sum(g, rows)", "g @ c^T", "b^T @ g"]
    assert rules[2].shapes == f"[{k}×{n}] · [{n}×{m}] → [{k}×{m}]"
    _check(w.t(), [w], seed)
    v = _t(seed + 4, (k,)).requires_grad_()
    _check(w @ v, [w, v], seed)  # MvBackward0
    _check(v @ _t(seed + 5, (k,)), [v], seed)  # DotBackward0, one input with grad
    u = _t(seed + 6, (k,)).requires_grad_()
    _check(torch.dot(v, u), [v, u], seed)
    batch_a = _t(seed + 7, (2, n, k)).requires_grad_()
    batch_b = _t(seed + 8, (2, k, m)).requires_grad_()
    _check(torch.bmm(batch_a, batch_b), [batch_a, batch_b], seed)


@SETTINGS
@given(seed=st.integers(0, 2**20))
def test_shape_cat_and_pool_rules_agree_with_autograd(seed):
    x = _t(seed, (2, 3, 4)).requires_grad_()
    row = _t(seed + 1, (1, 4)).requires_grad_()
    for out in (
        x.view(6, 4),
        x.reshape(4, 6),
        x.unsqueeze(1),
        x.transpose(0, 2),
        x.permute(2, 0, 1),
        x.transpose(-1, 0),
    ):
        _check(out, [x], seed)
    one = _t(seed + 2, (1, 3)).requires_grad_()
    _check(one.squeeze(0), [one], seed)
    other = _t(seed + 3, (2, 5, 4)).requires_grad_()
    _check(torch.cat([x, other], dim=1), [x, other], seed)
    image = _t(seed + 4, (2, 3, 4, 6)).requires_grad_()
    _check(F.max_pool2d(image, 2), [image], seed)
    _check(F.max_pool2d(image, 3, stride=1, padding=1), [image], seed)
    (rule,) = _check(row.expand(5, 4), [row], seed)
    assert "sum_to_size" in rule.notes[0]


@SETTINGS
@given(seed=st.integers(0, 2**20))
def test_dropout_rule_agrees_with_autograd(seed):
    torch.manual_seed(seed)
    x = _t(seed, (4, 5)).requires_grad_()

    def loss():
        return (F.dropout(x, 0.3, training=True) * 2).sum()

    t = trace(loss)
    node = t.find("x")
    (drop,) = [v for v in t.graph.successors(node) if t.node(v)["op"] == "dropout"]
    rule = edge_rule(t, node, drop)
    assert rule.formula == "mask / (1 − p)"
    torch.testing.assert_close(edge_vjp(rule, t.node(drop)["grad"], (4, 5)), t.node(node)["grad"])


@SETTINGS
@given(seed=st.integers(0, 2**20), stride=st.integers(1, 2), padding=st.integers(0, 1))
def test_conv2d_rule_agrees_with_autograd(seed, stride, padding):
    x = _t(seed, (2, 3, 5, 5)).requires_grad_()
    k = _t(seed + 1, (4, 3, 3, 3)).requires_grad_()
    b = _t(seed + 2, (4,)).requires_grad_()
    rules = _check(F.conv2d(x, k, b, stride=stride, padding=padding), [x, k, b], seed)
    assert "[4×3×3×3]" in rules[1].shapes


@SETTINGS
@given(seed=st.integers(0, 2**20), n=st.integers(1, 4), classes=st.integers(2, 5))
def test_loss_rules_agree_with_autograd(seed, n, classes):
    z = _t(seed, (n, classes)).requires_grad_()
    target = torch.randint(0, classes, (n,), generator=torch.Generator().manual_seed(seed))
    logp = torch.log_softmax(z, dim=1).detach().requires_grad_()  # a leaf: nll_loss's input
    _check(F.nll_loss(logp, target), [logp], seed)
    _check(F.nll_loss(logp, target, reduction="sum"), [logp], seed)
    p = torch.sigmoid(_t(seed + 1, (n, classes))).requires_grad_()
    y = torch.rand((n, classes), generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    _check(F.binary_cross_entropy(p, y), [p], seed)
    _check(F.binary_cross_entropy_with_logits(z, y), [z], seed)
    _check(F.mse_loss(z, y), [z], seed)


@SETTINGS
@given(seed=st.integers(0, 2**20))
def test_broadcast_rules_sum_back_to_the_input_shape(seed):
    x = _t(seed, (2, 3)).requires_grad_()
    b = _t(seed + 1, (3,)).requires_grad_()
    for out in (x + b, x * b, x / b, x - b):
        x_rule, b_rule = _check(out, [x, b], seed)
        assert any("sum_to_size" in note for note in b_rule.notes)
        assert not any("sum_to_size" in note for note in x_rule.notes)


@SETTINGS
@given(seed=st.integers(0, 2**20))
def test_one_tensor_in_two_inputs_adds_its_rules(seed):
    x = _t(seed, ()).requires_grad_()
    (rule,) = _check(x * x, [x], seed)
    assert rule.formula == "2a"  # a·a: the rules for both inputs are "a", and they add up
    assert rule.numbers == f"2 × {rule.numbers.split(' × ')[1]}"


def test_a_wrong_formula_is_caught():
    """The oracle check can fail: a rule that forgets the exponent's factor disagrees."""
    x = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    out = x**2
    upstream = torch.tensor(1.0, dtype=torch.float64)
    rule = op_rule(_context(out, [x], upstream), [0], ())
    wrong = Rule(rule.op, rule.lhs, "x", "x", "3", x.detach(), LOCAL)
    with pytest.raises(AssertionError):
        torch.testing.assert_close(edge_vjp(wrong, upstream, ()), torch.autograd.grad(out, x, upstream)[0])


def test_every_listed_op_has_a_rule():
    expected = {
        "Add",
        "Sub",
        "Rsub",
        "Mul",
        "Div",
        "Neg",
        "Pow",
        "Exp",
        "Log",
        "Sqrt",
        "Tanh",
        "Sigmoid",
        "Relu",
        "LeakyRelu",
        "Gelu",
        "Abs",
        "Sum",
        "Mean",
        "Softmax",
        "LogSoftmax",
        "Mm",
        "Addmm",
        "T",
        "Convolution",
        "MseLoss",
        "NllLoss",
        "BinaryCrossEntropy",
        "BinaryCrossEntropyWithLogits",
        "Reciprocal",
        "Max",
        "Min",
        "Mv",
        "Dot",
        "Bmm",
        "View",
        "Expand",
        "Transpose",
        "Permute",
        "MaxPool2DWithIndices",
        "Cat",
    }
    assert expected <= set(supported_ops())


# ----------------------------------------------------------------------------------- on a trace
def test_chain56_edges_read_their_rule_with_numbers():
    t = trace_scenario(load_scenario("lesson:chain56"))
    x, y, z = t.find("x"), t.find("y"), t.find("z")
    lines = {e: edge_rule(t, *e).line() for e in [(x, y), (y, z), (z, t.loss_node)]}
    assert lines[x, y] == "d(x²)/dx = 2x = 2 × 2 = 4"
    assert lines[y, z] == "d(y + 3)/dy = 1"
    assert lines[z, t.loss_node] == "d(z²)/dz = 2z = 2 × 7 = 14"
    assert edge_rule(t, x, y).short() == "2x = 4"
    assert edge_rule(t, x, y).line(numbers=False) == "d(x²)/dx = 2x"


def test_trace_rules_agree_with_the_traced_gradients():
    """On every lesson, each edge's rule gives the gradient torch sent along it."""
    from bpviz.core.scenario import lesson_names

    checked = 0
    for name in lesson_names():
        t = trace_scenario(load_scenario(f"lesson:{name}"))
        for u, v, e in t.graph.edges(data=True):
            rule = edge_rule(t, u, v)
            up = t.node(v)["grad"]
            if rule is None or e["grad"] is None or up is None or not torch.isfinite(e["grad"]).all():
                continue
            got = edge_vjp(rule, up.double(), t.node(u)["shape"])
            torch.testing.assert_close(
                got.double(),
                e["grad"].double(),
                rtol=1e-4,
                atol=1e-6,
                msg=lambda m, rule=rule, name=name: f"{name}: {rule.line()}: {m}",
            )
            if e["local"] is not None and rule.kind == LOCAL:
                assert math.isclose(float(rule.value.sum()), e["local"], rel_tol=1e-5, abs_tol=1e-7)
            checked += 1
    assert checked > 50


def test_linear_weight_through_its_transpose_reads_the_matrix_form():
    torch.manual_seed(0)
    model = torch.nn.Linear(10, 5)
    t = trace(model, torch.randn(32, 10), target=torch.randn(32, 5))
    w = t.find("weight")
    (tnode,) = list(t.graph.successors(w))
    (lin,) = list(t.graph.successors(tnode))
    rule = path_rule(t, [w, tnode, lin])
    assert rule.lhs == "dL/dweight"
    assert rule.formula.startswith("(dL/d") and rule.formula.endswith(")ᵀ · x")
    assert rule.shapes == "[5×32] · [32×10] → [5×10]"
    torch.testing.assert_close(rule.value, t.node(w)["grad"])


def test_trace_json_gives_each_edge_its_rule():
    t = trace_scenario(load_scenario("lesson:chain56"))
    data = json.loads(json.dumps(trace_to_json(t, edge_rule=lambda u, v: rule_symbol(t, u, v))))
    rules = {(e["source"], e["target"]): e["rule"] for e in data["edges"]}
    x, y = t.find("x"), t.find("y")
    assert rules[x, y] == "2*x"
    assert rules[t.find("z"), t.loss_node] == "2*z"
    assert rules[y, t.find("z")] == "1"
    assert all(r is None for (u, _), r in rules.items() if u.startswith("const:"))


def test_fan_in_adds_the_gradients_of_each_use():
    t = trace_scenario(load_scenario("lesson:square_plus_linear"))
    x = t.find("x")
    rule = fan_in_rule(t, x)
    assert rule.line() == "dL/dx = (via pow) + (via mul) = 4 + 3 = 7"
    assert fan_in_rule(t, t.find("pow")) is None


@SETTINGS
@given(seed=st.integers(0, 2**20))
def test_fan_in_agrees_with_autograd(seed):
    x = _t(seed, (2, 3)).requires_grad_()
    w = _t(seed + 1, (3, 3))

    def loss():
        return (torch.tanh(x) * 2).sum() + (x @ w).pow(2).mean() + x.exp().sum()

    t = trace(loss)
    node = t.find("x")
    rule = fan_in_rule(t, node)
    x.grad = None
    loss().backward()
    torch.testing.assert_close(rule.value, x.grad)
    assert rule.formula.count("(via") == 3
