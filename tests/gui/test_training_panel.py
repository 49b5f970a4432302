"""The training panel: buttons, live plots against the engine, reset, responsiveness, bad input,
a NaN stop, export, and the lesson y = 2x trained to weight 2 from the app."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QPushButton

from bpviz.core.scenario import load_scenario
from bpviz.core.training import Trainer
from tests.gui.helpers import open_and_wait

RUN_TIMEOUT_MS = 30_000


@pytest.fixture
def training(open_window, dialogs):
    """``training(spec)``: a window on ``spec`` with the training docks shown; returns
    (window, controller, panel)."""

    def _open(spec: str = "lesson:linear_fit"):
        window = open_window(spec)
        window.training.set_shown(True)
        return window, window.training, window.training.panel

    return _open


def click(qtbot, window, name: str) -> None:
    button = window.findChild(QPushButton, name)
    assert button is not None and button.isEnabled(), name
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def wait_idle(qtbot, tc) -> None:
    qtbot.waitUntil(lambda: not tc.is_running() and not tc.live.busy(), timeout=RUN_TIMEOUT_MS)


def shown_value(window, name: str) -> torch.Tensor:
    """A parameter's value in the trace the canvas shows."""
    return window.trace.graph.nodes[window.trace.find(name)]["value"]


def worker_params(tc) -> dict[str, torch.Tensor]:
    """The trainer's weights (read while the worker is idle)."""
    return tc.worker._session.trainer.param_values()


def test_docks_start_hidden_and_the_train_menu_shows_them(open_window):
    window = open_window("lesson:linear_fit")
    tc = window.training
    assert tc.docks is None  # nothing built (nor pyqtgraph imported) yet
    assert "&Train" in [a.text() for a in window.menuBar().actions()]
    tc.show_action.trigger()
    assert tc.docks.shown() and tc.docks.panel_dock.isVisible()
    tc.show_action.trigger()
    assert not any(d.isVisible() for d in tc.docks.docks)


def test_run_pause_step_and_reset_from_the_buttons(training, qtbot, dialogs):
    window, tc, panel = training()
    initial = [p.detach().clone() for p in load_scenario("lesson:linear_fit").model.parameters()]
    panel.lr.setText("0.05")
    panel.steps.setValue(1_000_000)
    click(qtbot, window, "trainRun")
    assert tc.is_running() and panel.pause_button.isEnabled() and not panel.run_button.isEnabled()
    qtbot.waitUntil(lambda: tc.history.table.offered > 100, timeout=RUN_TIMEOUT_MS)
    click(qtbot, window, "trainPause")
    wait_idle(qtbot, tc)
    done = tc.history.table.offered
    assert 100 < done < 1_000_000 and "Paused" in panel.status.text()
    trained = worker_params(tc)
    # The canvas shows the pass with the trained weights, at the end of the backward pass,
    # and the stepper walks through it.
    assert torch.equal(shown_value(window, "weight"), trained["weight"])
    seq = window.controller.sequence
    assert seq.trace is window.trace and window.controller.position == seq.last - 1
    window.controller.set_position(0)
    window.controller.step()
    assert window.controller.position == 1

    click(qtbot, window, "trainStep")
    wait_idle(qtbot, tc)
    assert tc.history.table.offered == done + 1
    # The canvas follows (by then the fit may have converged, so compare with the worker's
    # weights rather than expect a change).
    assert torch.equal(shown_value(window, "weight"), worker_params(tc)["weight"])
    assert panel.canvas_note.text().startswith(f"Canvas: the next step ({done + 2:,})")

    click(qtbot, window, "trainReset")
    qtbot.waitUntil(lambda: torch.equal(shown_value(window, "weight"), initial[0]), timeout=RUN_TIMEOUT_MS)
    wait_idle(qtbot, tc)
    assert len(tc.history.table) == 0
    model = tc.worker._session.scenario.model
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), initial))  # exactly
    assert "weights reset to the start" in tc.docks.log_lines()
    assert not dialogs


