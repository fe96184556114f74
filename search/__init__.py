"""Search, text extraction and upload type detection; plain library code without Flask."""
