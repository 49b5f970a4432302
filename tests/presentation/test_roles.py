"""A leaf of the scenario's own that the update changes is called a variable, everywhere."""

from __future__ import annotations

from bpviz.core.scenario import load_scenario
from bpviz.core.stepper import StepSequence
from bpviz.core.trace import trace_scenario
from bpviz.presentation.captions import step_caption
from bpviz.presentation.roles import VARIABLE, role, updated_noun


def test_roles_and_the_update_caption():
    chain = trace_scenario(load_scenario("lesson:chain56"))
    assert role(chain.node(chain.find("x"))) == VARIABLE  # requires_grad, not a module's
    assert {role(chain.node(n)) for n in chain.graph if chain.node(n)["kind"] == "constant"} == {"constant"}
    seq = StepSequence(chain)
    assert step_caption(seq, seq.last) == "variable ← variable − 0.01 × grad"
    mlp = trace_scenario(load_scenario("lesson:mlp_10_5_1"))
    assert role(mlp.node(mlp.find("inputs"))) == "input" and role(mlp.node(mlp.find("0.weight"))) == "param"
    seq = StepSequence(mlp)
    assert step_caption(seq, seq.last) == "param ← param − 0.01 × grad"
    assert updated_noun(["param", VARIABLE, "op"]) == "param/variable"