def test_plots_receive_the_engine_results(training, qtbot, dialogs):
    window, tc, panel = training()
    panel.lr.setText("0.05")
    panel.data.choose_builtin("sine")  # a dataset with a validation split
    panel.steps.setValue(150)
    click(qtbot, window, "trainRun")
    wait_idle(qtbot, tc)
    # The engine's own results for the same settings (it is deterministic given the seed).
    expected = list(Trainer(load_scenario("lesson:linear_fit"), panel.settings().config(dataset="sine")).run(150))
    h = tc.history
    assert h.names == ("weight", "bias") and len(h.table) == 150
    np.testing.assert_array_equal(h.steps(), np.arange(150))
    np.testing.assert_allclose(h.loss(), [r.loss for r in expected], rtol=1e-6)
    for j, name in enumerate(h.names):
        np.testing.assert_allclose(h.norms()[:, j], [r.params[name].norm for r in expected], rtol=1e-6)
    val = [(r.step, r.val_loss) for r in expected if r.val_loss is not None]
    np.testing.assert_allclose(h.val.rows(), val, rtol=1e-6)

    d = tc.docks
    x, y = d.loss.raw.getOriginalDataset()
    np.testing.assert_array_equal(x, h.steps())
    np.testing.assert_allclose(y, h.loss())
    np.testing.assert_allclose(d.loss.val.getOriginalDataset()[1], [v for _, v in val], rtol=1e-6)
    d.norms.smooth_action.setChecked(False)  # every step's own value
    for j, curve in enumerate(d.norms.curves):
        np.testing.assert_allclose(curve.getOriginalDataset()[1], h.norms()[:, j])
    d.flow_dock.raise_()
    qtbot.waitUntil(lambda: d.flow.max_values != [], timeout=RUN_TIMEOUT_MS)
    assert d.flow.labels == ["weight"]
    assert d.flow.max_values == [expected[-1].params["weight"].max_abs]
    assert d.fit.data is not None and d.fit.data.dims == 1 and len(d.fit.values) == len(d.fit.data.grid[0])
    assert d.histogram.current() == "weight"
    # Clicking a parameter on the canvas shows its weights and gradient in the histogram.
    window.document.select_node(window.trace.find("bias"))
    qtbot.waitUntil(lambda: tc.last_snapshot.histograms.name == "bias" and not tc.live.busy(), timeout=RUN_TIMEOUT_MS)
    assert d.histogram.current() == "bias"
    assert d.histogram.value_bars.getOriginalDataset()[1].sum() == 1  # one bias value
    assert not dialogs


def test_the_app_stays_responsive_while_training(training, qtbot):
    window, tc, panel = training()
    panel.lr.setText("0.01")
    panel.steps.setValue(1_000_000)
    ticks: list[float] = []
    import time

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    click(qtbot, window, "trainRun")
    timer.start()
    qtbot.wait(1500)
    timer.stop()
    click(qtbot, window, "trainPause")
    wait_idle(qtbot, tc)
    gaps = np.diff(ticks) * 1000
    assert tc.history.table.offered > 200  # it trained meanwhile
    assert len(ticks) > 40 and np.percentile(gaps, 95) < 100 and gaps.max() < 600


def test_bad_settings_and_files_show_one_message_and_keep_model_and_plots(training, qtbot, dialogs, tmp_path):
    window, tc, panel = training()
    panel.lr.setText("0.05")
    panel.steps.setValue(20)
    click(qtbot, window, "trainRun")
    wait_idle(qtbot, tc)
    weights, rows = worker_params(tc), tc.history.table.rows()

    def run_expecting(text: str) -> None:
        before = len(dialogs)
        click(qtbot, window, "trainRun")
        wait_idle(qtbot, tc)
        assert len(dialogs) == before + 1 and text in dialogs[-1][1], dialogs[-1:]
        assert "\n" not in dialogs[-1][1]
        np.testing.assert_array_equal(tc.history.table.rows(), rows)
        assert all(torch.equal(v, weights[k]) for k, v in worker_params(tc).items())
        assert torch.equal(shown_value(window, "weight"), weights["weight"])

    for lr in ("abc", "-1", "0"):
        panel.lr.setText(lr)
        run_expecting("The learning rate must be a positive number")
    panel.lr.setText("0.05")
    text = tmp_path / "text.csv"
    text.write_text("x,y\n1,2\n2,abc\n")
    panel.data.set_csv(str(text))
    run_expecting("holds 'abc', which is not a number")
    empty = tmp_path / "empty.csv"
    empty.write_text("x,y\n")
    panel.data.set_csv(str(empty))
    run_expecting("has a header but no data rows")
    renamed = tmp_path / "renamed.csv"
    renamed.write_text("x,y\n1,2\n")
    panel.data.set_csv(str(renamed))
    renamed.write_text("a,b\n1,2\n")  # the columns chosen are gone
    run_expecting("has no column 'x'")
    panel.data.choose_builtin("xor")
    run_expecting("has 2 features but the model expects 1")
    assert {title for title, _ in dialogs} == {"Cannot train"}


