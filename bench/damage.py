"""Why headstamps are misread on fresh renders (never the evaluation set): the same crops as
``bench/fresh_heads.py`` with kinds of damage switched off, read with the detected and with the true rim, and
each misread put down to the detector (no head found), the search (the truth, in its best orientation and seam,
scores higher under the network and the lexicon than the read chosen) or the network (it scores lower).

    python bench/damage.py [--recognizer DIR] [--n 60] [--seed 4242] [--without face capture occlusion]

``--without``: damage drawn but not applied (``datasets.scenes.Damage``), so every other part of each crop stays
as it was: ``face`` corrosion, patina, scratches and grinding; ``capture`` glare, paint, downscaling and the
level's blur, noise and JPEG; ``occlusion`` finger-like blobs.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from datasets.scenes import LEVELS, Damage, HeadTruth, render_crop  # noqa: E402
from model.bundle import RECOGNIZER, load_bundle  # noqa: E402
from model.charset import cyclic_key, encode_strip, normalise_glyphs  # noqa: E402
from model.headstamp_reader import HeadstampReader  # noqa: E402
from model.recognition.ctc import softmax  # noqa: E402
from model.recognition.forced import blank_runs_collapsed, ctc_log_likelihood  # noqa: E402
from model.recognition.preprocess import strips_to_input  # noqa: E402
from model.rectify.polar import seam_by_energy, unwrap  # noqa: E402
from model.runtime import OnnxNet  # noqa: E402
from model.structures import CaseHead  # noqa: E402


def truth_score(reader: HeadstampReader, gray: np.ndarray, head: CaseHead, truth: list[str]) -> tuple[float, float]:
    """(best read's score, the truth's best score) on the head's strip, both as CTC log-likelihood plus the
    lexicon's log prior; the truth is tried from every segment, each segment either way up, on both strips."""
    strip = unwrap(gray, head.rim, seam_rad=seam_by_energy(gray, head.rim, band=reader.band), band=reader.band)
    pool = reader._look([strip], reader.cfg.expand)[0]
    best = max((r.hyp.score for r in pool), default=-np.inf)
    x = strips_to_input([strip, strip[::-1, ::-1]], height_px=reader.input_hw[0], width_px=reader.input_hw[1])
    logits = reader.net.batched(x, 2)
    segs = [normalise_glyphs(s) for s in truth]
    score = -np.inf
    for way, order in ((0, segs), (1, segs[::-1])):  # the turned strip holds the segments anticlockwise
        probs = blank_runs_collapsed(softmax(logits[way]))
        seqs = [encode_strip(list(zip(order[r:] + order[:r], flags)))
                for r in range(len(order)) for flags in itertools.product((False, True), repeat=len(order))]
        score = max(score, float(np.max(ctc_log_likelihood(probs, seqs))))
    return best, score + reader.lexicon.log_prior(segs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--recognizer", default=RECOGNIZER)
    ap.add_argument("--n", type=int, default=60)
    ap.add_argument("--seed", type=int, default=4242)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--without", nargs="*", default=[], choices=["face", "capture", "occlusion"])
    a = ap.parse_args()
    damage = Damage(**{k: False for k in a.without})
    shipped = HeadstampReader.from_bundles(threads=a.threads)
    reader = HeadstampReader(OnnxNet(load_bundle(a.recognizer), threads=a.threads), shipped.detector)
    print(f"recognizer {a.recognizer}, {a.n} crops per level, seed {a.seed}, {damage}\n")
    print("| level | exact | with the true rim | misread: no head | search | network |\n|---|---|---|---|---|---|")
    for level in LEVELS:
        rng = np.random.default_rng([a.seed, LEVELS.index(level)])
        exact = true_rim = none = search = network = 0
        for _ in range(a.n):
            scene = render_crop(rng, level=level, size_px=int(rng.choice([128, 160, 224, 288])), damage=damage)
            truth: HeadTruth = scene.heads[0]
            want = cyclic_key(truth.clockwise_labels())
            gray = cv2.cvtColor(scene.rgb, cv2.COLOR_RGB2GRAY)
            heads = reader.detector(scene.rgb, gray)
            true_read = reader.read_heads(gray, [CaseHead(truth.rim, truth.primer_ratio, 1.0)])[0]
            true_rim += cyclic_key(true_read.best.segments) == want
            if any(cyclic_key(r.best.segments) == want for r in reader.read_heads(gray, heads)):
                exact += 1
            elif not heads:
                none += 1
            else:
                best, truth_best = truth_score(reader, gray, heads[0], truth.clockwise_labels())
                search += truth_best > best
                network += truth_best <= best
        print(f"| {level} | {exact}/{a.n} | {true_rim}/{a.n} | {none} | {search} | {network} |")


if __name__ == "__main__":
    main()
