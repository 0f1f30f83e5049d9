# Give the store a new stamp, so readers read the records again.
# Placeholders: the stamp graph and the new stamp (a literal).
DROP SILENT GRAPH $stampGraph ;
INSERT DATA { GRAPH $stampGraph { $stampGraph <https://w3id.org/kg/ontology#stamp> $stamp } }
