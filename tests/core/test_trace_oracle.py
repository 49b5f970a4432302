"""Torch is the oracle: values and gradients on fan-out, broadcasting, in-place ops, residual
adds, cross-entropy, weight sharing and pre-trace history."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import bpviz
from bpviz.core.scenario import scenario_from_model
from tests.core.oracle import plain_node_grads, plain_param_grads


def close(a, b):
    torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7, equal_nan=True)


def node_by_op(tr, op, k=0):
    return [n for n in tr.forward_order if tr.node(n)["op"] == op][k]


def test_fan_out_each_use_carries_its_part():
    x = torch.tensor([0.3, -1.2], requires_grad=True)

    def loss():
        return (x * x + torch.sin(x) + 3 * x).sum()

    tr = bpviz.trace(loss)
    loss().backward()
    xn = tr.find("x")
    close(tr.node(xn)["grad"], x.grad)
    parts = [tr.edge(xn, v)["grad"] for v in tr.graph.successors(xn)]
    assert len(parts) == 3
    close(sum(parts), x.grad)
    close(tr.edge(xn, node_by_op(tr, "sin"))["grad"], torch.cos(x.detach()))


def test_broadcasting_reduces_edge_grads_to_producer_shape():
    X = torch.randn(4, 3)
    w = torch.randn(3, requires_grad=True)
    b = torch.tensor(0.5, requires_grad=True)

    def loss():
        return ((X * w + b) ** 2).mean()

    tr = bpviz.trace(loss)
    loss().backward()
    assert tr.node(tr.find("w"))["grad"].shape == (3,)
    close(tr.node(tr.find("w"))["grad"], w.grad)
    close(tr.node(tr.find("b"))["grad"], b.grad)
    J = tr.jacobian(tr.find("b"), node_by_op(tr, "add"))
    assert J.shape == (4, 3) and torch.all(J == 1)


def test_inplace_ops_keep_the_value_each_node_had():
    torch.manual_seed(1)
    lin = nn.Linear(3, 4)
    x = torch.randn(5, 3)

    def loss():
        h = lin(x)
        h.relu_()
        h2 = h * 2
        h2[0] = 0.0
        return h2.sum()

    tr = bpviz.trace(loss)
    pre = F.linear(x, lin.weight, lin.bias).detach()
    close(tr.node(node_by_op(tr, "linear"))["value"], pre)  # before relu_ overwrote it
    close(tr.node(node_by_op(tr, "relu"))["value"], pre.clamp(min=0))
    lin.zero_grad()
    loss().backward()
    close(tr.node(tr.find("lin.weight"))["grad"], lin.weight.grad)
    assert any(tr.node(n)["autograd"] == "CopySlices" for n in tr.forward_order)


def test_residual_cross_entropy_and_weight_sharing():
    torch.manual_seed(2)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.shared = nn.Linear(4, 4)
            self.head = nn.Linear(4, 3)

        def forward(self, x):
            h = x + torch.tanh(self.shared(x))  # residual add
            h = h + torch.tanh(self.shared(h))  # the same weights used twice
            return self.head(h)

    net = Net()
    x = torch.randn(6, 4)
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    tr = bpviz.trace(net, x, target=y, loss_fn=F.cross_entropy)
    oracle = plain_param_grads(scenario_from_model(net, x, y, F.cross_entropy))
    for name, grad in oracle.items():
        close(tr.node(tr.find(name))["grad"], grad)
    w = tr.find("shared.weight")
    assert len(list(tr.graph.successors(w))) == 2
    assert tr.node(node_by_op(tr, "linear"))["module"] == "shared"
    assert {tr.node(n)["autograd"] for n in tr.forward_order} >= {"LogSoftmaxBackward0", "NllLossBackward0"}
    net.zero_grad()
    plain = plain_node_grads(F.cross_entropy(net(x), y))
    ours = [(tr.node(n)["autograd"], tr.node(n)["grad"]) for n in tr.forward_order]
    assert [a for a, _ in ours] == [a for a, _ in plain]
    for (_, g1), (_, g2) in zip(ours, plain):
        close(g1, g2)


def test_pre_trace_history_is_cut_and_named():
    w = torch.tensor([1.5], requires_grad=True)
    h = w * 2  # made before tracing

    def loss():
        return (h**2).sum()

    tr = bpviz.trace(loss)
    pre = [n for n, a in tr.graph.nodes(data=True) if a["name"] == "h"]
    assert pre and tr.node(pre[0])["kind"] == "input"
    close(tr.node(pre[0])["grad"], torch.tensor([6.0]))
    assert not any(a["name"] == "w" for _, a in tr.graph.nodes(data=True))


def test_trace_does_not_touch_user_grads():
    x = torch.tensor(2.0, requires_grad=True)
    bpviz.trace(lambda: x**3)
    assert x.grad is None


def test_dense_jacobian_matches_torch():
    torch.manual_seed(3)
    W = torch.randn(3, 2, requires_grad=True)
    v = torch.randn(2)

    def loss():
        return torch.tanh(W @ v).sum()

    tr = bpviz.trace(loss)
    mv = node_by_op(tr, "matmul")
    th = node_by_op(tr, "tanh")
    J = tr.jacobian(mv, th)
    expected = torch.autograd.functional.jacobian(torch.tanh, (W @ v).detach())
    close(J, expected)
    assert tr.jacobian(mv, th, max_elements=4) is None


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.integers(1, 6), min_size=1, max_size=4),
    st.integers(1, 5),
    st.sampled_from([nn.ReLU, nn.Tanh, nn.Sigmoid]),
    st.integers(0, 10_000),
)
def test_random_mlps_match_plain_torch(widths, batch, act, seed):
    torch.manual_seed(seed)
    layers, prev = [], 3
    for w in widths:
        layers += [nn.Linear(prev, w), act()]
        prev = w
    model = nn.Sequential(*layers, nn.Linear(prev, 1))
    x, y = torch.randn(batch, 3), torch.randn(batch, 1)
    tr = bpviz.trace(model, x, target=y)
    for name, grad in plain_param_grads(scenario_from_model(model, x, y)).items():
        close(tr.node(tr.find(name))["grad"], grad)
    close(torch.tensor(tr.loss), F.mse_loss(model(x), y).detach())
    assert len(tr.forward_order) == len(set(tr.forward_order))


def test_custom_function_lstm_chunk_and_frozen_params():
    class Sq(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(4, 6, batch_first=True)
            self.frozen = nn.Linear(6, 6)
            self.frozen.requires_grad_(False)
            self.head = nn.Linear(6, 2)

        def forward(self, x):
            h, _ = self.lstm(x)
            a, b = h.chunk(2, dim=1)
            m, _ = torch.max(a + b, dim=1)
            return self.head(Sq.apply(self.frozen(m)))

    torch.manual_seed(4)
    net, x, y = Net(), torch.randn(3, 4, 4), torch.tensor([0, 1, 1])
    tr = bpviz.trace(net, x, target=y, loss_fn=F.cross_entropy)
    for name, grad in plain_param_grads(scenario_from_model(net, x, y, F.cross_entropy)).items():
        node = tr.node(tr.find(name))
        if grad is None:
            assert node["grad"] is None
        else:
            close(node["grad"], grad)
    sq = node_by_op(tr, "sq")
    assert tr.node(sq)["module"] == "" and tr.node(sq)["value"] is not None
    frozen = F.linear(torch.max(sum(net.lstm(x)[0].chunk(2, dim=1)), dim=1)[0], net.frozen.weight, net.frozen.bias)
    close(tr.node(sq)["value"], (frozen * frozen).detach())
    reasons = {d.node: d.detail["reason"] for d in tr.diagnostics if d.kind == "none_grad"}
    assert reasons == {"param:frozen.weight": "requires_grad_off", "param:frozen.bias": "requires_grad_off"}


def test_leaf_mixed_with_its_own_detach_gets_torchs_gradient():
    a = torch.tensor([0.5, -1.0], requires_grad=True)
    b = torch.tensor([2.0, 3.0], requires_grad=True)
    for f in (
        lambda: (a.detach() * a).sum(),
        lambda: (a.detach() * a + a * b).sum(),
        lambda: (b.detach() * a).sum() + (b * a).sum(),
    ):
        tr = bpviz.trace(f)
        a.grad = b.grad = None
        f().backward()
        for name, t in (("a", a), ("b", b)):
            if t.grad is not None:
                close(tr.node(tr.find(name))["grad"], t.grad)
        assert not [d for d in tr.diagnostics if d.kind == "none_grad"], tr.diagnostics


def test_only_detached_leaf_is_diagnosed():
    a = torch.tensor([0.5, -1.0], requires_grad=True)
    b = torch.tensor([2.0, 3.0], requires_grad=True)
    tr = bpviz.trace(lambda: (b.detach() * a).sum())
    assert tr.node(tr.find("b"))["grad"] is None
    assert {d.node: d.detail["reason"] for d in tr.diagnostics if d.kind == "none_grad"} == {tr.find("b"): "detached"}


def test_gradient_hook_on_leaf_and_parameter_shows_hooked_gradient():
    torch.manual_seed(5)
    w = torch.tensor([0.5, -1.0], requires_grad=True)
    w.register_hook(lambda g: g * 10)
    x = torch.tensor([1.0, 2.0])
    lin = nn.Linear(2, 1)
    lin.weight.register_hook(lambda g: g.clamp(-0.1, 0.1))

    def loss():
        return (w * x).sum() + (w * w).sum() + lin(x * w).sum() ** 2

    tr = bpviz.trace(loss)
    loss().backward()
    close(tr.node(tr.find("w"))["grad"], w.grad)
    close(tr.node(tr.find("lin.weight"))["grad"], lin.weight.grad)
    close(tr.node(tr.find("lin.bias"))["grad"], lin.bias.grad)


def _check_every_node(tr, plain_loss):
    """Every op node has its value (shape included) and torch's gradient, node by node."""
    from tests.core.oracle import plain_used_output_grads

    for n in tr.forward_order:
        a, gf = tr.node(n), tr._autograd[n]
        assert a["value"] is not None and a["shape"] == tuple(a["value"].shape), (n, a["autograd"])
        saved = getattr(gf, "_saved_result", None)
        if a["autograd"] in ("SigmoidBackward0", "TanhBackward0"):
            close(a["value"], saved)
    plain = plain_used_output_grads(plain_loss)
    ours = [(tr.node(n)["autograd"], tr.node(n)["grad"]) for n in tr.forward_order]
    assert [k for k, _ in ours] == [k for k, _ in plain]
    for (kind, g1), (_, g2) in zip(ours, plain):
        if g2 is None:
            continue
        assert g1 is not None, kind
        close(g1, g2)


