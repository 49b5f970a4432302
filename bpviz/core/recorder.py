"""Forward-pass recording: friendly op names, module scopes and a value for every autograd node.

A ``TorchFunctionMode`` sees each user-level call (``linear``, ``relu``, ``__pow__``) and a
``TorchDispatchMode`` sees every aten output underneath it (except under element-wise calls
like ``relu``, whose only output is their result, and ``linear``, run as its two aten ops);
after a call returns, each buffered output's ``grad_fn`` tells which autograd node produced
it. One function may create several autograd nodes (``F.linear`` -> ``TBackward0`` +
``AddmmBackward0``): all get the call's name.
"""

from __future__ import annotations

import functools
import numbers
import sys
import weakref
from collections.abc import Callable, Collection, Iterable, Sequence
from types import CodeType, FrameType
from typing import TYPE_CHECKING, Any

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

from bpviz.core import torch_compat
from bpviz.core.module_scopes import ModuleScopes
from bpviz.core.op_names import friendly_name
from bpviz.core.recording import DataArg, OpRecord, Recording

if TYPE_CHECKING:
    from torch._ops import OpOverload

    # A buffered aten output: [tensor, its clone before an in-place op or None, aten op name],
    # plus the weight it transposes for F.linear's fast path.
    _Entry = list[Any]

# Arithmetic whose python-number arguments are worth showing as constant nodes (x ** 2, y + 3).
_ARITHMETIC = {
    "add",
    "sub",
    "mul",
    "div",
    "pow",
    "radd",
    "rsub",
    "rmul",
    "rtruediv",
    "rdiv",
    "truediv",
    "rpow",
    "true_divide",
    "multiply",
    "subtract",
}


_DETACH = torch.Tensor.detach

# Calls that can run without the dispatch mode, which costs ~8 us per aten op (see _fast_path).
# Element-wise functions whose call is one aten op making one autograd node (the result's)
# and writing nothing map to that aten op; F.linear maps to _LINEAR.
_LINEAR = "linear"
_FAST = {
    torch.relu: "relu.default",
    torch.Tensor.relu: "relu.default",
    torch.nn.functional.relu: "relu.default",
    torch.tanh: "tanh.default",
    torch.Tensor.tanh: "tanh.default",
    torch.sigmoid: "sigmoid.default",
    torch.Tensor.sigmoid: "sigmoid.default",
    torch.nn.functional.linear: _LINEAR,
}
_NOT_INPLACE: tuple[dict[str, bool], ...] = ({}, {"inplace": False})
_PLAIN = (torch.Tensor, torch.nn.Parameter)  # subclasses and sparse layouts may decompose


def _flat_tensors(obj: Any, out: list[torch.Tensor]) -> None:
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, torch.Tensor):
            out.append(item)
        elif isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            stack.extend(reversed(list(item.values())))


_MUTABLE: dict[Any, bool] = {}


