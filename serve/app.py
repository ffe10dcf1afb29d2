"""The HTTP service: reads uploaded photos and frames, matches reads against the registry, serves the registry.

``marktrace serve`` runs it under uvicorn. Models and the registry load once at start-up; CPU work runs in a
worker thread (micro-batched across concurrent requests), never on the event loop.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import cv2
from fastapi import Depends, FastAPI, File, Request, UploadFile
from fastapi import Path as FastPath
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse
from sqlalchemy import text

from model.imageio import ImageDecodeError, decode_image
from model.matching.headstamps import HeadstampMatcher, SegmentsCandidate
from model.matching.matcher import LotMatcher, ReadCandidate
from model.matching.reads import ReadMatcher
from model.matching.store import Registry
from model.pipeline import MarkingReader
from model.video import VideoReader
from model.videoio import Frame, SamplingConfig, VideoDecodeError, sample_frames, sharpness, video_seconds
from serve import schemas
from serve.batcher import MicroBatcher
from serve.settings import Settings

log = logging.getLogger(__name__)
UPLOAD_CHUNK = 1 << 20
PAGE = Path(__file__).resolve().parent / "static" / "index.html"


class ApiError(Exception):
    """A request problem answered with a JSON error body and a 4xx/5xx status."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclasses.dataclass
class Engine:
    """What the routes share: loaded once at start-up."""

    settings: Settings
    reader: MarkingReader
    registry: Registry
    lots: LotMatcher
    headstamps: HeadstampMatcher
    match: ReadMatcher
    batcher: MicroBatcher | None


def _package_version() -> str:
    try:
        return version("marktrace")
    except PackageNotFoundError:
        return "0+unknown"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        reader = MarkingReader.from_bundles(device=settings.device, threads=settings.threads,
                                            thorough=settings.thorough)
        registry = Registry.open(settings.registry())
        batcher = None
        if settings.micro_batch_images > 1:
            batcher = MicroBatcher(reader.read_batch, max_images=settings.micro_batch_images,
                                   wait_ms=settings.micro_batch_wait_ms)
            batcher.start()
        matcher = ReadMatcher(registry)
        app.state.engine = Engine(settings, reader, registry, matcher.lots, matcher.headstamps, matcher, batcher)
        log.info("marktrace ready on %s, registry %s", settings.device, registry.engine.url.render_as_string())
        yield
        if batcher:
            await batcher.stop()

    app = FastAPI(title="marktrace", version=_package_version(), lifespan=lifespan,
                  description="Reads cartridge headstamps and munition markings; matches them to a lot registry.",
                  responses={401: {"model": schemas.ErrorResponse}, 403: {"model": schemas.ErrorResponse}})

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"error": {"code": exc.code, "message": exc.message}}, status_code=exc.status)

    @app.middleware("http")
    async def _limit_body(request: Request, call_next):
        size = request.headers.get("content-length")
        if size and size.isdigit() and int(size) > settings.max_request_bytes:
            return JSONResponse({"error": {"code": "request_too_large",
                                           "message": f"request body over {settings.max_request_bytes} bytes"}},
                                status_code=413)
        return await call_next(request)

    _routes(app, settings)
    return app


def engine(request: Request) -> Engine:
    return request.app.state.engine


def api_key(request: Request) -> None:
    keys = request.app.state.engine.settings.api_keys
    if not keys:
        return
    given = request.headers.get("x-api-key")
    if not given:
        raise ApiError(401, "missing_api_key", "this service needs an X-API-Key header")
    if given not in keys:
        raise ApiError(403, "bad_api_key", "the X-API-Key is not accepted")


async def _read_upload(f: UploadFile, limit: int) -> bytes:
    data = bytearray()
    while chunk := await f.read(UPLOAD_CHUNK):
        data += chunk
        if len(data) > limit:
            raise ApiError(413, "file_too_large", f"{f.filename}: over {limit} bytes")
    return bytes(data)


