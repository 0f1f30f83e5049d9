"""The explorer: kg's built-in web pages (search, projects, datasets, lineage pictures,
SPARQL, sessions), a static single-page app built from web/ into `static/` and served by kg
itself, so `kg serve` needs no Node and no second server."""
