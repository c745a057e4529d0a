"""Measurements: benchmarks now; attack success, over-refusal and reports as they land."""
