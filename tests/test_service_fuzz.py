"""Schemathesis against the running service's OpenAPI schema (real HTTP, bounded examples): whatever it sends,
every answer is a 2xx or 4xx, never a 500; afterwards the service still reads a rendered head correctly."""

import io

import httpx
import numpy as np
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from PIL import Image
from schemathesis.checks import not_a_server_error

from datasets.scenes import render_crop
from serve.settings import Settings
from tests.test_service import _serve

KEY = {"X-API-Key": "fuzz"}


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    server, thread, url = _serve(Settings(data_dir=tmp_path_factory.mktemp("fuzz"), api_keys=["fuzz"],
                                          max_images=3, request_timeout_s=30))
    yield url
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def api_schema(live):
    return schemathesis.openapi.from_url(f"{live}/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case, live):
    case.call_and_validate(base_url=live, headers=KEY, checks=[not_a_server_error])


def test_still_reads_after_the_fuzzing(live):
    rng = np.random.default_rng(3)
    buf = io.BytesIO()
    Image.fromarray(render_crop(rng, level="clean", size_px=224).rgb).save(buf, format="PNG")
    r = httpx.post(f"{live}/v1/read", headers=KEY, files=[("files", ("a.png", buf.getvalue(), "image/png"))],
                   timeout=60)
    assert r.status_code == 200 and len(r.json()["images"][0]["markings"]) >= 1
