"""Case-head detection geometry: target encoding and decoding, input sides, scale jitter, rim refinement, the
rim shape loss."""

from __future__ import annotations

import json
import math
import shutil

import cv2
import numpy as np
import pytest
import torch

from model.bundle import DETECTOR, WEIGHTS_DIR, BundleError
from model.detection.detector import refine
from model.detection.heads import Letterbox, decode, encode_targets, input_side, letterbox
from model.detection.rims import refine_rim
from model.headstamp_reader import HeadstampReader
from model.nets.centernet import CenterNetConfig, build_centernet
from model.structures import CaseHead, Ellipse
from training.detector import scale_jitter
from training.engine import LoopConfig, detection_loss, rim_shape_loss, train_detector


def _as_output(target: np.ndarray) -> np.ndarray:
    """Targets written the way the network writes its output (heatmap as logits)."""
    out = target.copy()
    p = np.clip(target[0], 1e-6, 1 - 1e-6)
    out[0] = np.log(p / (1 - p))
    return out


HEADS = [(Ellipse(120.0, 90.0, 40.0, 30.0, 0.4), 0.3), (Ellipse(300.0, 200.0, 25.0, 25.0, 0.0), 0.25)]


def _assert_same(found, want, tol_px: float) -> None:
    assert len(found) == len(want)
    for (rim, primer) in want:
        h = min(found, key=lambda f: math.hypot(f.rim.cx - rim.cx, f.rim.cy - rim.cy))
        assert math.hypot(h.rim.cx - rim.cx, h.rim.cy - rim.cy) < tol_px
        assert h.rim.a_px == pytest.approx(rim.a_px, rel=0.02)
        assert h.rim.b_px == pytest.approx(rim.b_px, rel=0.02)
        assert h.primer_ratio == pytest.approx(primer, abs=0.01)


def test_decode_inverts_encode_through_a_letterbox():
    box = Letterbox(0.5, 10.0, 30.0)
    target, mask = encode_targets(HEADS, box, 256)
    assert mask.sum() == 2
    _assert_same(decode(_as_output(target), box, threshold=0.5), HEADS, tol_px=0.5)


def test_input_side_follows_small_images_and_caps_large_ones():
    assert input_side(160, 150, min_side=192, max_side=384) == 192
    assert input_side(224, 200, min_side=192, max_side=384) == 224
    assert input_side(230, 100, min_side=192, max_side=384) == 256  # rounded up to a multiple of 32
    assert input_side(540, 960, min_side=192, max_side=384) == 384
    assert input_side(540, 960, min_side=384, max_side=384) == 384  # a bundle trained at one side only


def test_scale_jitter_placement_maps_heads_into_the_new_batch():
    rng = np.random.default_rng(3)
    imgs = np.zeros((2, 384, 384, 3), np.uint8)
    for rim, _ in HEADS:
        cv2.circle(imgs[0], (int(rim.cx), int(rim.cy)), 3, (255, 255, 255), -1)
    sides = set()
    for _ in range(20):
        out, box = scale_jitter(imgs, rng, min_side=192)
        side = out.shape[1]
        sides.add(side)
        assert side % 32 == 0 and 192 <= side <= 384 and out.shape == (2, side, side, 3)
        for rim, _ in HEADS:  # the dot drawn at each centre lands where the placement says
            x, y = rim.cx * box.scale + box.pad_x, rim.cy * box.scale + box.pad_y
            if 3 <= x < side - 3 and 3 <= y < side - 3:
                assert out[0, int(y) - 1:int(y) + 2, int(x) - 1:int(x) + 2].max() > 100
    assert len(sides) > 3


def test_refine_rim_snaps_a_rough_guess_to_the_drawn_rim():
    gray = np.full((300, 300), 60, np.uint8)
    cv2.ellipse(gray, (150, 140), (90, 70), 20, 0, 360, 200, -1)
    fit = refine_rim(gray, 158.0, 133.0, 80.0)
    assert fit is not None
    rim, support = fit
    assert support > 0.8
    assert (rim.cx, rim.cy) == pytest.approx((150, 140), abs=1.5)
    assert (rim.a_px, rim.b_px) == pytest.approx((90, 70), abs=2.0)
    assert math.degrees(rim.angle_rad) % 180 == pytest.approx(20, abs=3)


def test_refine_snaps_a_big_head_off_centre_in_a_large_photo():
    """A head over 240 px in radius is fitted on a shrunk window around it, and the fit comes back in the
    photo's own coordinates."""
    gray = np.full((1400, 2000), 50, np.uint8)
    cv2.ellipse(gray, (1500, 800), (400, 360), 30, 0, 360, 190, -1)
    cv2.circle(gray, (400, 300), 200, 120, -1)  # another head elsewhere does not disturb the fit
    rough = CaseHead(Ellipse(1530.0, 770.0, 380.0, 380.0, 0.0), 0.3, 0.9)
    rim = refine(gray, rough).rim
    assert (rim.cx, rim.cy) == pytest.approx((1500, 800), abs=4)
    assert (rim.a_px, rim.b_px) == pytest.approx((400, 360), abs=6)
    assert math.degrees(rim.angle_rad) % 180 == pytest.approx(30, abs=3)


