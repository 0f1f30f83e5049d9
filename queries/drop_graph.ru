# Remove a graph. Placeholder: the graph.
DROP SILENT GRAPH $graph
