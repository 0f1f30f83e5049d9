# Replace a project's description in the shared projects graph, in one transaction.
# Placeholders: the projects graph, the project IRI, and the record's triples (N-Triples).
DELETE WHERE { GRAPH $shared { $project ?p ?o } } ;
INSERT DATA { GRAPH $shared { $record } }
