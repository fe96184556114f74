"""Indexing and querying behind one protocol (`search.backend`), with the values that cross it
(`search.types`), the analysis and query parsing shared by every backend (`search.analysis`,
`search.query`), and the embedded Whoosh backend (`search.whoosh`). Plain library code: it
imports neither Flask, nor `dossier`, nor `ingest`."""