def test_a_bundle_may_keep_its_own_rims_instead_of_snapping_them_to_the_edge(tmp_path):
    """``"snap_to_edge": false`` in a detector bundle's manifest: the network's rims as they come."""
    gray = np.full((240, 240), 70, np.uint8)
    cv2.ellipse(gray, (118, 124), (92, 84), 15, 0, 360, 185, -1)
    cv2.circle(gray, (118, 124), 22, 120, -1)
    rgb = cv2.cvtColor(gray, cv2.COLOR_GRAY2RGB)
    own = tmp_path / "detector"
    shutil.copytree(WEIGHTS_DIR / DETECTOR, own)
    manifest = json.loads((own / "manifest.json").read_text())
    (own / "manifest.json").write_text(json.dumps({**manifest, "snap_to_edge": False}))
    raw = HeadstampReader.from_bundles(threads=1, detector=own).detector
    snapping = HeadstampReader.from_bundles(threads=1).detector
    assert not raw.snap and snapping.snap
    unsnapped, snapped = raw(rgb, gray), snapping(rgb, gray)
    assert len(unsnapped) == len(snapped) == 1
    assert snapped[0] == refine(gray, unsnapped[0]) and snapped[0] != unsnapped[0]
    assert snapped[0].rim.cx == pytest.approx(118, abs=1.5) and snapped[0].rim.a_px == pytest.approx(92, abs=2.5)


def test_a_reader_of_a_named_detector_that_is_not_there_is_an_error_not_the_geometric_fallback(tmp_path):
    with pytest.raises(BundleError):
        HeadstampReader.from_bundles(threads=1, detector=tmp_path / "no_such_detector")


def test_refine_rim_gives_up_off_the_image():
    assert refine_rim(np.zeros((50, 50), np.uint8), -500.0, -500.0, 10.0) is None


def test_letterbox_places_the_image_centred():
    x, box = letterbox(np.zeros((100, 200, 3), np.uint8), 192)
    assert x.shape == (3, 192, 192)
    assert box.scale == pytest.approx(0.96) and box.pad_x == 0 and box.pad_y == 48


def _head_loss(loss_fn, truth: Ellipse, guess: Ellipse) -> float:
    """The loss of a network output that decodes to ``guess`` where the target says ``truth`` (one head)."""
    box = Letterbox(1.0, 0.0, 0.0)
    target, mask = encode_targets([(truth, 0.3)], box, 128)
    out, _ = encode_targets([(guess, 0.3)], box, 128)
    out = _as_output(out)
    return float(loss_fn(*(torch.from_numpy(a)[None] for a in (out, target, mask))))


def test_rim_shape_loss_ignores_the_angle_of_a_circle_but_not_of_an_ellipse():
    circle, ellipse = Ellipse(60.0, 60.0, 30.0, 30.0, 0.0), Ellipse(60.0, 60.0, 30.0, 21.0, 0.0)
    turned = lambda e: Ellipse(e.cx, e.cy, e.a_px, e.b_px, 0.7)  # noqa: E731
    same = _head_loss(rim_shape_loss, circle, circle)
    assert _head_loss(rim_shape_loss, circle, turned(circle)) == pytest.approx(same)
    assert _head_loss(rim_shape_loss, ellipse, turned(ellipse)) > _head_loss(rim_shape_loss, ellipse, ellipse) + 0.5
    # the old loss charges a circle's arbitrary angle as much as an ellipse's
    assert _head_loss(detection_loss, circle, turned(circle)) > _head_loss(detection_loss, circle, circle) + 0.5


def test_rim_shape_loss_charges_an_axis_ratio_error_alike_near_a_circle_and_at_a_tilt():
    def cost(loss_fn, ratio: float, guess: float) -> float:
        head = lambda r: Ellipse(60.0, 60.0, 30.0, 30.0 * r, 0.0)  # noqa: E731
        return _head_loss(loss_fn, head(ratio), head(guess)) - _head_loss(loss_fn, head(ratio), head(ratio))
    assert cost(rim_shape_loss, 0.99, 0.97) == pytest.approx(cost(rim_shape_loss, 0.80, 0.78), rel=0.05)
    assert cost(rim_shape_loss, 0.80, 0.78) > 0.05
    assert cost(detection_loss, 0.99, 0.97) > 3 * cost(detection_loss, 0.80, 0.78)  # the logit's stretch near 1


def _head_batches_of_noise(rng: np.random.Generator):
    """Two 64 px images with one head each, as the detector trainer's batches come."""
    x = torch.from_numpy(rng.normal(0.5, 2.0, (2, 3, 64, 64)).astype(np.float32))
    enc = [encode_targets([(Ellipse(30.0, 34.0, 12.0, 10.0, 0.3), 0.3)], Letterbox(1.0, 0.0, 0.0), 64)
           for _ in range(2)]
    return x, torch.from_numpy(np.stack([t for t, _ in enc])), torch.from_numpy(np.stack([m for _, m in enc]))


@pytest.mark.parametrize("frozen", [True, False])
def test_frozen_batch_norm_keeps_its_running_statistics_and_still_trains(frozen):
    """``train_detector(frozen_bn=True)``: batch norm normalises with the running statistics it came with and
    keeps them, as at inference, while every weight (batch norm's scales and shifts too) trains."""
    torch.manual_seed(0)
    model = build_centernet(CenterNetConfig(input_px=64, widths=(4, 4, 4, 4, 4), head=4))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    train_detector(model, _head_batches_of_noise, LoopConfig(minutes=5.0, lr=1e-2, max_steps=3), frozen_bn=frozen)
    after = model.state_dict()
    stats = [k for k in before if k.endswith(("running_mean", "running_var"))]
    scales = [k for k in before if k.endswith(".weight") and k[:-6] + "running_mean" in before]  # batch norms
    assert stats and scales
    assert all(torch.equal(before[k], after[k]) for k in stats) == frozen
    assert not any(torch.equal(before[k], after[k]) for k in scales)
