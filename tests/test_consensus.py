"""Character-level consensus over several frames' n-best reads, and its use in video fusion."""

import pytest

from model.consensus import Lattice, align
from model.fusion import Sighting, fuse, track


def test_align_marks_substitutions_deletions_and_insertions():
    a = align("12-14-451", "12-14-451")
    assert "".join(a.at) == "12-14-451" and set(a.inserted) == {""}
    a = align("12-14-451", "12-4-451")  # the '1' of '14' lost
    assert a.at[3] == "" and "".join(a.at) == "12-4-451"
    a = align("12-14-451", "12-14-4551")  # an extra 5
    assert "".join(a.inserted) == "5" and "".join(a.at) == "12-14-451"
    a = align("539|83", "S39|88")
    assert a.at == ("S", "3", "9", "|", "8", "8")


FRAMES = [  # each frame misreads a different character of 12-14-451; none offers the true read
    [("12-14-461", 0.6), ("12-14-491", 0.4)],
    [("17-14-451", 0.6), ("11-14-451", 0.4)],
    [("12-19-451", 0.6), ("12-11-451", 0.4)],
]


def test_lattice_combines_characters_no_single_frame_read_together():
    lattice = Lattice.fuse("12-14-461", FRAMES, floor=0.2)
    best = lattice.best(top=3)
    assert best[0].text == "12-14-451"
    assert len(best[0].char_probs) == len(best[0].text) and min(best[0].char_probs) > 0.5
    assert lattice.score("12-14-451") == pytest.approx(best[0].score)
    assert lattice.score("17-14-461") < lattice.score("12-14-451") / 10


def _line(t: float, cands):
    return Sighting("lot", t, int(t * 10), (200.0 + 5 * t, 100.0), 80.0, tuple(((c,), p) for c, p in cands))


def test_video_fusion_by_character_recovers_an_unseen_read():
    tracks = track([_line(0.5 * k, c) for k, c in enumerate(FRAMES)])
    assert len(tracks) == 1
    by_reads = fuse(tracks[0], method="reads")
    assert by_reads.best != ("12-14-451",)  # whole-read fusion can only pick a read some frame offered
    for method in ("chars", "both"):
        fused = fuse(tracks[0], method=method)
        assert fused.best == ("12-14-451",), method
        assert len(fused.char_probs) == 1 and len(fused.char_probs[0]) == len("12-14-451")
        assert fused.candidates[0][1] == max(p for _, p in fused.candidates)
