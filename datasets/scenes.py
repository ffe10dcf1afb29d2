"""Compose rendered heads into photos: single-head crops (as a photo of one case base) and 960x540 frames
with several heads on varied backgrounds, partly occluded; apply damage by level."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from datasets import degrade
from datasets.headstamp import GLYPH_H, HeadRender, PlacedSegment, TextPlacement, render_head
from datasets.sampler import Segment
from model.structures import Ellipse

LEVELS = ("clean", "worn", "obscured")
WALLS = 0.6  # share of tilted heads whose case side shows past the rim


@dataclass(frozen=True)
class HeadTruth:
    """Ground truth for one head in a composed image."""

    rim: Ellipse
    primer_ratio: float
    segments: tuple[PlacedSegment, ...]

    def clockwise_labels(self) -> list[str]:
        """Segment labels clockwise from 12 o'clock."""
        order = sorted(self.segments, key=lambda s: (s.center_rad + math.pi / 2) % (2 * math.pi))
        return [s.segment.label for s in order]


@dataclass(frozen=True)
class Damage:
    """Which damage a crop's level applies (for diagnosis: a kind switched off is still drawn, so the random
    stream and every other part of the render stay as they were)."""

    face: bool = True  # corrosion, patina, scratches, grinding
    capture: bool = True  # glare, paint, downscaling; blur, noise and JPEG as at the clean level when off
    occlusion: bool = True  # finger-like or debris blobs over the head


@dataclass(frozen=True)
class Scene:
    rgb: np.ndarray  # (H, W, 3) uint8
    heads: tuple[HeadTruth, ...]
    level: str
    glyphs: np.ndarray | None = None  # crops: (H, W) float32, where the head is stamped (undamaged; see render_crop)


