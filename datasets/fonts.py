"""Font discovery and per-glyph coverage checks for the renderers."""

from __future__ import annotations

import functools
import glob
import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from model.charset import PERSIAN_DIGITS

PERSIAN_FONT_DIR = Path(__file__).parent / "fonts" / "persian"  # drawn only for Persian digits (README there)
GOOGLE_FONT_DIR = Path(__file__).parent / "fonts" / "google"  # drawn only when named (README there)
DEBIAN_FONT_DIR = Path(__file__).parent / "fonts" / "debian"  # drawn only when named (README there)
# Google Fonts faces (SIL OFL 1.1) in two disjoint sets of families: renderers stamp in ``STAMP_FACES`` when asked
# (training data), and in ``HELD_OUT_FACES`` only to measure how a reader copes with glyph shapes it never saw
# (PT Serif shares its foundry's superfamily with PT Sans Narrow, but not its letterforms: serif against sans)
STAMP_FACES = ("Oswald_500Medium.ttf", "BarlowCondensed_600SemiBold.ttf", "RobotoCondensed_700Bold.ttf",
               "PTSansNarrow_700Bold.ttf", "RussoOne_400Regular.ttf", "ShareTechMono_400Regular.ttf",
               "IBMPlexMono_600SemiBold.ttf", "ArchivoNarrow_600SemiBold.ttf", "Exo2_600SemiBold.ttf",
               "Play_700Bold.ttf", "SourceCodePro_600SemiBold.ttf", "CourierPrime_700Bold.ttf",
               "ChakraPetch_600SemiBold.ttf", "Jura_600SemiBold.ttf", "Anton_400Regular.ttf", "B612Mono_700Bold.ttf")
HELD_OUT_FACES = ("Teko_500Medium.ttf", "SairaCondensed_600SemiBold.ttf", "Orbitron_600SemiBold.ttf",
                  "BebasNeue_400Regular.ttf", "Inconsolata_700Bold.ttf", "Kanit_500Medium.ttf",
                  "Oxanium_600SemiBold.ttf", "PTSerif_700Bold.ttf")
# faces of 28 more families from Debian's font packages (OFL, Apache, MIT, BSD, GPL with the font exception), none
# of them a family of HELD_OUT_FACES: training data may be drawn in them (``make_strips --debian-faces``)
DEBIAN_FACES = ("3270SemiCondensed-Regular.ttf", "Apropal-Bold.otf", "Bajaderka-Regular.otf", "Cabin-SemiBold.otf",
                "Cantarell-Bold.otf", "ClearSans-Medium.ttf", "Comfortaa-Bold.ttf", "Dosis-SemiBold.otf",
                "FantasqueSansMono-Bold.ttf", "FiraCode-Medium.ttf", "FreeSansBold.ttf", "FreeMonoBold.ttf",
                "GilliusADF-BoldCond.otf", "Go-Mono-Bold.ttf", "Inter-SemiBold.otf", "JetBrainsMono-Bold.ttf",
                "Junction.otf", "Karla-Bold.otf", "Karmilla-Bold.ttf", "LeagueMono-NarrowSemiBold.otf",
                "LeagueSpartan-SemiBold.otf", "Manrope-SemiBold.ttf", "MekanusADFStd-Bold.otf", "Monoid-Bold.ttf",
                "SwitzeraADF-DmBdCond.otf", "UniversalisADFStd-BoldCond.otf", "agave-b-autohinted.ttf",
                "mononoki-Bold.ttf")
FACE_SETS = {"stamp": STAMP_FACES, "held": HELD_OUT_FACES, "debian": DEBIAN_FACES}
FONT_DIRS = (
    str(Path(__file__).parent / "fonts"),
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/truetype",
    "/usr/share/fonts",
)


@functools.lru_cache(maxsize=1)
def font_paths() -> tuple[str, ...]:
    """Every TrueType font found in :data:`FONT_DIRS` but the bundled Persian-digit, Google and Debian ones
    (deduplicated by file name, sorted)."""
    seen: dict[str, str] = {}
    for d in FONT_DIRS:
        for p in sorted(glob.glob(os.path.join(d, "**", "*.ttf"), recursive=True)):
            if Path(p).parent not in (PERSIAN_FONT_DIR, GOOGLE_FONT_DIR, DEBIAN_FONT_DIR):
                seen.setdefault(os.path.basename(p), p)
    if not seen:
        raise RuntimeError(f"no .ttf fonts found in {FONT_DIRS}; install fonts-dejavu-core")
    return tuple(sorted(seen.values()))


@functools.lru_cache(maxsize=256)
def load(path: str, size_px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size_px)


@functools.lru_cache(maxsize=4096)
def covers(path: str, glyph: str) -> bool:
    """Whether the font draws ``glyph`` itself rather than its missing-glyph box."""
    font = load(path, 32)
    missing = font.getmask("\U0010fffd")
    mask = font.getmask(glyph)
    return mask.size[0] > 0 and (mask.size != missing.size or bytes(mask) != bytes(missing))


@functools.lru_cache(maxsize=1)
def persian_font_paths() -> tuple[str, ...]:
    """The fonts bundled for Persian digits (Arabic-script families), sorted."""
    return tuple(sorted(str(p) for p in PERSIAN_FONT_DIR.glob("*.ttf")))


@functools.lru_cache(maxsize=1)
def extra_font_paths() -> tuple[str, ...]:
    """Typefaces drawn only when a renderer names them (``datasets.lots.MORE_FONT_NAMES``, :data:`STAMP_FACES`,
    :data:`DEBIAN_FACES`), never in the pools the default draws pick from: the bundled Google and Debian faces, and
    Roboto from the ``font-roboto`` package (Apache 2.0; ``[train]``) when installed."""
    bundled = tuple(sorted(str(p) for p in GOOGLE_FONT_DIR.glob("*.ttf")))
    bundled += tuple(sorted(str(p) for p in DEBIAN_FONT_DIR.glob("*.[ot]tf")))
    try:
        import font_roboto
    except ImportError:
        return bundled
    return bundled + tuple(sorted(glob.glob(os.path.join(font_roboto.font_directory, "Roboto-*.ttf"))))


def text_mask(text: str, font: ImageFont.FreeTypeFont, pad: int) -> np.ndarray:
    """Float coverage (0..1) of ``text`` drawn in ``font``: its ink box with ``pad`` pixels all round (the text's
    left bearing is ``font.getbbox(text)[0]``, drawn at ``pad``)."""
    left, top, right, bottom = font.getbbox(text)
    img = Image.new("L", (max(1, right - left) + 2 * pad, max(1, bottom - top) + 2 * pad), 0)
    ImageDraw.Draw(img).text((pad - left, pad - top), text, font=font, fill=255)
    return np.asarray(img, np.float32) / 255.0


def fonts_for(text: str, *, extra: bool = False) -> list[str]:
    """Fonts that cover every non-space character of ``text``; text in Persian digits may also get the
    bundled Arabic-script families, and ``extra`` adds :func:`extra_font_paths` at the end."""
    pool = font_paths() + (persian_font_paths() if set(text) & set(PERSIAN_DIGITS) else ())
    pool += extra_font_paths() if extra else ()
    return [p for p in pool if all(covers(p, g) for g in set(text) - {" "})]


def named_fonts(text: str, names: tuple[str, ...]) -> list[str]:
    """The faces among ``names`` (file names, default or extra pool) that cover ``text``, in pool order."""
    return [p for p in fonts_for(text, extra=True) if os.path.basename(p) in names]
