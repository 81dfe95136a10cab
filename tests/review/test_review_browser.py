"""Done-when of the review page, in a real headless Chromium (the distribution's package,
driven by Playwright; no browser download): every take's <video> loads its metadata with
the right duration, a click on "pick" changes the lock file and the assembled edit, a
reroll asks with its cost and the new take appears (live update), a POST without the
token is refused (403), media not named by the journal is 404, and a screenshot of the
page is kept."""

from __future__ import annotations

import hashlib
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from storyboard.lock import lock_path, read_lock
from storyboard.review import ReviewServer, ReviewService
from storyboard.run.backend import choose_backend
from storyboard.run.render import render

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BOARD = """\
storyboard: 1
title: Review test
defaults: {mode: std, aspect_ratio: "16:9", sound: false, takes: 2}
scenes:
  - id: a
    first_frame: refs/room.png
    shots: [{prompt: "a cat wakes up on the sofa", duration: 3}]
  - id: b
    first_frame: {from: a}
    shots: [{prompt: "the cat stretches and yawns", duration: 3, camera: slow push in}]
  - id: c
    first_frame: refs/harbour.png
    shots: [{prompt: "boats rock in the harbour at dawn", duration: 4}]
output: out/review.mp4
"""


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReviewServer]:
    folder = tmp_path_factory.mktemp("review")
    shutil.copytree(EXAMPLES / "refs", folder / "refs")
    path = folder / "film.yaml"
    path.write_text(BOARD, encoding="utf-8")
    outcome = render(path, backend=choose_backend("offline"))
    assert outcome.ok and len(outcome.result.submitted) == 6
    service = ReviewService(path, choose_backend("offline"))
    with ReviewServer(service, port=0, poll=0.1) as server:
        yield server


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_actions_need_the_token_and_media_must_be_journaled(served: ReviewServer) -> None:
    base, token = served.base_url, served.token
    lock = lock_path(served.service.path)
    before = lock.read_bytes() if lock.exists() else None
    with httpx.Client(base_url=base, timeout=10) as client:
        assert client.post("/api/pick", json={"scene": "c", "take": 2}).status_code == 403
        wrong = {"x-storyboard-token": "not-the-token"}
        assert (
            client.post("/api/pick", json={"scene": "c", "take": 2}, headers=wrong).status_code
            == 403
        )
        # the token in a cookie or the query is not enough for an action
        with httpx.Client(base_url=base, cookies={"storyboard_review": token}) as cookied:
            refused = cookied.post(f"/api/pick?token={token}", json={"scene": "c", "take": 2})
            assert refused.status_code == 403
        assert client.get("/").status_code == 403
        assert client.get("/api/pick", params={"token": token}).status_code == 405
        for media in ("clip-" + "0" * 64, "first-" + "0" * 64, "..%2Ffilm.yaml", "state.sqlite"):
            assert client.get(f"/media/{media}", params={"token": token}).status_code == 404
        page = client.get("/", params={"token": token})
        assert page.status_code == 200 and "storyboard_review" in page.headers["set-cookie"]
        clip = page.text.split('src="/media/clip-', 1)[1].split('"', 1)[0]
        ranged = client.get(
            f"/media/clip-{clip}", params={"token": token}, headers={"Range": "bytes=0-99"}
        )
        assert ranged.status_code == 206 and len(ranged.content) == 100
        assert ranged.headers["content-range"].startswith("bytes 0-99/")
    assert (lock.read_bytes() if lock.exists() else None) == before  # nothing was picked


def test_pick_in_the_browser_changes_the_lock_and_the_edit(
    served: ReviewServer, tmp_path: Path
) -> None:
    binary = chromium()
    if binary is None:
        pytest.skip("no chromium on PATH (apt-get install chromium); the browser test needs it")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    path = served.service.path
    edit = path.parent / "out" / "review.mp4"
    edit_before, lock_file = sha(edit), lock_path(path)
    with sync_api.sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=binary, headless=True, args=["--no-sandbox", "--mute-audio"]
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(served.url)
            assert page.locator("video.take-video").count() == 6
            page.wait_for_function(
                """() => [...document.querySelectorAll('video.take-video')].every(v =>
                    v.readyState >= 1 && Math.abs(v.duration - Number(v.dataset.duration)) < 0.05)""",
                timeout=30_000,
            )
            durations = page.eval_on_selector_all(
                "video.take-video", "vs => vs.map(v => Math.round(v.duration * 100) / 100)"
            )
            assert durations == [3.0, 3.0, 3.0, 3.0, 4.0, 4.0]
            assert page.locator("#scene-c figure.picked").get_attribute("data-take") == "1"
            old_src = page.get_attribute("#edit-video", "src")
            page.click('button[data-action="pick"][data-scene="c"][data-take="2"]')
            page.wait_for_selector('#scene-c figure.picked[data-take="2"]', timeout=30_000)
            page.wait_for_function(
                "old => document.querySelector('#edit-video').getAttribute('src') !== old",
                arg=old_src,
                timeout=30_000,
            )
            page.wait_for_function(
                "() => { const v = document.querySelector('#edit-video');"
                " return v.readyState >= 1 && Math.abs(v.duration - 10) < 0.1; }",
                timeout=30_000,
            )
            assert "re-assembled" in page.inner_text("#message")

            dialogs: list[str] = []

            def accept(dialog: Any) -> None:
                dialogs.append(dialog.message)
                dialog.accept()

            page.on("dialog", accept)
            page.click('button[data-action="reroll"][data-scene="c"]')
            page.wait_for_selector(
                '#scene-c figure[data-take="3"] video.take-video', timeout=60_000
            )
            assert dialogs and dialogs[0].startswith("Generate c#3?") and "free here" in dialogs[0]
            time.sleep(0.3)  # let the frames of the new state load for the picture
            shot = tmp_path / "review-page.png"
            page.screenshot(path=str(shot), full_page=True)
            print(f"review page screenshot: {shot}")
        finally:
            browser.close()
    lock = read_lock(path)
    assert lock_file.is_file() and lock.picks() == {"a": 1, "b": 1, "c": 2}  # reroll: no pick
    assert sha(edit) != edit_before
    assert shot.stat().st_size > 10_000
