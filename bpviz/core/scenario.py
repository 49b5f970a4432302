"""Scenarios: what bpviz traces. Loaded from a Python file, a built-in lesson, or built in code.

A scenario file defines either

* ``loss()``: a zero-argument function returning a scalar tensor built from leaf tensors the
  file creates (their variable names become node names), or
* ``model`` and ``inputs`` (a tensor or a tuple), with an optional ``target`` and ``loss_fn``
  (MSE when a target is given; without a target the model's output must itself be a scalar).
  The model is an ``nn.Module`` or a plain function of the inputs; a function's weights are
  the leaf tensors of the file that require grad (named as the file names them).

Optional: ``title`` (str), ``lr`` (float, the learning rate of the update step).
"""

from __future__ import annotations

import copy
import math
import os
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any, NamedTuple, cast

import torch
from torch import nn

from bpviz.core.errors import ScenarioError
from bpviz.core.torch_state import TorchState, isolated

LESSON_PREFIX = "lesson:"
NETWORK_SUFFIX = ".bpviz"  # a network built in bpviz (bpviz.core.network), JSON, never executed
DEFAULT_LESSON = "chain56"
DEFAULT_LR = 0.1


class ModuleIndex(NamedTuple):
    """The modules a scenario uses (:meth:`Scenario.module_index`), each map keyed by ``id``."""

    names: dict[int, str]  # qualified module names ("" for the model itself)
    params: dict[int, tuple[str, torch.Tensor]]  # parameter -> (qualified name, tensor)
    buffers: dict[int, tuple[str, torch.Tensor]]
    modules: list[nn.Module]


