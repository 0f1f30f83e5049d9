# Add a project's description to its audience graph (see kg/store/audiences.py).
# Placeholders: the audience graph and the record's triples (N-Triples).
INSERT DATA { GRAPH $audience { $record } }