def test_a_divergent_learning_rate_stops_with_the_nonfinite_message(training, qtbot, dialogs):
    window, tc, panel = training()
    panel.lr.setText("1.0")
    panel.steps.setValue(500)
    click(qtbot, window, "trainRun")
    wait_idle(qtbot, tc)
    assert len(dialogs) == 1
    title, message = dialogs[0]
    assert title == "Training stopped" and "Training stopped at step" in message and "mse_loss" in message
    assert any("stopped by NaN/Inf" in line for line in tc.docks.log_lines())
    assert all(torch.isfinite(v).all() for v in worker_params(tc).values())
    assert panel.run_button.isEnabled() and not panel.pause_button.isEnabled()


def test_linear_fit_trained_from_the_panel_reaches_weight_two(training, qtbot, dialogs):
    window, tc, panel = training()
    panel.lr.setText("0.05")
    panel.steps.setValue(1000)
    click(qtbot, window, "trainRun")
    wait_idle(qtbot, tc)
    weight, bias = float(shown_value(window, "weight")), float(shown_value(window, "bias"))
    assert math.isclose(weight, 2.0, abs_tol=1e-3) and abs(bias) < 3e-3
    assert not dialogs


def test_plots_export_and_a_new_scenario_starts_over(training, qtbot, dialogs, tmp_path):
    from bpviz.gui.training.export import export_widget

    window, tc, panel = training()
    panel.steps.setValue(30)
    click(qtbot, window, "trainRun")
    wait_idle(qtbot, tc)
    for name in ("training.png", "training.svg"):
        assert tc.export_plots(str(tmp_path / name))
    assert (tmp_path / "training.png").stat().st_size > 1000
    assert "<svg" in (tmp_path / "training.svg").read_text()
    out = export_widget(tc.docks.norm_dock.widget(), tmp_path / "norms.svg")
    assert "<path" in out.read_text()
    export_widget(tc.docks.loss_dock.widget(), tmp_path / "loss.png")
    assert (tmp_path / "loss.png").stat().st_size > 1000

    open_and_wait(qtbot, window, "lesson:relu_two_weights")
    assert len(tc.history.table) == 0 and tc.docks.fit.data is None
    click(qtbot, window, "trainStep")
    wait_idle(qtbot, tc)
    assert tc.history.names == ("x", "w1", "w2") and tc.history.table.offered == 1
    assert not dialogs


def test_fit_points_show_their_class_when_the_targets_are_zero_or_one(qapp):
    """XOR with a logistic loss trains on its own batch: the output is a logit, not read as a
    probability, but 0/1 targets still colour the points by class; other targets do not."""
    from bpviz.gui.theme import LIGHT
    from bpviz.gui.training.fit_plots import FitView
    from bpviz.presentation.training.snapshot import FitData

    grid = (np.linspace(-1, 1, 5), np.linspace(-1, 1, 5))
    X = np.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
    view = FitView(LIGHT)
    view.set_data(FitData("the scenario's batch", X, np.array([0.0, 1.0, 1.0, 0.0]), False, grid))
    names = [item.name() for item in view._items if hasattr(item, "points")]
    assert names == ["class 0", "class 1"]
    assert "targets" in view.plot_widget.getPlotItem().titleLabel.text
    view.set_data(FitData("the scenario's batch", X, np.array([0.5, 1.0, 2.0, 0.0]), False, grid))
    assert [item.name() for item in view._items if hasattr(item, "points")] == ["data"]


