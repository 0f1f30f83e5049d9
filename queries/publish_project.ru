# Replace a project's description in the shared projects graph, in one transaction.
# Placeholders: the projects graph, the project IRI, and the record's triples (N-Triples).
PREFIX kg: <https://w3id.org/kg/ontology#>
DELETE { GRAPH $shared { ?m ?mp ?mo } }
WHERE { GRAPH $shared { $project kg:member ?m . ?m ?mp ?mo } } ;
DELETE WHERE { GRAPH $shared { $project ?p ?o } } ;
INSERT DATA { GRAPH $shared { $record } }