@dataclass
class Scenario:
    """A runnable forward pass: ``compute_loss()`` builds the graph and returns the loss."""

    title: str
    source: str = ""
    description: str = ""
    closure: Callable[[], torch.Tensor] | None = None
    # An nn.Module, or a plain function of the inputs whose weights are ``namespace`` tensors.
    model: Callable[..., Any] | None = None
    inputs: tuple[torch.Tensor, ...] = ()
    target: torch.Tensor | None = None
    loss_fn: Callable[..., torch.Tensor] | None = None
    lr: float = DEFAULT_LR
    namespace: dict[str, Any] = field(default_factory=dict, repr=False)
    # A scenario that is not a Python file (a built network) names the tensors its last forward
    # pass made, as a loss()'s local variables name them: ops are named after them.
    output_names: Callable[[], dict[str, torch.Tensor]] | None = field(default=None, repr=False)
    # torch's global switches as the scenario file left them (None: as the caller has them).
    torch_state: TorchState | None = field(default=None, repr=False)

    @property
    def module(self) -> nn.Module | None:
        """The model when it is an nn.Module (None for a plain function or a loss() scenario)."""
        return self.model if isinstance(self.model, nn.Module) else None

    def compute_loss(self) -> torch.Tensor:
        """Run the forward pass once and return the loss tensor (not yet checked for shape).

        User code that tries to end the program (``sys.exit()``, any BaseException other than
        Ctrl-C) raises ScenarioError instead: the app and the commands must outlive it."""
        try:
            return self._compute_loss()
        except (Exception, KeyboardInterrupt):
            raise
        except BaseException as exc:
            where = os.path.basename(self.source) or "the scenario"
            raise ScenarioError(
                f"{where}: the forward pass tried to end the program ({type(exc).__name__}: {exc}); "
                "return the loss instead of exiting."
            ) from exc

    def _compute_loss(self) -> torch.Tensor:
        if self.closure is not None:
            return self.closure()
        assert self.model is not None
        output: torch.Tensor = self.model(*self.inputs)
        if self.target is None and self.loss_fn is None:
            return output
        loss_fn: Callable[..., torch.Tensor] = self.loss_fn or nn.functional.mse_loss
        if self.target is None:
            return loss_fn(output)
        return loss_fn(output, self.target)

    def unsupported_tensor(
        self, named: dict[int, tuple[str, torch.Tensor]] | None = None, complex_ok: bool = False
    ) -> str | None:
        """The sentence refusing the first named tensor bpviz cannot show or train, or None:
        a sparse or meta tensor (no values to read), or a complex one (every view shows real
        numbers; training takes ``complex_ok``, as torch's optimisers do). ``named`` reuses a
        :meth:`named_tensors`."""
        for name, t in (named if named is not None else self.named_tensors()).values():
            where = f"{os.path.basename(self.source) or 'The scenario'}: '{name}'"
            if t.layout != torch.strided:
                return (
                    f"{where} is a sparse tensor ({str(t.layout).removeprefix('torch.')}), which bpviz can "
                    "neither trace nor train; make it dense with .to_dense()."
                )
            if t.device.type == "meta":
                return f"{where} is on the meta device and holds no values; create it on the CPU instead."
            if t.is_complex() and not complex_ok:
                return (
                    f"{where} is a complex tensor, and bpviz shows real numbers only; split it into real "
                    "and imaginary parts (torch.view_as_real) and compute with those."
                )
        return None

    def leaf_loss_problem(self, loss: torch.Tensor) -> str | None:
        """The sentence refusing a loss that is a leaf tensor itself (``return x``), or None.

        Tracing and training both refuse it: with no operation there is no backward pass to
        step through, and "training" would only subtract lr from x at every step."""
        if loss.grad_fn is not None or not loss.requires_grad:
            return None
        name = self.named_tensors().get(id(loss), ("",))[0]
        what = f"the leaf tensor '{name}'" if name else "a leaf tensor"
        return (
            f"{self.source or 'The scenario'}: the loss is {what} itself, so there is no operation to "
            "step through; compute the loss from it, e.g. return (x ** 2).sum()."
        )

    def model_copy(self) -> Scenario:
        """The same model scenario with its own copies of the model, inputs and target, so that
        training it leaves the original alone (the app trains a copy of what a script passed to
        ``bpviz.show``). Each copy keeps its ``requires_grad`` and its name in ``namespace``, so
        the copy traces to the same graph. Only for nn.Module models: a closure or a plain
        function holds its own tensors, which a copy of the function would still use."""
        if self.module is None:
            raise ScenarioError(
                "Only an nn.Module model can be copied; a function holds its own tensors, so train those in place."
            )
        memo: dict[int, Any] = {}

        def tensor(t: torch.Tensor) -> torch.Tensor:
            # clone() rather than deepcopy: an input may be the output of an earlier computation.
            if id(t) not in memo:
                memo[id(t)] = t.detach().clone().requires_grad_(t.requires_grad)
            return cast(torch.Tensor, memo[id(t)])

        inputs = tuple(tensor(t) for t in self.inputs)
        target = tensor(self.target) if isinstance(self.target, torch.Tensor) else self.target
        model = copy.deepcopy(self.module, memo)  # shares the memo: the model's own tensors map too
        namespace = {k: memo[id(v)] for k, v in self.namespace.items() if id(v) in memo}
        return replace(self, model=model, inputs=inputs, target=target, namespace=namespace)

    def module_index(self) -> ModuleIndex:
        """Every module the scenario uses, with qualified names, parameters and buffers
        (BatchNorm running statistics...), in one walk over the modules (a trace of a small
        net spent 0.1 ms on three); the model's names win."""
        index = ModuleIndex({}, {}, {}, [])
        names, params, buffers = index.names, index.params, index.buffers
        for name, module in self._modules():
            prefix = "" if module is self.model else name
            custom = (
                type(module).named_parameters is not nn.Module.named_parameters
                or type(module).named_buffers is not nn.Module.named_buffers
            )
            for sub, m in module.named_modules():
                qual = f"{prefix}.{sub}" if prefix and sub else prefix or sub
                names.setdefault(id(m), qual)
                index.modules.append(m)
                if custom:
                    continue
                head = f"{qual}." if qual else ""
                # What named_parameters() and named_buffers() give, in their order.
                for pname, p in m._parameters.items():
                    if p is not None:
                        params.setdefault(id(p), (head + pname, p))
                for bname, b in m._buffers.items():
                    if b is not None:
                        buffers.setdefault(id(b), (head + bname, b))
            if custom:  # a model that names its tensors its own way
                head = f"{prefix}." if prefix else ""
                for pname, p in module.named_parameters():
                    params.setdefault(id(p), (head + pname, p))
                for bname, b in module.named_buffers():
                    buffers.setdefault(id(b), (head + bname, b))
        return index

    def named_tensors(self, index: ModuleIndex | None = None) -> dict[int, tuple[str, torch.Tensor]]:
        """Every tensor this scenario names, keyed by ``id``: parameters, inputs, target, and
        the module-level tensors of a scenario file or a closure's variables.
        ``index`` reuses a :meth:`module_index`."""
        named: dict[int, tuple[str, torch.Tensor]] = {}
        for name, value in self.namespace.items():
            if isinstance(value, torch.Tensor) and not name.startswith("_"):
                named.setdefault(id(value), (name, value))
        index = index or self.module_index()
        named.update(index.buffers)
        named.update(index.params)
        if len(self.inputs) == 1:
            named[id(self.inputs[0])] = (_namespace_name(self, self.inputs[0]) or "x", self.inputs[0])
        else:
            for i, t in enumerate(self.inputs):
                named[id(t)] = (_namespace_name(self, t) or f"x{i}", t)
        if self.target is not None:
            named[id(self.target)] = ("target", self.target)
        return named

    def trainable(self) -> list[tuple[str, torch.Tensor]]:
        """The tensors an optimiser updates: an nn.Module model's parameters; else the leaf
        tensors that require grad of a ``loss()`` scenario, or of a plain function model other
        than its inputs and target (an input may require grad to show its gradient). Stable order."""
        module = self.module
        if module is not None:
            return [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        data = {id(t) for t in (*self.inputs, self.target) if isinstance(t, torch.Tensor)}
        out = []
        for name, t in self.named_tensors().values():
            if t.is_leaf and t.requires_grad and id(t) not in data:
                out.append((name, t))
        return out

    def _modules(self) -> list[tuple[str, nn.Module]]:
        mods: list[tuple[str, nn.Module]] = []
        if self.module is not None:
            mods.append(("", self.module))
        for name, value in self.namespace.items():
            if isinstance(value, nn.Module) and value is not self.model and not name.startswith("_"):
                mods.append((name, value))
        return mods


def _namespace_name(scenario: Scenario, tensor: torch.Tensor) -> str | None:
    for name, value in scenario.namespace.items():
        if value is tensor and not name.startswith("_"):
            return name
    return None


# The order a course would take them in: one op, reuse, the chain, a ReLU, bugs, then networks.
TEACHING_ORDER = (
    "square",
    "square_plus_linear",
    "chain56",
    "relu_two_weights",
    "dead_relu",
    "detached_branch",
    "linear_fit",
    "linear_batch",
    "mlp_10_5_1",
    "xor_mlp",
    "residual_mlp",
    "deep_sigmoid",
    "deep_relu",
    "log_softmax_naive",
    "log_softmax_stable",
)


def lesson_names() -> list[str]:
    """Names of the built-in lessons, in teaching order (any others after them, sorted)."""
    files = resources.files("bpviz.lessons")
    names = {p.name[:-3] for p in files.iterdir() if p.name.endswith(".py") and not p.name.startswith("_")}
    rank = {name: i for i, name in enumerate(TEACHING_ORDER)}
    return sorted(names, key=lambda n: (rank.get(n, len(rank)), n))


def lesson_summary(name: str) -> str:
    """The first line of a lesson's docstring."""
    src = resources.files("bpviz.lessons").joinpath(f"{name}.py").read_text(encoding="utf-8")
    doc = src.split('"""')[1] if src.startswith('"""') else name
    return doc.strip().splitlines()[0]


def load_scenario(spec: str | os.PathLike[str]) -> Scenario:
    """Load ``lesson:NAME``, a ``.bpviz`` network or a scenario file path; raises a BpvizError
    (ScenarioError for lessons and Python files) with a clear message."""
    spec = os.fspath(spec)
    if spec.lower().endswith(NETWORK_SUFFIX):
        from bpviz.core.network.source import load_network_scenario  # it imports this module

        return load_network_scenario(spec)
    if spec.startswith(LESSON_PREFIX):
        name = spec[len(LESSON_PREFIX) :]
        if name not in lesson_names():
            raise ScenarioError(f"There is no lesson named '{name}'; run `bpviz lessons` to list them.")
        path = resources.files("bpviz.lessons").joinpath(f"{name}.py")
        return _scenario_from_source(path.read_text(encoding="utf-8"), f"{name}.py", spec)
    if not os.path.exists(spec):
        raise ScenarioError(f"No scenario file at '{spec}'; check the path, or use lesson:NAME for a built-in lesson.")
    if os.path.isdir(spec):
        raise ScenarioError(f"'{spec}' is a folder; give the path of a scenario .py file.")
    try:
        # utf-8-sig: editors on Windows start UTF-8 files with a byte-order mark, which Python
        # itself accepts in a .py file but compile() of the decoded text would call a syntax error.
        with open(spec, encoding="utf-8-sig") as fh:
            source = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"Cannot read '{spec}' ({exc}); check that it is a readable text file.") from exc
    return _scenario_from_source(source, spec, spec)