def _refuse_long_video(blob: bytes, settings: Settings) -> None:
    """413 for a video whose container declares more running time than the service reads (cheap: metadata)."""
    seconds = video_seconds(blob)
    if seconds is not None and seconds > settings.max_video_seconds:
        raise ApiError(413, "video_too_long", f"the video runs {seconds:.1f} s; this service reads videos of "
                       f"at most {settings.max_video_seconds:g} s (trim it, or use `marktrace video`)")


def _in_time(until: float, fn, /, *args, **kwargs):
    """``fn`` run in the thread pool within the request's deadline ``until`` (skipped when the deadline passed
    while it waited for a thread); TimeoutError after it."""
    def call():
        if time.monotonic() > until:
            raise TimeoutError
        return fn(*args, **kwargs)
    return asyncio.wait_for(run_in_threadpool(call), max(0.0, until - time.monotonic()))


async def _read_one(eng: Engine, name: str, data: bytes, deadline: float) -> schemas.ImageResult:
    """One image of a request; a bad image or one not read by the request's deadline gets its own error."""
    t0 = time.perf_counter()

    def failed(code: str, message: str) -> schemas.ImageResult:
        return schemas.ImageResult(file=name, seconds=round(time.perf_counter() - t0, 4),
                                   error=schemas.ErrorBody(code=code, message=message))
    try:
        rgb = await run_in_threadpool(decode_image, data, max_pixels=eng.settings.max_pixels)  # bounded by pixels
        if eng.batcher:
            reads = await asyncio.wait_for(eng.batcher.read(rgb), max(0.0, deadline - time.monotonic()))
        else:
            reads = await _in_time(deadline, eng.reader.read, rgb)
    except ImageDecodeError as exc:
        return failed("empty_file" if not data else "unsupported_image", str(exc))
    except TimeoutError:
        return failed("timeout", f"{name} was not read within the request's {eng.settings.request_timeout_s} s")
    markings = [{**r.to_json(), "matches": _matches(eng, r)} for r in reads]
    return schemas.ImageResult(file=name, seconds=round(time.perf_counter() - t0, 4), markings=markings)


def _matches(eng: Engine, r) -> list[dict]:
    """Registry matches of one read: maker codes for a headstamp, lots for a lot line, none for other text."""
    return [x.to_json() for x in eng.match(r)]


def _frames_of(blobs: list[bytes], every_s: float, settings: Settings) -> list[Frame]:
    """Stills (frame k at k seconds) or, for a single non-image upload, the sampled frames of a video."""
    if not blobs or not any(blobs):
        raise ApiError(400, "empty_upload", "upload stills or a video as multipart field 'files'")
    try:
        rgbs = [decode_image(b, max_pixels=settings.max_pixels) for b in blobs]
    except ImageDecodeError as exc:
        if len(blobs) != 1:
            raise ApiError(415, "unsupported_image", f"a still could not be read: {exc}") from exc
        cfg = SamplingConfig(every_s=max(0.05, every_s), max_frames=settings.max_video_frames,
                             max_seconds=settings.max_video_seconds)
        try:  # its declared length was checked before the request's clock started (`frames`)
            return sample_frames(blobs[0], cfg)
        except VideoDecodeError as vexc:
            raise ApiError(415, "unsupported_media", f"neither an image nor a readable video: {vexc}") from vexc
    return [Frame(k, float(k), rgb, sharpness(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))) for k, rgb in enumerate(rgbs)]


def _with_matches(eng: Engine, doc: dict, result) -> dict:
    """Registry matches for every per-frame marking of a video read."""
    for frame_doc, (_, reads) in zip(doc["frames"], result.frames):
        for m, r in zip(frame_doc["markings"], reads):
            m["matches"] = _matches(eng, r)
    return doc


