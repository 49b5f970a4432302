"""The network builder's core, without Qt: a block catalogue, a document edited through undoable
commands, shape inference on the meta device, the ``.bpviz`` file format, templates, code
export, and the build into a runnable Scenario.

Module map:

=================  ===========================================================================
catalogue          what a block kind is (ports, typed properties, op or module); the registry
expression_blocks  value, constant, add ... matmul (the seeds' scalar chains)
layer_blocks       Input, Target, Linear ... losses (nn layers)
properties         typed properties: validation with one-sentence errors
document           Network, Block, Wire: the document, its queries and primitive changes
commands           undoable edits (add, delete, connect, move, set property, template...)
shapes             shape inference with torch's meta device; issues with fixes
plan               which blocks run, in which order; model or loss() form
build              Network -> Scenario (trace it with bpviz.core.trace.trace_scenario)
codegen            Network -> Python scenario file
fileformat         .bpviz JSON: dumps/loads, atomic save, strict load
templates          chain56, relu_two_weights, mlp_10_5_1, xor, residual_mlp
arrange            auto-arrange with the app's layered layout
values             weights kept in the document (after training), SetValues, keep_values
importer           a model scenario -> network through torch.fx, with its weights and data
quickadd           the kinds that fit a wire's shape (the quick-add menu), with fitting settings
mapping            trace nodes and edges back to the blocks and wires they came from
source             NetworkSource, the app's source for a .bpviz file or an open document
pycode             Python literals for code export
errors             NetworkError, PropertyError, FormatError, BuildError (all BpvizError)
=================  ===========================================================================
"""
