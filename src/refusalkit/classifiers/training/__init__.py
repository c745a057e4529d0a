"""`refusalkit train`: rows, encoder tuning, heads, the second stage and the exchange reader,
calibration and the card. Nothing here runs at inference."""
