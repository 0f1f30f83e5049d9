# Take a detached project's live graph out of its audience graph (see kg/store/audiences.py),
# but not the triples a live graph of another project of that audience also holds.
# Placeholders: the audience graph and the project's live graph.
PREFIX kg: <https://w3id.org/kg/ontology#>
DELETE { GRAPH $audience { ?s ?p ?o } }
WHERE {
  GRAPH $graph { ?s ?p ?o }
  FILTER NOT EXISTS {
    GRAPH ?other { ?s ?p ?o }
    GRAPH ?recordGraph { ?project kg:graph ?other ; kg:audience $audience }
    FILTER(?recordGraph = IRI(CONCAT(STR(?project), "/-/record")))
  }
}
