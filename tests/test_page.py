"""The upload page in headless Chromium (Debian's chromium + chromium-driver, driven by selenium): upload a
rendered image, see its ring drawn and its read listed; search a documented lot and see its sightings."""

import shutil

import numpy as np
import pytest
from PIL import Image

from datasets.sampler import Segment
from datasets.scenes import render_crop
from serve.settings import Settings
from tests.test_service import _serve

CHROMEDRIVER = shutil.which("chromedriver")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(not (CHROMEDRIVER and CHROMIUM), reason="needs chromium and chromium-driver")


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def page_url(tmp_path_factory):
    server, thread, url = _serve(Settings(data_dir=tmp_path_factory.mktemp("page")))
    yield url
    server.should_exit = True
    thread.join(timeout=10)


def test_upload_draws_rings_and_lists_reads(browser, page_url, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    rng = np.random.default_rng(77)
    scene = render_crop(rng, level="clean", size_px=256, segments=[Segment("711", "711"), Segment("88", "88")])
    path = tmp_path / "case.png"
    Image.fromarray(scene.rgb).save(path)
    browser.get(page_url + "/")
    browser.find_element(By.ID, "files").send_keys(str(path))
    result = WebDriverWait(browser, 60).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".result")))
    assert result.get_attribute("data-file") == "case.png"
    canvas = result.find_element(By.TAG_NAME, "canvas")
    assert canvas.get_attribute("data-rings") == "1"
    assert int(canvas.get_attribute("width")) == 256
    # the ring is drawn in green where the head is: sample the canvas around the rim point (top, bottom, left or
    # right of the true rim) that lies deepest inside the image (tight crops clip the rim at the edge)
    rim = scene.heads[0].rim
    r = (rim.a_px + rim.b_px) / 2
    points = [(rim.cx, rim.cy - r), (rim.cx, rim.cy + r), (rim.cx - r, rim.cy), (rim.cx + r, rim.cy)]
    x, y = max(points, key=lambda q: min(q[0], q[1], 255 - q[0], 255 - q[1]))
    pixel = browser.execute_script(
        "const c = document.querySelector('.result canvas').getContext('2d');"
        "let best = 0; for (let dy = -5; dy <= 5; dy++) for (let dx = -5; dx <= 5; dx++) {"
        " const p = c.getImageData(arguments[0] + dx, arguments[1] + dy, 1, 1).data;"
        " best = Math.max(best, p[1] - Math.max(p[0], p[2])); } return best;", int(x), int(y))
    assert pixel > 100
    text = result.text
    assert "1 head(s)" in text and "candidates:" in text and "matches:" in text


def test_lot_search_shows_the_chain_of_custody(browser, page_url):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(page_url + "/")
    browser.find_element(By.ID, "lotq").send_keys("12-14-45I")
    browser.find_element(By.CSS_SELECTOR, "#lotform button").click()
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#lots .lot"))
    first = browser.find_elements(By.CSS_SELECTOR, "#lots .lot")[0]
    assert "12-14-451" in first.find_element(By.TAG_NAME, "h3").text
    rows = first.find_elements(By.CSS_SELECTOR, "table.sightings tr")
    assert "Al Bukamal" in rows[1].text and len(rows) == 5