@pytest.mark.parametrize(
    "make",
    [
        lambda: nn.GRUCell(3, 4),
        lambda: nn.LSTMCell(3, 4),
        lambda: nn.RNNCell(3, 4),
        lambda: nn.GRU(3, 4, num_layers=2, bidirectional=True, batch_first=True),
        lambda: nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True),
    ],
    ids=["GRUCell", "LSTMCell", "RNNCell", "GRU-2-bi", "LSTM-2-bi"],
)
def test_fused_recurrent_cells_show_torchs_values_and_gradients(make):
    torch.manual_seed(6)
    cell = make()
    cell_input = torch.randn(2, 3) if "Cell" in type(cell).__name__ else torch.randn(2, 5, 3)

    def loss():
        out = cell(cell_input)
        out = out[0] if isinstance(out, tuple) else out
        return (out**2).sum()

    tr = bpviz.trace(loss)
    cell.zero_grad()
    loss().backward()
    for name, p in cell.named_parameters():
        close(tr.node(tr.find(f"cell.{name}"))["grad"], p.grad)
    _check_every_node(tr, loss())


def test_group_norm_split_and_inplace_on_view_have_values_and_gradients():
    torch.manual_seed(7)
    conv = nn.Conv2d(1, 4, 3)
    gn = nn.GroupNorm(2, 4)
    lin = nn.Linear(16, 6)
    x = torch.randn(2, 1, 4, 4)
    h0 = torch.randn(2, 5, 5, 3)
    lin2 = nn.Linear(3, 4)

    def loss():
        h = F.dropout(torch.flatten(gn(conv(x)), 1), 0.0, training=True, inplace=True)
        h = torch.relu_(torch.flatten(h.view(2, 4, 2, 2), 2)).flatten(1)
        _first, second = lin(h).split([2, 4], dim=1)
        m, _ = second.max(dim=1)
        pooled = F.adaptive_avg_pool2d(lin2(h0).permute(0, 3, 1, 2), 1).flatten(1)
        return (second**2).sum() + m.sum() + pooled.sum()

    tr = bpviz.trace(loss)
    _check_every_node(tr, loss())


