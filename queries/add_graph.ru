# Merge one graph's triples into another (a project into its audience graph, an increment
# into a live graph). Placeholders: the source and target graphs.
ADD SILENT $source TO $target
