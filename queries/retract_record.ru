# Take a project's description out of its audience graph (see kg/store/audiences.py),
# but not the triples its live graph also holds: the audience must keep those.
# Placeholders: the audience graph, the description graph, the project's live graph.
DELETE { GRAPH $audience { ?s ?p ?o } }
WHERE {
  GRAPH $recordGraph { ?s ?p ?o }
  FILTER NOT EXISTS { GRAPH $liveGraph { ?s ?p ?o } }
}