@pytest.mark.qt_log_ignore("propagateSizeHints")  # the offscreen platform, a top-level plot
def test_histogram_ticks_are_the_values_themselves(qapp, qtbot):
    """Gradients within ±0.004 are labelled -0.004 ... 0.003 on the axis, also after updates
    (pyqtgraph had frozen a hidden x1000 scale: the ticks read -4 ... 3)."""
    from PySide6.QtGui import QImage, QPainter

    from bpviz.gui.theme import LIGHT
    from bpviz.gui.training.fit_plots import HistogramPlot
    from bpviz.presentation.training.snapshot import Histograms

    panel = HistogramPlot(LIGHT)
    qtbot.addWidget(panel)
    panel.resize(520, 300)
    panel.show()
    qtbot.waitExposed(panel)
    edges, counts = np.linspace(-0.0042, 0.0035, 21), np.ones(20)
    for _ in range(2):
        panel.set_histograms(Histograms("0.weight", edges, counts, edges, counts))
        for _ in range(5):
            qapp.processEvents()
    axis = panel.grads.getPlotItem().getAxis("bottom")
    image = QImage(600, 100, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    texts = [spec[2] for spec in axis.generateDrawSpecs(painter)[2]]
    painter.end()
    numbers = [float(t.replace("−", "-")) for t in texts]
    assert numbers and max(abs(v) for v in numbers) < 0.005, texts


def test_the_canvas_keeps_most_of_a_small_window_with_training_open(qtbot, open_window):
    window = open_window("lesson:xor_mlp")
    window.resize(1366, 768)
    window.training.set_shown(True)
    docks = window.training.docks
    qtbot.waitUntil(lambda: docks.loss_dock.height() <= 0.32 * window.height(), timeout=5000)
    canvas = window.canvas
    assert canvas.width() >= 0.65 * window.width() and canvas.height() >= 0.4 * window.height()
    # The panel shares the inspector's column, and every dock tab reads in full.
    assert window.tabifiedDockWidgets(window.inspector) == [docks.panel_dock]
    assert all(len(d.windowTitle()) <= 14 for d in (docks.flow_dock, docks.hist_dock, docks.fit_dock, docks.log_dock))


def test_the_canvas_shows_the_batch_being_trained_on(training, qtbot, dialogs):
    """xor_mlp trained on two moons: every snapshot the canvas draws during the run is the pass
    of a step the panel reported (its 32 rows of two_moons, its loss, the same number), not the
    scenario's four XOR points."""
    window, tc, panel = training("lesson:xor_mlp")
    panel.data.choose_builtin("two_moons")
    panel.batch.setValue(32)
    panel.steps.setValue(400)
    seen: list[tuple[int, float, float]] = []

    def on_chunk(chunk):
        snap = chunk.snapshot
        if chunk.session == tc._session and snap is not None and snap.ran:
            seen.append((snap.step, snap.trace.loss, chunk.latest.loss))

    tc.worker.chunk.connect(on_chunk)
    shown: list[tuple[float, str]] = []
    window.document.traceChanged.connect(lambda _keep: shown.append((window.trace.loss, panel.canvas_note.text())))
    click(qtbot, window, "trainRun")
    wait_idle(qtbot, tc)
    assert seen, "no snapshot during the run"
    losses = dict(zip(tc.history.steps().astype(int), tc.history.loss()))
    for step, canvas_loss, step_loss in seen:
        assert canvas_loss == step_loss == losses[step]
    # What the canvas drew, and the panel's line about it, name the same loss.
    assert shown and all(f"loss {loss:.4g}" in note and "rows of two_moons" in note for loss, note in shown)
    xor_loss = Trainer(load_scenario("lesson:xor_mlp")).scenario.compute_loss().item()
    assert all(not math.isclose(loss, xor_loss, rel_tol=1e-3) for loss, _ in shown)
    # The end: the trained weights on the batch the next step takes.
    assert panel.canvas_note.text().startswith("Canvas: the next step (401) on 32 of 200 rows of two_moons")
    assert f"loss {window.trace.loss:.4g}" in panel.canvas_note.text()
    assert not dialogs


def test_settings_changed_from_the_defaults_show_and_reset_with_another_scenario(training, qtbot, dialogs):
    window, tc, panel = training("lesson:xor_mlp")
    assert not panel.changes_box.isVisible()
    panel.zero_grad.setChecked(False)
    panel.lr.setText("0.5")
    panel.data.choose_builtin("two_moons")
    assert panel.changes_box.isVisible()
    assert panel.changes.text().endswith("zero_grad off, data two_moons, lr 0.5")
    # Reload keeps them: the same scenario.
    with qtbot.waitSignal(window.document.opened, timeout=RUN_TIMEOUT_MS):
        window.document.reload()
    assert not panel.zero_grad.isChecked() and panel.lr.text() == "0.5"
    # Another scenario starts from the defaults, and says what it reset.
    open_and_wait(qtbot, window, "lesson:linear_fit")
    assert panel.zero_grad.isChecked() and panel.lr.text() == "" and not panel.data.uses_dataset()
    assert not panel.changes_box.isVisible()
    assert "back to the defaults for this scenario (were: zero_grad off, data two_moons, lr 0.5)" in panel.status.text()
    qtbot.waitUntil(lambda: any("settings back to the defaults" in line for line in tc.docks.log_lines()))
    # The button does the same by hand.
    panel.optimizer.setCurrentIndex(1)
    panel.seed.setValue(4)
    assert panel.changes.text().endswith("Adam, seed 4")
    click(qtbot, window, "trainDefaults")
    assert panel.settings() == type(panel.settings())() and not panel.changes_box.isVisible()
    assert not dialogs


def _norm_plot(qtbot, names):
    from bpviz.gui.theme import LIGHT
    from bpviz.gui.training.plots import GradNormPlot, LossPlot

    loss, norms = LossPlot(LIGHT), GradNormPlot(LIGHT)
    norms.link_steps(loss)
    for w in (loss, norms):
        qtbot.addWidget(w)
        w.resize(640, 320)
        w.show()
    qtbot.waitExposed(norms)
    norms.set_names(names)
    return loss, norms


@pytest.mark.qt_log_ignore("propagateSizeHints")  # the offscreen platform, top-level plots
def test_zero_and_nonfinite_norms_sit_on_a_floor_row_and_the_step_axis_is_the_loss_plots(qapp, qtbot):
    """Norms of 0 from step 1 on (a ReLU that died) and a NaN at the last step: the curve stops,
    markers on a floor row below it say 0 and NaN/Inf, and the x axis runs to the last step,
    as the loss plot's does (it used to end at step 1)."""
    loss, norms = _norm_plot(qtbot, ["w", "b"])
    steps = np.arange(300.0)
    w = np.where(steps < 1, 0.5, 0.0)
    b = np.linspace(1e-3, 1e-2, 300)
    b[-1] = np.nan
    loss.set_data(steps, np.linspace(2, 1, 300), [], [])
    norms.smooth_action.setChecked(False)
    norms.set_data(steps, np.stack([w, b], axis=1))
    qapp.processEvents()
    view = norms.plot_widget.getPlotItem().getViewBox()
    assert view.viewRange()[0] == loss.getPlotItem().getViewBox().viewRange()[0]
    assert view.viewRange()[0][1] >= 299
    floor = norms.tidy.floor_y
    zx, zy = norms.zero_marks.getData()
    np.testing.assert_array_equal(zx, np.linspace(1, 299, 150).astype(int))  # thinned, same span
    assert set(zy) == {floor}
    bx, by = norms.bad_marks.getData()
    assert list(bx) == [299.0] and list(by) == [floor]
    assert view.viewRange()[1][0] <= floor < np.log10(1e-3)  # the row is in view, below the curves
    assert norms.floor_line.isVisible() and norms.floor_line.value() == floor
    ticks = dict(norms.plot_widget.getPlotItem().getAxis("left")._tickLevels[0])
    assert ticks[floor] == "0/NaN"
    keys = [norms.legend.item(i).text() for i in range(2, norms.legend.count())]
    assert keys == ["○ 0 (on the floor row)", "✕ NaN/Inf (floor row)"]
    # The curve breaks at the zeros instead of joining across them.
    y = norms.curves[0].getOriginalDataset()[1]
    assert y[0] == 0.5 and np.isnan(y[1:]).all()
    # Zooming one plot zooms the other (one step axis).
    loss.getPlotItem().getViewBox().setXRange(50, 100, padding=0)
    qapp.processEvents()
    assert view.viewRange()[0] == pytest.approx([50, 100])
    norms.set_data(steps, np.stack([w, b], axis=1))  # a live update does not take the zoom back
    assert view.viewRange()[0] == pytest.approx([50, 100])


@pytest.mark.qt_log_ignore("propagateSizeHints")
def test_threshold_labels_are_beside_the_plot_never_under_a_curve(qapp, qtbot):
    _, norms = _norm_plot(qtbot, ["w"])
    steps = np.arange(100.0)
    # Curves right on both lines, across the whole width.
    norms.set_data(steps, np.where(steps % 2, 10.0, 1e-6)[:, None] * np.ones((100, 1)))
    qtbot.wait(50)  # the axes lay out
    plot = norms.plot_widget.getPlotItem()
    axis = norms.threshold_axis
    drawn = []
    from PySide6.QtGui import QImage, QPainter

    image = QImage(50, 50, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    specs = axis.generateDrawSpecs(painter)[2]
    painter.end()
    for rect, _flags, text in specs:
        drawn.append((text, axis.mapRectToScene(rect)))
    assert {t for t, _ in drawn} == {"exploding\n(10)", "vanishing\n(1e-06)"}
    curves_area = plot.getViewBox().sceneBoundingRect()
    for text, rect in drawn:
        assert rect.width() > 0 and not rect.intersects(curves_area), text
    from bpviz.gui.theme import LIGHT

    assert axis.colours["exploding\n(10)"] == LIGHT.diagnostic_colour("exploding")


@pytest.mark.qt_log_ignore("propagateSizeHints")
def test_many_parameters_are_grouped_per_layer_top_five_shown_the_rest_behind_the_filter(qapp, qtbot):
    """A 21-layer net (42 parameters): one curve per layer, the five largest by default;
    the filter shows the smallest, all layers, all parameters, or one layer's parameters.
    A layer's norm is the norm of all its gradients together (torch as the oracle)."""
    from bpviz.gui.training.plots import TOP_CURVES

    model = torch.nn.Sequential(*[torch.nn.Linear(3, 3) for _ in range(21)])
    names = [n for n, _ in model.named_parameters()]
    torch.manual_seed(0)
    for depth, layer in enumerate(model):
        for p in layer.parameters():
            p.grad = torch.randn_like(p) * 10.0**-depth
    steps = np.arange(40.0)
    norms = np.array([[float(p.grad.norm()) for p in model.parameters()]] * 40)
    _, plot = _norm_plot(qtbot, names)
    plot.set_data(steps, norms)
    assert plot.filter.isVisible() and plot.filter.currentData() == "top"
    assert len(plot.curves) == TOP_CURVES and plot.legend.count() == TOP_CURVES
    # Layer k's gradient is scaled by 10^-k: the largest five are layers 0..4.
    assert plot.shown_labels == ["0", "1", "2", "3", "4"]
    expected = torch.cat([model[0].weight.grad.reshape(-1), model[0].bias.grad]).norm().item()
    assert plot.curves[0].getOriginalDataset()[1][0] == pytest.approx(expected, rel=1e-6)
    plot.choose("bottom")
    assert plot.shown_labels == ["16", "17", "18", "19", "20"]
    plot.choose("layers")
    assert len(plot.curves) == 21
    plot.choose("params")
    assert len(plot.curves) == 42
    plot.choose("layer:3")
    assert plot.shown_labels == ["3.weight", "3.bias"]
    # A legend row unticked hides its curve.
    plot.legend.item(1).setCheckState(Qt.CheckState.Unchecked)
    assert not plot.curves[1].isVisible() and plot.curves[0].isVisible()
    # Titles from the trace name the layers in the legend.
    plot.choose("top")
    plot.set_titles({str(i): "Linear(3→3)" for i in range(21)})
    assert plot.legend.item(0).text() == "0 Linear(3→3)"
    # A few parameters: every one, nothing to filter.
    plot.set_names(["w", "b"])
    plot.set_data(steps, norms[:, :2])
    assert not plot.filter.isVisible() and plot.shown_labels == ["w", "b"]