class _Dispatch(TorchDispatchMode):
    """Buffers every aten output (cloning lazily: only before an in-place op would change it)."""

    def __init__(self, buffer: list[_Entry], recorded: list[_Entry]):
        super().__init__()  # type: ignore[no-untyped-call]  # torch's TorchDispatchMode is unannotated
        self.buffer = buffer
        self.recorded = recorded  # entries recorded by the function mode, in order
        # Storage pointer -> recorded entries on that storage. Built only when an in-place op
        # runs, and then only for the entries recorded since: most passes mutate nothing, and
        # a storage lookup costs more than the rest of recording an entry.
        self.by_storage: dict[int, list[_Entry]] = {}
        self.indexed = 0
        # id(buffered entry) -> its tensor's grad_fn just before an in-place op first wrote
        # its storage. Inside one call (gru_cell runs unsafe_split, add_, sigmoid_ in C++)
        # the tensor ends with the in-place op's node; the entry made before it must get the
        # node it made, with the value from that moment. Empty unless something was mutated.
        self.pinned: dict[int, Any] = {}
        self.mutated: list[bool] = []  # non-empty: an in-place op ran since the function mode looked
        # id(base) -> (base, its grad_fn) before an in-place op first wrote a view of it: on
        # the fallback (no Node._sequence_nr) a changed grad_fn tells a CopySlices made now.
        self.bases_before: dict[int, tuple[torch.Tensor, Any]] = {}

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        # bpviz never records under torch.compile, so dynamo's wrapper around this method is
        # not needed; without it the first trace skips importing torch._dynamo (~2 s), and
        # every aten op one wrapper call.
        return False

    def __torch_dispatch__(
        self, func: OpOverload, types: Collection[type], args: Sequence[Any] = (), kwargs: dict[str, Any] | None = None
    ) -> Any:
        kwargs = kwargs or {}
        mutable = _MUTABLE.get(func)
        if mutable is None:
            mutable = _MUTABLE[func] = func._schema.is_mutable
        if mutable:
            self._snapshot_before_mutation(func, args, kwargs)
        out = func(*args, **kwargs)
        if isinstance(out, torch.Tensor):
            self.buffer.append([out, None, func.__name__])
        elif isinstance(out, (tuple, list)):
            for o in out:
                if isinstance(o, torch.Tensor):
                    self.buffer.append([o, None, func.__name__])
        return out

    def _snapshot_before_mutation(self, func: OpOverload, args: Sequence[Any], kwargs: dict[str, Any]) -> None:
        # An in-place op is about to overwrite a buffer some recorded output may share: clone
        # the recorded values first, so each node keeps the value it had when it was made.
        written = set()
        for arg, schema_arg in zip(args, func._schema.arguments):
            if isinstance(arg, torch.Tensor) and schema_arg.alias_info and schema_arg.alias_info.is_write:
                written.add(arg.untyped_storage().data_ptr())
                base = arg._base
                if base is not None and id(base) not in self.bases_before:
                    self.bases_before[id(base)] = (base, base.grad_fn)
        for name, arg in kwargs.items():
            if isinstance(arg, torch.Tensor) and name == "out":
                written.add(arg.untyped_storage().data_ptr())
        self.mutated.append(True)
        pinned = self.pinned
        for entry in self.buffer:
            if entry[1] is None and entry[0].untyped_storage().data_ptr() in written:
                entry[1] = entry[0].detach().clone()
                pinned[id(entry)] = entry[0].grad_fn
        for entry in self.recorded[self.indexed :]:
            if entry[1] is None:
                self.by_storage.setdefault(entry[0].untyped_storage().data_ptr(), []).append(entry)
        self.indexed = len(self.recorded)
        for ptr in written:
            for entry in self.by_storage.get(ptr, ()):
                if entry[1] is None:
                    entry[1] = entry[0].detach().clone()


@functools.cache
def _linear_is_addmm() -> bool:
    """Does this torch run ``F.linear`` of a 2-D input with a bias as exactly ``t`` of the
    weight and ``addmm``? Checked once, by watching a tiny call with the dispatch mode."""
    buffer: list[_Entry] = []
    x, w, b = (torch.ones(shape, requires_grad=True) for shape in ((2, 3), (4, 3), (4,)))
    with _Dispatch(buffer, []):
        torch.nn.functional.linear(x, w, b)
    return [entry[2] for entry in buffer] == ["t.default", "addmm.default"]


def _autocast_cpu() -> bool:
    try:
        return torch.is_autocast_enabled("cpu")
    except TypeError:  # torch < 2.4 has no device argument
        return torch.is_autocast_cpu_enabled()


def _fast_path(func: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any]) -> str | None:
    """How this call may skip the dispatch mode, per ``_FAST``: the aten op of an element-wise
    call, ``_LINEAR``, or None (no skipping).

    Element-wise calls (not in place) record their result directly: it is their only output.
    ``F.linear(input, weight, bias)`` of 2-D CPU tensors is, in aten, ``addmm(bias, input,
    weight.t())``; the recorder runs those two ops itself: the same autograd nodes and values,
    and it holds the transposed weight, the hidden node's value, without watching for it.
    Plain strided tensors only: subclasses and other layouts may decompose differently.
    """
    try:
        fast = _FAST.get(func)
    except TypeError:  # an unhashable callable
        return None
    # Skipping excludes every dispatch mode, so only when the recorder's is the one active: a
    # user's own mode (selective checkpointing, a FLOP counter) must see every op.
    if fast is None or not torch.is_grad_enabled() or torch_compat.dispatch_stack_len() != 1:
        return None
    if fast is _LINEAR:
        if len(args) != 3 or kwargs:
            return None
        for a in args:
            if type(a) not in _PLAIN or a.layout is not torch.strided or not a.is_cpu:
                return None
        # Autocast would cast linear's inputs before it decomposes, so the nodes would differ.
        if args[0].dim() != 2 or _autocast_cpu() or not _linear_is_addmm():
            return None
        return fast
    if len(args) == 1 and kwargs in _NOT_INPLACE and type(args[0]) in _PLAIN and args[0].layout is torch.strided:
        return fast
    return None


