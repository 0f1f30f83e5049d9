# Replace a project's description graph, in one transaction.
# Placeholders: the description graph and the record's triples (N-Triples).
DROP SILENT GRAPH $recordGraph ;
INSERT DATA { GRAPH $recordGraph { $record } }