def background(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """Cloth, table, ground or camouflage: layered smooth noise in a random palette."""
    out = np.zeros((h, w, 3), np.float32) + rng.uniform(30, 220, 3)
    for scale in (int(rng.integers(24, 80)), int(rng.integers(6, 20)), 2):
        low = rng.normal(0, 1, (max(2, h // scale), max(2, w // scale), 3)).astype(np.float32)
        out += cv2.resize(low, (w, h), interpolation=cv2.INTER_CUBIC) * rng.uniform(5, 35)
    if rng.random() < 0.3:
        out = degrade.paint(out, rng, float(rng.uniform(0.5, 1.0)))
    return np.clip(out, 0, 255)


def _damage_face(head: HeadRender, rng: np.random.Generator, level: str, apply: bool = True) -> np.ndarray:
    rgb = plain = head.rgb.astype(np.float32)
    if level == "clean":
        return rgb
    amount = 0.5 if level == "worn" else 0.8
    if rng.random() < 0.7:
        rgb = degrade.corrosion(rgb, head.alpha, rng, float(rng.uniform(0.2, amount)))
    if rng.random() < 0.35:
        rgb = degrade.patina(rgb, head.alpha, rng, float(rng.uniform(0.15, amount)))
    if rng.random() < 0.6:
        rgb = degrade.scratches(rgb, rng, int(rng.integers(2, 12)))
    if level == "obscured" and rng.random() < 0.6:
        rgb = degrade.grind(rgb, rng, float(rng.uniform(0.2, 0.5)))
    return rgb if apply else plain


def place_head(canvas: np.ndarray, face: np.ndarray, head: HeadRender, *, centre: tuple[float, float],
               radius_px: float, tilt_k: float, tilt_rad: float) -> Ellipse:
    """Warp ``face`` (with the head's alpha) into ``canvas`` in place; returns the rim ellipse there."""
    s = radius_px / head.radius_px
    m = face_to_image(head, centre=centre, radius_px=radius_px, tilt_k=tilt_k, tilt_rad=tilt_rad)
    size = (canvas.shape[1], canvas.shape[0])
    warped = cv2.warpAffine(face, m, size, flags=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    alpha = cv2.warpAffine(head.alpha, m, size, flags=cv2.INTER_LINEAR)[..., None]
    canvas *= 1 - alpha
    canvas += warped * alpha
    return Ellipse(centre[0], centre[1], radius_px, radius_px * tilt_k, tilt_rad)


def face_to_image(head: HeadRender, *, centre: tuple[float, float], radius_px: float, tilt_k: float,
                  tilt_rad: float) -> np.ndarray:
    """The (2, 3) affine map from the head's face-on canvas to the photo: scaled to ``radius_px``, squashed by
    ``tilt_k`` along ``tilt_rad`` + 90 degrees, centred on ``centre``."""
    c, si = math.cos(tilt_rad), math.sin(tilt_rad)
    rot = np.array([[c, -si], [si, c]])
    lin = radius_px / head.radius_px * rot @ np.diag([1.0, tilt_k]) @ rot.T
    half = head.rgb.shape[0] / 2
    t = np.array(centre) - lin @ np.array([half, half])
    return np.hstack([lin, t[:, None]]).astype(np.float32)


def draw_case_wall(canvas: np.ndarray, rim: Ellipse, colour: np.ndarray, *, depth: float, side: int,
                   groove: float) -> None:
    """The side of the case seen past a tilted head, in place: the rim ellipse swept ``depth`` rim radii back
    along the case axis (a tilt projects the axis onto the ellipse's minor axis, shortened by the tilt's sine),
    towards ``side`` (+1 or -1), in ``colour`` darkening away from the rim, with a dark extractor groove
    ``groove`` of the way back. Drawn before the face, which then covers the part behind it."""
    sin_t = math.sqrt(max(0.0, 1.0 - (rim.b_px / rim.a_px) ** 2))
    c, s = math.cos(rim.angle_rad), math.sin(rim.angle_rad)
    major, minor = np.array([c, s]), np.array([-s, c])
    shift = side * depth * rim.a_px * sin_t * minor
    if float(np.linalg.norm(shift)) < 1.0:
        return
    centre = np.array([rim.cx, rim.cy])
    ends = np.stack([centre, centre + shift])
    x0, y0 = np.maximum(np.floor(ends.min(0) - rim.a_px - 6), 0).astype(int)
    x1, y1 = np.minimum(np.ceil(ends.max(0) + rim.a_px + 6), canvas.shape[1::-1]).astype(int)
    if x1 <= x0 or y1 <= y0:
        return
    sub = canvas[y0:y1, x0:x1]  # only the wall's bounding box is drawn on (a view: in place)
    h, w = sub.shape[:2]
    mask, shade = np.zeros((h, w), np.float32), np.ones((h, w), np.float32)
    centre = centre - (x0, y0)

    def ellipse(img: np.ndarray, at: np.ndarray, value: float, thickness: int) -> None:
        cv2.ellipse(img, (int(at[0] * 16), int(at[1] * 16)), (int(rim.a_px * 16), int(rim.b_px * 16)),
                    math.degrees(rim.angle_rad), 0, 360, value, thickness, cv2.LINE_AA, 4)

    ellipse(mask, centre + shift, 1.0, -1)
    band = np.array([centre - rim.a_px * major, centre + rim.a_px * major,
                     centre + shift + rim.a_px * major, centre + shift - rim.a_px * major])
    cv2.fillConvexPoly(mask, (band * 16).astype(np.int32), 1.0, cv2.LINE_AA, 4)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    back = ((xs - centre[0]) * shift[0] + (ys - centre[1]) * shift[1]) / float(shift @ shift)
    shade -= 0.35 * np.clip(back, 0, 1)
    ellipse(shade, centre + groove * shift, 0.45, max(1, round(0.05 * rim.a_px)))
    mask = cv2.GaussianBlur(mask, (0, 0), 0.7)[..., None]
    sub *= 1 - mask
    sub += mask * shade[..., None] * colour


def _case_wall(canvas: np.ndarray, head: HeadRender, rim: Ellipse, rng: np.random.Generator, share: float) -> None:
    """With probability ``share``, the case's side past a tilted head (in the head's metal, darker, or now and
    then a lacquer colour); the random draws are made either way, so ``share`` 0 renders the same scene
    without walls."""
    depth, side, groove = rng.uniform(0.1, 0.6), int(rng.choice([-1, 1])), rng.uniform(0.2, 0.7)
    metal = np.median(head.rgb[head.alpha > 0.9], axis=0).astype(np.float32)
    tint = rng.uniform(30, 200, 3).astype(np.float32) if rng.random() < 0.25 else metal
    colour = tint * rng.uniform(0.5, 0.9)
    if rng.random() < share:
        draw_case_wall(canvas, rim, colour, depth=depth, side=side, groove=groove)


def _tilt(rng: np.random.Generator, level: str) -> tuple[float, float]:
    max_deg = {"clean": 25.0, "worn": 40.0, "obscured": 55.0}[level]
    deg = rng.uniform(0, max_deg) if rng.random() < 0.7 else 0.0
    return math.cos(math.radians(deg)), float(rng.uniform(0, math.pi))


def _finish(rgb: np.ndarray, rng: np.random.Generator, level: str, diameter_px: float,
            apply: bool = True) -> np.ndarray:
    lv = {"clean": 0.1, "worn": 0.45, "obscured": 0.7}[level] if apply else 0.1
    if level != "clean" and rng.random() < 0.4:
        glared = degrade.glare(rgb, rng)
        rgb = glared if apply else rgb
    if level == "obscured" and rng.random() < 0.5:
        painted = degrade.paint(rgb, rng, float(rng.uniform(0.2, 0.6)))
        rgb = painted if apply else rgb
    rgb = np.clip(rgb, 0, 255).astype(np.uint8)
    if level != "clean" and rng.random() < 0.4:
        smaller = degrade.downscale(rgb, rng, diameter_px=diameter_px, min_diameter_px=40)
        rgb = smaller if apply else rgb
    return degrade.photometric(lv, seed=int(rng.integers(2**31)))(image=rgb)["image"]


def _truth(head: HeadRender, rim: Ellipse) -> HeadTruth:
    return HeadTruth(rim, head.primer_ratio, head.segments)


def render_crop(rng: np.random.Generator, *, level: str, size_px: int | None = None,
                segments: list[Segment] | None = None, walls: float = WALLS,
                glyph_h: tuple[float, float] = GLYPH_H, text: TextPlacement = TextPlacement(),
                damage: Damage = Damage(), more_fonts: bool = False, faces: tuple[str, ...] = (),
                restyled: bool = False) -> Scene:
    """One head filling most of a square photo, as in a close-up of a case base; ``walls`` of tilted heads
    show the case's side; ``glyph_h``, ``text``, ``more_fonts``, ``faces`` and ``restyled`` as in ``render_head``;
    ``damage`` as in :class:`Damage`. The scene's ``glyphs`` map where the head is stamped, in the photo, as if
    undamaged and unoccluded (an auxiliary training target)."""
    size = int(size_px or rng.choice([128, 160, 192, 224, 256, 320]))
    head = render_head(rng, radius_px=int(rng.integers(70, 130)), segments=segments, glyph_h=glyph_h,
                       text=text, more_fonts=more_fonts, faces=faces, restyled=restyled)
    face = _damage_face(head, rng, level, damage.face)
    canvas = background(size, size, rng)
    radius = size / 2 * rng.uniform(0.75, 1.02)  # tight crops clip the rim at the image edge
    centre = (size / 2 + rng.normal(0, 0.04 * size), size / 2 + rng.normal(0, 0.04 * size))
    k, tilt = _tilt(rng, level)
    _case_wall(canvas, head, Ellipse(centre[0], centre[1], radius, radius * k, tilt), rng, walls)
    rim = place_head(canvas, face, head, centre=centre, radius_px=radius, tilt_k=k, tilt_rad=tilt)
    if level != "clean" and rng.random() < 0.25:
        occluded = degrade.occlude(canvas, rng, centre, radius)
        canvas = occluded if damage.occlusion else canvas
    m = face_to_image(head, centre=centre, radius_px=radius, tilt_k=k, tilt_rad=tilt)
    glyphs = cv2.warpAffine(head.glyphs * head.alpha, m, (size, size), flags=cv2.INTER_LINEAR)
    return Scene(_finish(canvas, rng, level, 2 * radius, damage.capture), (_truth(head, rim),), level, glyphs)


def render_frame(rng: np.random.Generator, *, level: str, width: int = 960, height: int = 540,
                 walls: float = WALLS, more_fonts: bool = False, faces: tuple[str, ...] = ()) -> Scene:
    """A video still with 1-6 heads of radius 35-95 px, non-overlapping centres, some partly occluded; ``walls``
    of tilted heads show the case's side; ``more_fonts`` and ``faces`` as in ``render_head``."""
    canvas = background(height, width, rng)
    truths: list[HeadTruth] = []
    for _ in range(int(rng.integers(1, 7))):
        radius = float(rng.uniform(35, 95))
        for _try in range(20):
            centre = (float(rng.uniform(radius * 0.6, width - radius * 0.6)),
                      float(rng.uniform(radius * 0.6, height - radius * 0.6)))
            if all(math.hypot(centre[0] - t.rim.cx, centre[1] - t.rim.cy) > 0.9 * (radius + t.rim.a_px)
                   for t in truths):
                break
        else:
            continue
        head = render_head(rng, radius_px=int(max(60, min(130, radius * 1.3))), more_fonts=more_fonts,
                           faces=faces)
        face = _damage_face(head, rng, level)
        k, tilt = _tilt(rng, "clean" if level == "clean" else "worn")
        _case_wall(canvas, head, Ellipse(centre[0], centre[1], radius, radius * k, tilt), rng, walls)
        rim = place_head(canvas, face, head, centre=centre, radius_px=radius, tilt_k=k, tilt_rad=tilt)
        truths.append(_truth(head, rim))
    if level != "clean" and truths and rng.random() < 0.5:
        t = truths[int(rng.integers(0, len(truths)))]
        canvas = degrade.occlude(canvas, rng, (t.rim.cx, t.rim.cy), t.rim.a_px)
    return Scene(_finish(canvas, rng, level, 150.0), tuple(truths), level)