class Recorder(TorchFunctionMode):
    """Records one forward pass. Use as a context manager around the scenario's forward.
    ``module_names`` names modules by ``id``; ``modules`` are the scenario's (see ModuleScopes);
    ``closure_code``, a ``loss()`` scenario's code, for :meth:`closure_locals`.

    With torch_compat's fallbacks every call goes through the dispatch mode (no skipping, see
    :func:`_fast_path`) and the recording keeps the order nodes were made in (``rec.order``)."""

    def __init__(
        self,
        module_names: dict[int, str],
        modules: Iterable[torch.nn.Module] = (),
        closure_code: CodeType | None = None,
    ):
        super().__init__()
        self._code = closure_code  # a scenario's loss(): its frame is found at its first op
        self.closure_frame: FrameType | None = None
        self.rec = Recording()
        self._buffer: list[_Entry] = []
        self._pending: list[tuple[Any, _Entry]] = []  # (autograd node, entry)
        self._recorded: list[_Entry] = []  # entries whose value may need a snapshot before an in-place op
        self._extra: list[tuple[Any, _Entry]] = []  # (autograd node, entry of a further output)
        self._unowned: list[tuple[_Entry, str]] = []  # outputs made with grad off, e.g. inside a custom Function
        self._fast = True  # may this pass use torch_compat's fast paths? Known on entering
        self._first: Any = None  # the first node the current call made (fallback order)
        self._placed_before: dict[Any, int] = {}
        self._grad_off: dict[int, weakref.ref[torch.Tensor]] = {}  # fallback only: see _adopt_orphans
        self._scopes = ModuleScopes(module_names, modules)
        self._scope = self._scopes.stack  # the innermost running module's name is last
        self._dispatch = _Dispatch(self._buffer, self._recorded)
        self._pinned = self._dispatch.pinned  # the same objects, one attribute lookup fewer per call
        self._mutated = self._dispatch.mutated

    # -- context management -------------------------------------------------------------
    def __enter__(self) -> Recorder:
        self._fast = torch_compat.fast_paths()  # the first time: the self-check, which records too
        if self._fast:
            _linear_is_addmm()  # once per process, before this recorder watches anything
            probe = torch.zeros((), requires_grad=True) * 1
            self.rec.baseline_seq = probe.grad_fn._sequence_nr() + 1  # type: ignore[union-attr]  # it has one
        else:
            self.rec.order = {}
        self._scopes.__enter__()
        super().__enter__()  # type: ignore[no-untyped-call]  # torch's modes are unannotated
        self._dispatch.__enter__()  # type: ignore[no-untyped-call]  # torch's modes are unannotated
        return self

    def __exit__(self, *exc: object) -> Any:  # what TorchFunctionMode.__exit__ returns
        self._dispatch.__exit__(*exc)  # type: ignore[no-untyped-call]  # torch's modes are unannotated
        result = super().__exit__(*exc)  # type: ignore[no-untyped-call]  # torch's modes are unannotated
        self._scopes.__exit__(*exc)
        self._finish()
        return result

    # -- recording ------------------------------------------------------------------------
    def __torch_function__(
        self,
        func: Callable[..., Any],
        types: Collection[type],
        args: Sequence[Any] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> Any:
        if self._code is not None:
            self._find_closure_frame()
        kwargs = kwargs or {}
        buffer = self._buffer
        if buffer or self._unowned:
            self._adopt_orphans()
        fast = _fast_path(func, args, kwargs) if self._fast else None
        if fast is _LINEAR:
            with torch_compat.exclude_python_dispatch():
                weight_t = args[1].t()
                out = torch.addmm(args[2], args[0], weight_t)
            # The fourth item names the weight: _finish shows its snapshot, transposed.
            new = [[weight_t, None, "t.default", args[1]], [out, None, "addmm.default"]]
            tensors = args  # _fast_path checked: three plain tensors
        elif fast is not None:
            with torch_compat.exclude_python_dispatch():
                out = func(*args, **kwargs)
            new = [[out, None, fast]]  # what the dispatch mode would have buffered
            tensors = args  # one plain tensor; the keywords are flags
        else:
            tensors = None
            start = len(buffer)
            out = func(*args, **kwargs)
            if len(buffer) == start and func is not _DETACH:
                return out  # shape queries, comparisons under no_grad...: nothing to record
            new = buffer[start:]
            del buffer[start:]
        name = friendly_name(func)
        module = self._scope[-1] if self._scope else ""
        if isinstance(out, torch.Tensor):
            final = (out.grad_fn,)
        elif isinstance(out, (tuple, list)):
            final = {r.grad_fn for r in out if isinstance(r, torch.Tensor)}
        else:
            final = set()
        ops = self.rec.ops
        order = self.rec.order
        main = None
        self._first = None
        pinned = self._pinned
        for entry in new:
            t = entry[0]
            gf = pinned.pop(id(entry), t.grad_fn) if pinned else t.grad_fn
            if gf is None:
                if not torch.is_grad_enabled():
                    self._unowned.append((entry, module))  # maybe a custom Function's output
                continue
            main = gf
            if gf not in ops:
                # The call's result carries the call's name (linear); nodes made on the way
                # carry their own aten op (the t of F.linear's weight), which is what they do.
                op = name if gf in final else entry[2].split(".")[0].strip("_")
                ops[gf] = OpRecord(op, module, entry[1] if entry[1] is not None else t, entry[2])
                if order is not None:
                    self._place(gf)
                self._pending.append((gf, entry))
                if entry[1] is None:
                    self._recorded.append(entry)
            else:
                self.rec.unclear.add(gf)  # a second output of the same node
                self._extra.append((gf, entry))
                if entry[1] is None:
                    self._recorded.append(entry)
        if self._mutated:
            self._mutated.clear()
            self._record_bases(new, name, module)
        if func is _DETACH and args and isinstance(out, torch.Tensor):
            self.rec.detached[id(out)] = (out, args[0])
        if main is not None:
            self._record_args(main, name, args, kwargs, tensors)
        return out

    def _record_bases(self, new: list[_Entry], name: str, module: str) -> None:
        # An in-place op on a view (relu_ or dropout_ after flatten) gives the view's base a
        # new node (CopySlices) that no output of the call carries: its value is the base.
        ops = self.rec.ops
        for entry in new:
            t = entry[0]
            base: torch.Tensor | None = t._base if t._is_view() else None
            gf = base.grad_fn if base is not None else None
            if (
                base is not None and gf is not None and gf not in ops and self._made_now(base, gf)
            ):  # not pre-trace history
                base_entry = [base, None, entry[2]]
                ops[gf] = OpRecord(name, module, base, entry[2])
                if self.rec.order is not None:
                    self._place(gf, before=self._first)
                self._pending.append((gf, base_entry))
                self._recorded.append(base_entry)

    def _place(self, gf: Any, before: Any = None) -> None:
        """Fallback order (no ``Node._sequence_nr``): ``gf`` was made now, or just before
        ``before``, the first node of the current call."""
        order = self.rec.order
        assert order is not None  # only called on the fallback
        if before is None or before not in order:
            order[gf] = float(len(order))
            if self._first is None:
                self._first = gf
        else:  # between ``before`` and the node before it, after those placed there already
            k = self._placed_before[before] = self._placed_before.get(before, 0) + 1
            order[gf] = order[before] - 1 + k / 1024

    def _made_now(self, base: torch.Tensor, gf: Any) -> bool:
        """Whether ``gf``, the grad_fn of a view's ``base`` and not recorded, was made during
        the pass (an in-place op's CopySlices) rather than before it."""
        if self.rec.order is None:
            return bool(gf._sequence_nr() >= self.rec.baseline_seq)
        before = self._dispatch.bases_before.get(id(base))
        if before is not None and before[0] is base:
            return before[1] is not gf
        return self.rec.made_in_trace(gf)

    def _made_without_grad(self, t: torch.Tensor) -> bool:
        ref = self._grad_off.get(id(t))
        return ref is not None and ref() is t

    def _find_closure_frame(self) -> None:
        # Reading the stack disturbs nobody; a profile hook would replace a profiler's own
        # (cProfile's cannot even be restored from python) and cost a call per python call.
        frame: FrameType | None = sys._getframe(2)
        while frame is not None:
            if frame.f_code is self._code:
                self.closure_frame, self._code = frame, None
                return
            frame = frame.f_back

    def closure_locals(self) -> dict[str, Any]:
        """The variables of the scenario's ``loss()`` as it returned (a finished frame keeps
        them), so ops are named as the user named them (``y = x ** 2`` -> node ``y``)."""
        return dict(self.closure_frame.f_locals) if self.closure_frame is not None else {}

    def _adopt_orphans(self) -> None:
        # Outputs made outside any call this mode saw, or with grad off inside a custom
        # autograd.Function's forward that later got the Function's node: they get their
        # value here, named after the node (SqBackward -> sq).
        scope = self._scope[-1] if self._scope else ""
        pinned = self._pinned
        for entry, module in [(e, scope) for e in self._buffer] + self._unowned:
            gf = pinned.pop(id(entry), entry[0].grad_fn) if pinned else entry[0].grad_fn
            if gf is not None and gf not in self.rec.ops:
                op = type(gf).__name__.removesuffix("Backward").rsplit("Backward", 1)[0].lower()
                self.rec.ops[gf] = OpRecord(op or "function", module, entry[0], entry[2])
                if self.rec.order is not None:
                    self._place(gf)
                self._pending.append((gf, entry))
            elif gf is None and self.rec.order is not None:
                # Made with grad off, during the pass: if it gets a node later (a custom
                # Function's output, wrapped after this), that node was made during the pass.
                self._grad_off[id(entry[0])] = weakref.ref(entry[0])
            elif gf is not None:
                self.rec.unclear.add(gf)
                self._extra.append((gf, entry))
        self._buffer.clear()
        self._unowned.clear()

    def _record_args(
        self,
        main: Any,
        name: str,
        args: Sequence[Any],
        kwargs: dict[str, Any],
        tensors: Sequence[torch.Tensor] | None = None,
    ) -> None:
        if tensors is None:  # not known to the caller: every tensor among the arguments
            tensors = []
            for a in args:
                if isinstance(a, torch.Tensor):
                    tensors.append(a)
                elif isinstance(a, (list, tuple, dict)):
                    _flat_tensors(a, tensors)
            if kwargs and any(isinstance(v, (torch.Tensor, list, tuple, dict)) for v in kwargs.values()):
                _flat_tensors(kwargs, tensors)  # most keyword arguments are flags (inplace=False)
        data = []
        ops = self.rec.ops
        for i, t in enumerate(tensors):
            gf = t.grad_fn
            if gf is None:
                if not t.requires_grad:
                    data.append(DataArg(t, i))
            elif gf not in ops:
                order = self.rec.order
                if order is None:
                    if gf._sequence_nr() < self.rec.baseline_seq:
                        self.rec.pretrace.setdefault(gf, t)
                elif gf in order:
                    pass
                elif self._made_without_grad(t) or self.rec.made_in_trace(gf):
                    # A custom Function's node, or a view's node remade as this call read it.
                    self._place(gf, before=self._first)
                else:
                    self.rec.pretrace.setdefault(gf, t)
        if name in _ARITHMETIC:
            for i, a in enumerate(args):
                if isinstance(a, numbers.Number) and not isinstance(a, bool):
                    data.append(DataArg(a, i))
        if data:
            self.rec.data_args.setdefault(main, []).extend(data)

    @staticmethod
    def _value(entry: _Entry) -> torch.Tensor:
        """The value an entry's node showed when it was made (its clone before an in-place op)."""
        if entry[1] is not None:
            return entry[1]  # type: ignore[no-any-return]  # entries are untyped lists
        t = entry[0]
        return t.detach().clone() if (t._is_view() or t.is_leaf) else t.detach()  # type: ignore[no-any-return]

    def _finish(self) -> None:
        self._adopt_orphans()
        # Values still shared with live tensors (views of parameters, say) are snapshotted now,
        # so later optimiser steps cannot change what the trace shows.
        outputs = self.rec.outputs
        for gf, entry in self._extra:
            outputs.setdefault(gf, {})[entry[0].output_nr] = self._value(entry)
        for gf, entry in self._pending:
            rec = self.rec.ops[gf]
            t = entry[0]
            if t._backward_hooks:
                self.rec.unclear.add(gf)
                self.rec.hooked.add(gf)
            if entry[1] is None and len(entry) > 3 and entry[3].is_contiguous():
                # Equal to a clone of the transposed view (values and strides), without a
                # second copy of the weight: its leaf node shows the same snapshot.
                rec.value = self.rec.snapshot(entry[3]).t()
            elif entry[1] is None:  # what _value does, inline: this runs for every node
                rec.value = t.detach().clone() if (t._is_view() or t.is_leaf) else t.detach()
            else:
                rec.value = entry[1]
            if outputs and gf in outputs:
                outputs[gf].setdefault(t.output_nr, rec.value)
        self._pending.clear()
        self._extra.clear()
        self._recorded.clear()
        self._dispatch.by_storage.clear()
        self._dispatch.bases_before.clear()
        self._placed_before.clear()
        self._grad_off.clear()
        self._pinned.clear()
        self._mutated.clear()
        self._dispatch.indexed = 0
        self._buffer.clear()
