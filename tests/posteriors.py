"""Synthetic CTC posteriors for decoder tests."""

import numpy as np

from model.charset import N_CLASSES


def posteriors(path: list[int], peak: float = 0.9, n_classes: int = N_CLASSES) -> np.ndarray:
    """(T, C) posteriors putting ``peak`` on each class of ``path`` and the rest spread evenly."""
    probs = np.full((len(path), n_classes), (1 - peak) / (n_classes - 1))
    for t, c in enumerate(path):
        probs[t, c] = peak
    return probs
