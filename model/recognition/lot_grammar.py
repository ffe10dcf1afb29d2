"""A prior for painted lot lines: a read that fits a seeded lot format (seeds/lot_formats.csv) is likelier than
one that fits none. A lot-like read (three or more digits) that fits no format is also tried with every single
edit of a digit or hyphen that makes it fit one; each read is scored as its exact CTC likelihood under the line's
posteriors plus the prior. Formats outside the seeds stay possible, only less likely.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.charset import encode_line
from model.matching.formats import parse_lot
from model.recognition.forced import blank_runs_collapsed, ctc_log_likelihood

EDIT_GLYPHS = "0123456789-"


@dataclass(frozen=True)
class LotPrior:
    fits_bonus: float = 1.5  # nats for a read that fits a seeded lot format
    min_digits: int = 3  # reads with fewer digits are not lot-like: no edits are tried

    def log_prior(self, text: str) -> float:
        return self.fits_bonus if fits(text) else 0.0


def fits(text: str) -> bool:
    """Whether a line read (circles as ``((..))``) fits a seeded lot format."""
    return parse_lot(text).format is not None


def single_edits(text: str) -> set[str]:
    """Every text one deletion, substitution or insertion (of a digit or hyphen) away."""
    out = {text[:i] + text[i + 1:] for i in range(len(text))}
    for i in range(len(text) + 1):
        for g in EDIT_GLYPHS:
            out.add(text[:i] + g + text[i:])
            if i < len(text):
                out.add(text[:i] + g + text[i + 1:])
    out.discard(text)
    return out


def rescore_line(probs: np.ndarray | list[np.ndarray], texts: list[str], prior: LotPrior) -> list[tuple[str, float]]:
    """(read, log score) best first: the beam's ``texts`` (best first) and, when the best is lot-like and fits
    no format, its single edits that fit one; score = CTC log-likelihood + the prior. Given several looks'
    posteriors (the same line on other colour axes or in other boxes), the likelihood is their mixture's (mean of
    the looks' likelihoods), so reads the looks agree on gain."""
    looks = probs if isinstance(probs, list) else [probs]
    pool = list(dict.fromkeys(t for t in texts if t))
    if pool and not fits(pool[0]) and sum(c.isdigit() for c in pool[0]) >= prior.min_digits:
        pool += sorted(e for e in single_edits(pool[0]) if e not in pool and fits(e))
    if not pool:
        return []
    labels = [encode_line(t) for t in pool]
    lls = np.stack([ctc_log_likelihood(blank_runs_collapsed(p), labels) for p in looks])
    with np.errstate(divide="ignore"):
        mixed = np.logaddexp.reduce(lls, axis=0) - np.log(len(looks))
    scored = [(t, float(ll) + prior.log_prior(t)) for t, ll in zip(pool, mixed) if np.isfinite(ll)]
    return sorted(scored, key=lambda x: -x[1])
