"""Shared data, one home: evaluation sets (`eval_sets`), the public training rows (`public`) and
the hand-written refusal voices that audit and steer both compose answers from (`refusal_seeds`)."""
