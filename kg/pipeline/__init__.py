"""The pipeline: fetch a repository, extract its provenance, load it into the store."""
