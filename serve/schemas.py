"""Request and response models of the HTTP API (pydantic lives only here, at the edge)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

DB_INT_MAX = 2**63 - 1  # registry ids are 64-bit integers in SQLite and PostgreSQL


class ErrorBody(BaseModel):
    code: str = Field(description="machine-readable reason, e.g. file_too_large, unsupported_type")
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody


class SegmentsCandidateOut(BaseModel):
    segments: list[str]
    score: float


class HeadstampMatchOut(BaseModel):
    code: str
    maker: str
    country: str | None
    verified: bool = Field(description="false for codes that are commonly cited but not sourced")
    source: str
    score: float = Field(description="posterior probability that this maker code is on the head")
    segment: str
    year: str | None
    explanation: str


class Ellipse(BaseModel):
    a: float
    b: float
    angle_deg: float


class HeadstampMarking(BaseModel):
    kind: Literal["headstamp"]
    segments: list[str] = Field(description="clockwise, from an arbitrary start")
    center: list[float] = Field(description="x, y in original-image pixels")
    radius: float
    ellipse: Ellipse
    primer_ratio: float
    detection_score: float
    char_probs: list[list[float]] = Field(description="per segment, per character probability")
    turned: list[bool] = Field(description="per segment: stamped tops-inward")
    clock: list[float]
    candidates: list[SegmentsCandidateOut]
    matches: list[HeadstampMatchOut] = []


class TextCandidateOut(BaseModel):
    text: str
    score: float


class LineMarking(BaseModel):
    """A painted line; the lot line has kind ``lot``, its parsed format and fields and its registry matches."""

    kind: Literal["lot", "text"]
    text: str = Field(description="a circled factory code is given without its circle: 10-04-11")
    box: list[float] = Field(description="x0, y0, x1, y1 in original-image pixels")
    quad: list[list[float]]
    char_probs: list[float]
    candidates: list[TextCandidateOut]
    detection_score: float
    circled_factory: bool | None = None
    format: str | None = None
    fields: dict[str, str] | None = None
    matches: list[LotMatchOut] = []


Marking = Annotated[HeadstampMarking | LineMarking, Field(discriminator="kind")]


class ImageResult(BaseModel):
    file: str
    seconds: float
    markings: list[Marking] = []
    error: ErrorBody | None = None


class ReadResponse(BaseModel):
    images: list[ImageResult]


Probability = Annotated[float, Field(ge=0, le=1)]


class ReadCandidateIn(BaseModel):
    text: str = Field(max_length=64)
    score: float = Field(1.0, ge=0, le=1e6, description="the read's probability or weight")
    char_probs: list[Probability] | None = Field(None, max_length=64)


class SegmentsCandidateIn(BaseModel):
    segments: list[str] = Field(max_length=8)
    score: float = Field(1.0, ge=0, le=1e6, description="the read's probability or weight")


class MatchRequest(BaseModel):
    """Either a typed lot (``query``, ``?`` for unknown characters), lot candidate reads, or headstamp
    segment candidates."""

    query: str | None = Field(None, max_length=64, examples=["12-1?-451"])
    candidates: list[ReadCandidateIn] | None = Field(None, max_length=16)
    headstamp: list[SegmentsCandidateIn] | None = Field(None, max_length=16)
    circled_factory: bool | None = None
    top: int = Field(5, ge=1, le=50)


class SightingOut(BaseModel):
    id: int
    kind: str
    lot_id: int | None
    headstamp_code: str | None
    read_text: str
    score: float | None
    image_ref: str
    frame_time_s: float | None
    seen_on: str | None
    place: str | None
    description: str | None
    source: str | None
    recorded_at: str


class LotMatchOut(BaseModel):
    lot_id: int
    lot: str = Field(description="as marked, e.g. ((10))-04-11")
    circled_factory: bool
    nomenclature: str
    item: str
    marking_kind: str
    format: str | None
    fields: dict[str, str]
    country: str | None
    exporter: str | None
    consignee: str | None
    export_date: str | None
    contract_notes: str | None
    source: str | None
    score: float
    explanation: str
    sightings: list[SightingOut] = []


ImageResult.model_rebuild()
LineMarking.model_rebuild()


class FrameResult(BaseModel):
    index: int
    time_s: float
    sharpness: float | None = None
    markings: list[Marking] = []


class EvidenceOut(BaseModel):
    time_s: float
    frame: int
    center: list[float]
    size: float
    best: list[str]


class FusedCandidate(BaseModel):
    segments: list[str] | None = None
    text: str | None = None
    score: float


class FusedOut(BaseModel):
    kind: str
    frames: int
    segments: list[str] | None = None
    text: str | None = None
    candidates: list[FusedCandidate]
    char_probs: list[list[float]] | None = Field(
        None, description="fused probability of each character of the best read, per segment (a line: one)")
    evidence: list[EvidenceOut]


class FramesResponse(BaseModel):
    frames: list[FrameResult]
    fused: list[FusedOut] = Field(description="one per marking tracked across frames, reads fused")


class MatchResponse(BaseModel):
    lots: list[LotMatchOut] = []
    headstamps: list[HeadstampMatchOut] = []


class SightingIn(BaseModel):
    kind: Literal["lot", "headstamp"]
    read_text: str = Field(min_length=1, max_length=128)
    image_ref: str = Field("", max_length=1024)
    lot_id: int | None = Field(None, ge=1, le=DB_INT_MAX)
    headstamp_code: str | None = Field(None, max_length=16)
    score: float | None = None
    frame_time_s: float | None = None
    seen_on: str | None = Field(None, max_length=32, examples=["2016-07"])
    place: str | None = Field(None, max_length=256)
    description: str | None = Field(None, max_length=2000)
    source: str | None = Field(None, max_length=2000)


class SightingCreated(BaseModel):
    id: int | None = Field(description="null when the same evidence was already recorded")


class LotIn(BaseModel):
    lot_text: str = Field(max_length=64)
    circled_factory: bool = False
    item: str = ""
    nomenclature: str = ""
    marking_kind: Literal["lot", "serial"] = "lot"
    manufacturer: str | None = None
    country: str | None = None
    exporter: str | None = None
    consignee: str | None = None
    export_date: str | None = None
    contract_notes: str | None = None
    source: str | None = None


class RowErrorOut(BaseModel):
    row: int
    message: str


class ImportResult(BaseModel):
    added: int
    errors: list[RowErrorOut]


class BundleInfo(BaseModel):
    name: str
    sha256: str
    training_command: str | None = None
    metrics: dict | None = None


class VersionResponse(BaseModel):
    version: str
    device: str
    thorough: bool = Field(False, description="unsure heads and lines looked at again (MARKTRACE_THOROUGH)")
    bundles: list[BundleInfo]


class Ready(BaseModel):
    ready: bool
    models: bool
    registry: bool
