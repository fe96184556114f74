"""What happens to a file before it is searchable: upload type detection (`detect`), text
extraction in a sandboxed child process (`extract`) and clause segmentation (`clauses`).

Plain library code: it imports neither Flask nor `dossier`, nor `search` (which indexes and
queries what this package produces).
"""
