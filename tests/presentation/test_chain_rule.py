"""The chain rule written out with the trace's own numbers (no Qt)."""

from bpviz.core.scenario import load_scenario
from bpviz.core.trace import trace_scenario
from bpviz.presentation.chain_rule import edge_formula, node_formula, scalar_chain, sym


def lesson(name: str):
    return trace_scenario(load_scenario(f"lesson:{name}"))


def test_a_single_scalar_path_multiplies_the_local_derivatives():
    t = lesson("chain56")
    x = t.find("x")
    assert node_formula(t, x)[0] == "dL/dx = 14 × 1 × 4 = 56"
    walked, stop = scalar_chain(t, x)
    assert stop == t.loss_node and [local for _, _, local in walked] == [4.0, 1.0, 14.0]
    assert node_formula(t, t.loss_node)[0] == "dL/dL = 1" and sym(t, t.loss_node) == "L"


def test_a_node_used_twice_sums_its_contributions():
    lines = node_formula(t := lesson("square_plus_linear"), t.find("x"))
    assert lines[0] == "dL/dx = 4 + 3 = 7"
    assert any("via pow" in line and "1 × 4 = 4" in line for line in lines)


def test_edges_show_upstream_times_local_and_negatives_in_parentheses():
    t = lesson("chain56")
    assert edge_formula(t, t.find("x"), t.find("y"))[0] == "dL/dy × ∂y/∂x = 14 × 4 = 56"
    t = lesson("relu_two_weights")
    assert node_formula(t, t.find("w1"))[0] == "dL/dw1 = (-3) × 1 × 1.5 × 1 × 2 = -9"


def test_nodes_without_gradient_say_why():
    t = lesson("detached_branch")
    assert node_formula(t, t.find("b")) == ["dL/db: no gradient reaches b."]