def _scenario_from_source(source: str, filename: str, spec: str) -> Scenario:
    short = os.path.basename(filename)
    try:
        code = compile(source, filename, "exec")
    except SyntaxError as exc:
        raise ScenarioError(
            f"{short} line {exc.lineno}: syntax error ({exc.msg}); fix the file and open it again."
        ) from exc
    namespace: dict[str, Any] = {"__name__": "bpviz_scenario", "__file__": filename}
    # What the file switches in torch (grad mode, default dtype, anomaly detection) stays with
    # this scenario: recorded for its trace and training, and undone for everyone else.
    with isolated():
        try:
            exec(code, namespace)  # noqa: S102 - running the user's scenario is the point
        except BaseException as exc:  # any failure in user code becomes a message
            if isinstance(exc, KeyboardInterrupt):
                raise
            raise ScenarioError(
                f"{short} line {user_line(exc, filename)}: {type(exc).__name__}: {exc}; "
                "fix the scenario and open it again."
            ) from exc
        state = TorchState.current()
    scenario = scenario_from_namespace(namespace, spec)
    scenario.torch_state = state
    return scenario


def user_line(exc: BaseException, filename: str) -> int | str:
    """The line in ``filename`` where ``exc`` was raised (the deepest frame in that file)."""
    line: int | str = "?"
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == filename:
            line = frame.lineno or "?"
    return line


