"""`bpviz new` and `bpviz code`, and .bpviz files through trace/train: exit codes, one-line errors."""

from __future__ import annotations

import pytest

from bpviz.cli import main
from bpviz.core.network.templates import template_names


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_new_lists_the_templates(capsys):
    code, out, err = run(capsys, "new", "--list")
    assert code == 0 and err == ""
    assert [line.split()[0] for line in out.splitlines()] == template_names()
    assert "dL/dx = 14 x 1 x 4 = 56" in out


def test_new_code_trace_round_trip(tmp_path, capsys):
    net, py = tmp_path / "chain.bpviz", tmp_path / "chain.py"
    code, out, _ = run(capsys, "new", "--template", "chain56", "-o", str(net))
    assert code == 0 and out.startswith(f"wrote {net}")
    code, out, _ = run(capsys, "code", str(net), "-o", str(py))
    assert code == 0 and py.read_text().count("def loss():") == 1
    for spec in (net, py):
        code, out, err = run(capsys, "trace", str(spec))
        assert code == 0 and "loss = 49" in out and "x -> " in out and err == ""
        assert "14 x 4 = 56" in out


def test_code_to_stdout(tmp_path, capsys):
    net = tmp_path / "mlp.bpviz"
    assert main(["new", "--template", "mlp_10_5_1", "-o", str(net)]) == 0
    code, out, _ = run(capsys, "code", str(net))
    assert code == 0 and "model = nn.Sequential(OrderedDict(" in out


def test_train_runs_a_network_file(tmp_path, capsys):
    net = tmp_path / "xor.bpviz"
    assert main(["new", "--template", "xor", "-o", str(net)]) == 0
    code, out, err = run(capsys, "train", str(net), "--steps", "3")
    assert code == 0, err
    assert "Done: 3 steps." in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["new", "--template", "nope", "-o", "n.bpviz"], "There is no template 'nope'"),
        (["new", "--template", "xor"], "needs -o NET.bpviz"),
        (["new", "--from", "lesson:chain56", "-o", "c.bpviz"], "Only a model scenario"),
        (["new", "--from", "lesson:nope", "-o", "c.bpviz"], "There is no lesson named 'nope'"),
        (["new", "--template", "xor", "-o", "n.json"], "must end in .bpviz"),
        (["new", "--template", "xor", "-o", "exists.bpviz"], "exists; pass --force"),
        (["new", "--template", "xor", "-o", "missing/n.bpviz"], "Cannot write"),
        (["new"], "one of the arguments --list --template --from is required"),
        (["code", "missing.bpviz"], "No network file at 'missing.bpviz'"),
        (["code", "broken.bpviz"], "broken.bpviz is not valid JSON at line 1 column 2"),
        (["code", "exists.bpviz", "-o", "missing/n.py"], "Cannot write"),
        (["trace", "broken.bpviz"], "not valid JSON"),
        (["code", "empty.bpviz"], "The network is empty"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    assert main(["new", "--template", "chain56", "-o", "exists.bpviz"]) == 0
    assert main(["new", "--template", "empty", "-o", "empty.bpviz"]) == 0
    (tmp_path / "broken.bpviz").write_text("{{")
    capsys.readouterr()
    code, _out, err = run(capsys, *argv)
    assert code == 2
    lines = err.strip().splitlines()
    assert message in lines[-1]
    assert "Traceback" not in err and len([ln for ln in lines if not ln.startswith(("usage:", " "))]) == 1


def test_force_overwrites(tmp_path, capsys):
    net = tmp_path / "n.bpviz"
    assert main(["new", "--template", "chain56", "-o", str(net)]) == 0
    assert main(["new", "--template", "xor", "-o", str(net), "--force"]) == 0
    assert '"xor: ' in net.read_text()


def test_new_from_a_model_lesson(tmp_path, capsys):
    net = tmp_path / "dead.bpviz"
    code, out, _ = run(capsys, "new", "--from", "lesson:dead_relu", "-o", str(net))
    assert code == 0 and out.strip() == f"wrote {net} (imported from lesson:dead_relu, 6 blocks)"
    code, out, _ = run(capsys, "trace", str(net))
    assert code == 0 and "loss = 21.9252" in out
