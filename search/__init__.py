"""Indexing and querying: analysis, query parsing and the Whoosh-based index. Plain library code
without Flask; it imports neither `dossier` nor `ingest`."""