def scenario_from_namespace(ns: dict[str, Any], spec: str = "") -> Scenario:
    """Build a Scenario from the globals a scenario file defined."""
    short = os.path.basename(spec) or "the scenario"
    doc = (ns.get("__doc__") or "").strip()
    title = str(ns.get("title") or (doc.splitlines()[0] if doc else short))
    lr = ns.get("lr", DEFAULT_LR)
    if not isinstance(lr, (int, float)) or isinstance(lr, bool) or not 0 < lr < math.inf:
        raise ScenarioError(f"{short}: lr must be a positive finite number, got {lr!r}.")
    common: dict[str, Any] = {"title": title, "source": spec, "description": doc, "lr": float(lr), "namespace": ns}
    closure = ns.get("loss")
    if callable(closure) and not isinstance(closure, nn.Module):
        return Scenario(closure=closure, **common)
    model = ns.get("model")
    if model is None:
        raise ScenarioError(
            f"{short} defines neither loss() nor model and inputs; define one of them "
            "(see `bpviz lessons` for examples)."
        )
    _require_model(model, short)
    if "inputs" not in ns:
        raise ScenarioError(f"{short} defines model but not inputs; add inputs = <tensor or tuple>.")
    return Scenario(
        model=model,
        inputs=as_input_tuple(ns["inputs"], short),
        target=ns.get("target"),
        loss_fn=ns.get("loss_fn"),
        **common,
    )


def _require_model(model: object, where: str) -> None:
    # A class is callable too, but calling it builds a model instead of running one.
    if isinstance(model, type):
        raise ScenarioError(
            f"{where}: model is the class {model.__name__}, not a model; create one, e.g. model = {model.__name__}()."
        )
    if not callable(model):
        raise ScenarioError(
            f"{where}: model must be a torch.nn.Module or a function of the inputs, got {type(model).__name__}."
        )


def as_input_tuple(inputs: Any, where: str = "the scenario") -> tuple[torch.Tensor, ...]:
    """Normalise ``inputs`` to a tuple of tensors, or raise ScenarioError."""
    items = inputs if isinstance(inputs, (tuple, list)) else (inputs,)
    for item in items:
        if not isinstance(item, torch.Tensor):
            raise ScenarioError(f"{where}: inputs must be a tensor or a tuple of tensors, got {type(item).__name__}.")
    return tuple(items)


def function_namespace(fn: Callable[..., Any]) -> dict[str, Any]:
    """The variables a user's function sees: its module's globals and the variables it closes
    over (these win), which name its tensors."""
    ns: dict[str, Any] = dict(getattr(fn, "__globals__", {}))
    code = getattr(fn, "__code__", None)
    cells = getattr(fn, "__closure__", None) or ()
    if code is not None:
        for name, cell in zip(code.co_freevars, cells):
            try:
                ns[name] = cell.cell_contents
            except ValueError:
                continue
    return ns


def scenario_from_callable(closure: Callable[[], torch.Tensor], title: str = "") -> Scenario:
    """A Scenario around a user's own zero-argument loss function (names from its variables)."""
    name = getattr(closure, "__name__", "loss")
    return Scenario(title=title or f"{name}()", closure=closure, namespace=function_namespace(closure), source=name)


def scenario_from_model(
    model: Callable[..., Any],
    inputs: Any,
    target: torch.Tensor | None = None,
    loss_fn: Callable[..., torch.Tensor] | None = None,
    title: str = "",
) -> Scenario:
    """A Scenario around a user's model (an nn.Module or a plain function of the inputs),
    inputs, and optional target and loss function. A function's tensors are named from the
    variables it sees."""
    _require_model(model, "bpviz.trace")
    if isinstance(model, nn.Module):
        name, namespace = type(model).__name__, {}
    else:
        name = getattr(model, "__name__", "")
        name = name if name.isidentifier() else "model"  # a lambda is "<lambda>"
        namespace = function_namespace(model)
    return Scenario(
        title=title or name,
        model=model,
        inputs=as_input_tuple(inputs, "bpviz.trace"),
        target=target,
        loss_fn=loss_fn,
        source=name,
        namespace=namespace,
    )
