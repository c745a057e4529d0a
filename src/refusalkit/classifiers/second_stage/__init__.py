"""The input classifier's second stage: all-mpnet-base-v2 with a LoRA adapter, read only for
inputs whose first-stage score falls in a band (reader.py; tuned by tune.py)."""