def test_reentrant_checkpoint_is_refused_with_a_sentence_non_reentrant_is_exact():
    from torch.utils.checkpoint import checkpoint

    from bpviz.core.errors import TraceError

    torch.manual_seed(8)
    lin = nn.Linear(3, 3)
    x = torch.randn(2, 3, requires_grad=True)

    def reentrant():
        return checkpoint(lambda h: torch.tanh(lin(h)), x, use_reentrant=True).sum()

    with pytest.raises(TraceError, match=r"A reentrant torch.utils.checkpoint .* use_reentrant=False"):
        bpviz.trace(reentrant)

    def plain_checkpoint():
        return checkpoint(lambda h: torch.tanh(lin(h)), x, use_reentrant=False).sum()

    tr = bpviz.trace(plain_checkpoint)
    lin.zero_grad()
    x.grad = None
    plain_checkpoint().backward()
    close(tr.node(tr.find("lin.weight"))["grad"], lin.weight.grad)
    close(tr.node(tr.find("x"))["grad"], x.grad)


def test_node_with_several_used_outputs_says_so_and_each_edge_has_its_output():
    a = torch.arange(10.0).reshape(2, 5).requires_grad_()

    def loss():
        p, q = a.split([2, 3], dim=1)
        v, m = torch.var_mean(a, dim=1)
        return (p * 3).sum() + (q**2).sum() + (v * m).sum()

    tr = bpviz.trace(loss)
    a.grad = None
    loss().backward()
    close(tr.node(tr.find("a"))["grad"], a.grad)
    split = node_by_op(tr, "split")
    assert tr.node(split)["name"] == "split"
    close(tr.node(split)["value"], a.detach()[:, :2])
    assert tr.node(split)["grad"] is None
    (q_use,) = [v for v in tr.graph.successors(split) if tr.node(v)["op"] == "pow"]
    close(tr.edge_value(split, q_use), a.detach()[:, 2:])
    q = a.detach()[:, 2:]
    expected = torch.autograd.functional.jacobian(lambda t: t**2, q)
    close(tr.jacobian(split, q_use), expected)
    notes = {d.node: d.message for d in tr.diagnostics if d.kind == "several_outputs"}
    assert set(notes) == {split, node_by_op(tr, "var_mean")}
    assert "2 outputs used by different ops" in notes[split]


def test_in_place_gradient_hook_changes_the_node_not_what_the_edge_sent():
    w = torch.tensor([0.5, -1.0], requires_grad=True)
    w.register_hook(lambda g: g.mul_(10))
    x = torch.tensor([1.0, 2.0])

    def loss():
        h = w * x
        h.register_hook(lambda g: g.clamp_(max=0.5))
        return (h * 3).sum()

    tr = bpviz.trace(loss)
    loss().backward()
    wn = tr.find("w")
    close(tr.node(wn)["grad"], w.grad)  # [5, 10]: the hooks' work
    (mul,) = tr.graph.successors(wn)
    close(tr.edge(wn, mul)["grad"], torch.tensor([0.5, 1.0]))  # what w * x sent: x * 0.5
    (times3,) = tr.graph.successors(mul)
    close(tr.edge(mul, times3)["grad"], torch.tensor([3.0, 3.0]))  # before h's hook clamped it
