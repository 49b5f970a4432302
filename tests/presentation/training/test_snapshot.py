"""Training snapshots without Qt: a retrace that never moves the training, histograms, the event log."""

import torch
from torch import nn

from bpviz.core.scenario import scenario_from_model
from bpviz.core.trace_record import Diagnostic
from bpviz.core.training import TrainConfig, Trainer
from bpviz.presentation.training.snapshot import EventLog, histograms, retrace


def trainer() -> Trainer:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.Linear(3, 1))
    return Trainer(scenario_from_model(model, torch.randn(8, 2), torch.randn(8, 1)), TrainConfig(lr=0.1))


def test_retrace_stops_before_the_update_and_leaves_batchnorm_statistics_alone():
    t = trainer()
    t.step()
    bn = t.scenario.model[1]
    before = bn.running_mean.clone()
    trace, sequence, position = retrace(t, [Diagnostic("exploding", "0.weight", "big")])
    assert torch.equal(bn.running_mean, before)
    assert sequence.lr == t.lr and position == sequence.last - 1
    assert any(d.kind == "exploding" and d.node == trace.find("0.weight") for d in trace.diagnostics)


def test_histograms_of_a_parameter_and_its_gradient():
    t = trainer()
    t.step()
    h = histograms(t, "no such parameter")
    assert h.name == t.names[0] and h.value_counts.sum() == t.params[0].numel()
    assert h.grad_counts is not None and h.grad_counts.sum() == t.params[0].numel()


def test_event_log_reports_a_finding_once_until_it_goes_quiet():
    log = EventLog(quiet=2)
    d = Diagnostic("dead_relu", "1", "dead")
    assert log.feed(0, [d]) == ["step 0: dead ReLU units in 1"]
    assert log.feed(1, [d]) == []
    assert log.feed(5, [d]) == ["step 5: dead ReLU units in 1"]
