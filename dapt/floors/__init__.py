"""Reference floors every comparison must clear: the majority class and TF-IDF + logistic regression
(:mod:`.compute`), and the run's floors stage (:mod:`.stage`)."""

from dapt.floors.compute import compute_floors, compute_token_floors
from dapt.floors.stage import floor_inputs, floors_stage

__all__ = ["compute_floors", "compute_token_floors", "floor_inputs", "floors_stage"]
