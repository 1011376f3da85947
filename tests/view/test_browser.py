"""The view in real Chromium against a real broker carrying the demo's streams.

Each test opens a page as a person would, waits (bounded) for what must appear, and checks it
keeps changing while the streams run. Screenshots of each view go to docs/images/.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from ._streams import XSS, Streams
from .conftest import IMAGES, ViewServer

WAIT_MS = 45_000

#: The plots each stream's page must show (``data-plot`` of each card).
PLOTS = {
    "pointing": ["pointing-offsets", "beam-widths", "offset-history", "offset-heatmap"],
    "table": ["pointing-offsets", "beam-widths", "offset-history", "offset-heatmap"],
    "spectrum": ["spectrum", "waterfall"],
    "amplitude": ["baseline-lines", "baseline-heatmap"],
    "line": ["line"],
    "grid": ["heatmap"],
    "json": ["text"],
    "text": ["text"],
}

# What a card looks like now: its canvases' pixels, or its text for a text card.
CARD_PICTURE = """(card) => {
  const canvases = [...card.querySelectorAll('canvas')];
  if (canvases.length) return canvases.map((c) => c.toDataURL()).join('|');
  return card.querySelector('pre') ? card.querySelector('pre').textContent : '';
}"""


def _watch(page: Any) -> tuple[list[str], list[str]]:
    """Collect dialogs (an XSS would open one) and script errors on ``page``."""
    dialogs: list[str] = []
    errors: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    return dialogs, errors


def _until(check: Callable[[], bool], what: str, timeout_s: float = WAIT_MS / 1000) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    raise AssertionError(f"not within {timeout_s:g} s: {what}")


def test_overview_lists_every_topic_and_updates_live(
    page: Any, view_server: ViewServer, streams: Streams
) -> None:
    dialogs, errors = _watch(page)
    page.goto(view_server.url)
    for kind in streams.kinds:
        page.wait_for_selector(f'tr[data-topic="{streams.topic(kind)}"]', timeout=WAIT_MS)
    row = page.locator(f'tr[data-topic="{streams.topic("pointing")}"]')
    cells = row.locator("td")
    assert cells.nth(1).text_content() == "1"  # partitions
    assert cells.nth(6).text_content() == "msgpack_numpy"
    assert "StructuredArray[PointingNumpyArray]" in (cells.nth(7).text_content() or "")
    spectrum = page.locator(f'tr[data-topic="{streams.topic("spectrum")}"] td')
    assert "MetricPayload" in (spectrum.nth(7).text_content() or "")
    seen = int(cells.nth(4).text_content() or "0")
    # Live: the counts grow with no reload, and the rates are measured (the streams run).
    _until(lambda: int(cells.nth(4).text_content() or "0") > seen + 2, "the count grows")
    _until(lambda: float(cells.nth(2).text_content() or "0") > 0, "msg/s is above 0")
    assert page.evaluate("window.dqView.updates") >= 2
    page.screenshot(path=str(IMAGES / "view-overview.png"), full_page=True)
    assert not dialogs
    assert not errors


@pytest.mark.parametrize("kind", list(PLOTS))
def test_each_plot_appears_and_updates(
    kind: str, page: Any, view_server: ViewServer, streams: Streams
) -> None:
    dialogs, errors = _watch(page)
    page.goto(f"{view_server.url}topic/{streams.topic(kind)}")
    before = {}
    for plot in PLOTS[kind]:
        card = page.wait_for_selector(
            f'.card[data-plot="{plot}"]:not([data-updates="0"])', timeout=WAIT_MS
        )
        before[plot] = (int(card.get_attribute("data-updates")), card.evaluate(CARD_PICTURE))
    for plot, (updates, picture) in before.items():
        card = page.locator(f'.card[data-plot="{plot}"]')

        def changed(card: Any = card, updates: int = updates, picture: str = picture) -> bool:
            now = int(card.get_attribute("data-updates") or "0")
            return now >= updates + 2 and card.evaluate(CARD_PICTURE) != picture

        _until(changed, f"{kind}: {plot} redraws with new data")
    if kind == "table":
        # Every time of every table is a point in time: 4 a message, none lost.
        rows = page.evaluate("window.dqView.rows")
        assert rows >= 8 and rows % 4 == 0, rows
    # The latest messages are listed with their headers.
    assert page.locator("#messages tbody tr").count() >= 1
    assert "dq-encoding" in (page.locator("#messages tbody tr").first.text_content() or "")
    page.screenshot(path=str(IMAGES / f"view-{kind}.png"))
    assert not dialogs
    assert not errors


def test_kafka_strings_are_shown_as_text_and_run_nothing(
    page: Any, view_server: ViewServer, streams: Streams
) -> None:
    dialogs, errors = _watch(page)
    page.goto(f"{view_server.url}topic/{streams.topic('xss')}")
    row = page.wait_for_selector("#messages tbody tr", timeout=WAIT_MS)
    page.wait_for_selector('.card[data-plot="text"]:not([data-updates="0"])', timeout=WAIT_MS)
    cells = row.query_selector_all("td")
    assert cells[3].text_content() == XSS  # the key
    assert f"note: {XSS}" in (cells[4].text_content() or "")  # a header
    assert cells[6].text_content() == XSS  # the value's summary
    assert page.locator('.card[data-plot="text"] pre').text_content() == XSS
    # Shown as text: no element was made from it, and nothing ran.
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    assert page.evaluate("document.body.innerHTML.includes('<img')") is False
    page.goto(view_server.url)
    page.wait_for_selector(f'tr[data-topic="{streams.topic("xss")}"]', timeout=WAIT_MS)
    page.goto(f"{view_server.url}topic/{streams.topic('xss')}")
    page.wait_for_selector("#messages tbody tr", timeout=WAIT_MS)
    page.wait_for_timeout(1000)
    page.screenshot(path=str(IMAGES / "view-xss.png"), full_page=True)
    assert dialogs == []
    assert not errors
