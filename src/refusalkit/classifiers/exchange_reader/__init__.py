"""The exchange reader: a request read with its answer, for finished exchanges (reader.py)."""
