"""Registry matches for a reader's output: maker codes for a headstamp, registered lots for a lot line."""

from __future__ import annotations

from model.matching.headstamps import HeadstampMatch, HeadstampMatcher, SegmentsCandidate
from model.matching.matcher import LotMatch, LotMatcher, line_candidates
from model.matching.store import Registry
from model.structures import LineRead, Read


class ReadMatcher:
    """One place that turns any read into its ranked registry matches (none for painted lines that are not lots)."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.headstamps = HeadstampMatcher(registry.headstamp_codes())
        self.lots = LotMatcher(registry)

    def __call__(self, read: Read | LineRead) -> list[HeadstampMatch] | list[LotMatch]:
        if isinstance(read, LineRead):
            return self.lots.match(line_candidates(read), circled=read.circled_factory) if read.kind == "lot" else []
        return self.headstamps.match([SegmentsCandidate(c.segments, c.score) for c in read.candidates])
