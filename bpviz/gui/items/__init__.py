"""Graphics items of the graph canvas, one per module (nodes, edges, tokens, legend)."""