def _lot_out(eng: Engine, m, with_sightings: bool) -> schemas.LotMatchOut:
    out = schemas.LotMatchOut(**m.to_json())
    if with_sightings:
        out.sightings = [schemas.SightingOut(**dataclasses.asdict(s)) for s in eng.registry.sightings(lot_id=m.lot.id)]
    return out


def _routes(app: FastAPI, settings: Settings) -> None:
    guarded = [Depends(api_key)]

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        """The upload page: drop photos, see each ring drawn with its read, candidates and matches."""
        return FileResponse(PAGE, media_type="text/html")

    @app.get("/healthz", tags=["service"])
    async def healthz() -> dict:
        return {"status": "ok"}

    @app.get("/readyz", tags=["service"], response_model=schemas.Ready,
             responses={503: {"model": schemas.Ready}})
    async def readyz(request: Request):
        eng = getattr(request.app.state, "engine", None)
        models = eng is not None
        registry = False
        if eng is not None:
            try:
                with eng.registry.engine.connect() as conn:
                    registry = conn.scalar(text("SELECT 1")) == 1
            except Exception:  # noqa: BLE001 - any store failure means not ready
                registry = False
        body = schemas.Ready(ready=models and registry, models=models, registry=registry)
        return JSONResponse(body.model_dump(), status_code=200 if body.ready else 503)

    @app.get("/v1/version", tags=["service"], response_model=schemas.VersionResponse, dependencies=guarded)
    async def version_info(eng: Engine = Depends(engine)) -> schemas.VersionResponse:
        nets = eng.reader.nets
        bundles = [schemas.BundleInfo(name=n.bundle.name, sha256=n.bundle.manifest["sha256"],
                                      training_command=n.bundle.manifest.get("training_command"),
                                      metrics=n.bundle.manifest.get("metrics")) for n in nets]
        return schemas.VersionResponse(version=_package_version(), device=settings.device,
                                       thorough=settings.thorough, bundles=bundles)

    @app.post("/v1/read", tags=["read"], response_model=schemas.ReadResponse, dependencies=guarded,
              responses={400: {"model": schemas.ErrorResponse}, 413: {"model": schemas.ErrorResponse}})
    async def read(files: list[UploadFile] = File(..., description="photos or video stills"),
                   eng: Engine = Depends(engine)) -> schemas.ReadResponse:
        """Every headstamp in each image, with n-best candidates and maker-code matches. A bad file gets its
        own error; the other files are still read."""
        if not files:
            raise ApiError(400, "no_files", "upload at least one image as multipart field 'files'")
        if len(files) > settings.max_images:
            raise ApiError(413, "too_many_images", f"at most {settings.max_images} images per request")
        blobs = [(f.filename or f"file{k}", await _read_upload(f, settings.max_upload_bytes))
                 for k, f in enumerate(files)]
        deadline = time.monotonic() + settings.request_timeout_s
        results = await asyncio.gather(*[_read_one(eng, name, data, deadline) for name, data in blobs])
        return schemas.ReadResponse(images=list(results))

    @app.post("/v1/frames", tags=["read"], response_model=schemas.FramesResponse, dependencies=guarded,
              responses={400: {"model": schemas.ErrorResponse}, 413: {"model": schemas.ErrorResponse},
                         415: {"model": schemas.ErrorResponse}})
    async def frames(files: list[UploadFile] = File(..., description="video stills in time order, or one video"),
                     every_s: float = 0.5, eng: Engine = Depends(engine)) -> schemas.FramesResponse:
        """Per-frame reads and, for each marking tracked across the frames, one fused read with its evidence."""
        if len(files) > settings.max_images:
            raise ApiError(413, "too_many_images", f"at most {settings.max_images} stills per request")
        blobs = [await _read_upload(f, settings.max_request_bytes) for f in files]
        if len(blobs) == 1 and blobs[0]:
            _refuse_long_video(blobs[0], settings)  # before the clock starts: too long is the answer, not too late
        deadline = time.monotonic() + settings.request_timeout_s
        try:
            frames = await _in_time(deadline, _frames_of, blobs, every_s, settings)
            result = await _in_time(deadline, VideoReader(eng.reader).read_frames, frames, deadline=deadline)
        except TimeoutError as exc:
            raise ApiError(503, "timeout", f"the frames were not read within {settings.request_timeout_s} s; "
                           "send fewer stills or a shorter video, or use `marktrace video`") from exc
        return schemas.FramesResponse(**_with_matches(eng, result.to_json(), result))

    @app.post("/v1/match", tags=["match"], response_model=schemas.MatchResponse, dependencies=guarded,
              responses={400: {"model": schemas.ErrorResponse}})
    async def match(req: schemas.MatchRequest, eng: Engine = Depends(engine)) -> schemas.MatchResponse:
        """Ranked registry lots for a typed lot or candidate reads; maker codes for headstamp segments."""
        if not (req.query or req.candidates or req.headstamp):
            raise ApiError(400, "empty_query", "give query, candidates or headstamp")
        out = schemas.MatchResponse()
        if req.query:
            found = await run_in_threadpool(eng.lots.search, req.query, top=req.top)
            out.lots = [_lot_out(eng, m, True) for m in found]
        elif req.candidates:
            cands = [ReadCandidate(c.text, c.score, tuple(c.char_probs) if c.char_probs else None)
                     for c in req.candidates]
            found = await run_in_threadpool(eng.lots.match, cands, circled=req.circled_factory, top=req.top)
            out.lots = [_lot_out(eng, m, True) for m in found]
        if req.headstamp:
            cands = [SegmentsCandidate(tuple(c.segments), c.score) for c in req.headstamp]
            out.headstamps = [schemas.HeadstampMatchOut(**m.to_json())
                              for m in eng.headstamps.match(cands, top=req.top)]
        return out

    @app.post("/v1/lots", tags=["registry"], response_model=schemas.ImportResult, dependencies=guarded)
    async def add_lots(rows: list[schemas.LotIn], eng: Engine = Depends(engine)) -> schemas.ImportResult:
        """Add lots; each bad or duplicate row is reported by its 1-based position and the rest are kept."""
        report = await run_in_threadpool(eng.registry.import_rows,
                                         [(k, r.model_dump()) for k, r in enumerate(rows, start=1)])
        return schemas.ImportResult(added=report.added, errors=[schemas.RowErrorOut(row=e.row, message=e.message)
                                                                for e in report.errors])

    @app.get("/v1/lots/{lot_id}/sightings", tags=["registry"], response_model=list[schemas.SightingOut],
             dependencies=guarded, responses={404: {"model": schemas.ErrorResponse}})
    async def lot_sightings(lot_id: int = FastPath(ge=1, le=schemas.DB_INT_MAX),
                            eng: Engine = Depends(engine)) -> list[schemas.SightingOut]:
        """The chain of custody: a lot's sightings in time order."""
        if not eng.registry.lots_by_ids([lot_id]):
            raise ApiError(404, "no_such_lot", f"no lot {lot_id}")
        return [schemas.SightingOut(**dataclasses.asdict(s)) for s in eng.registry.sightings(lot_id=lot_id)]

    @app.post("/v1/sightings", tags=["registry"], response_model=schemas.SightingCreated, dependencies=guarded,
              responses={404: {"model": schemas.ErrorResponse}})
    async def add_sighting(s: schemas.SightingIn, eng: Engine = Depends(engine)) -> schemas.SightingCreated:
        if s.lot_id is not None and not eng.registry.lots_by_ids([s.lot_id]):
            raise ApiError(404, "no_such_lot", f"no lot {s.lot_id}")
        new_id = await run_in_threadpool(lambda: eng.registry.add_sighting(**s.model_dump()))
        return schemas.SightingCreated(id=new_id)
