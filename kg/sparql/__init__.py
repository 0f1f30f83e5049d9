"""The read-only SPARQL endpoint: negotiation, dataset selection, isolated execution."""
