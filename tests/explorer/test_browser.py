"""The explorer in a real browser (Debian's Chromium, driven by Playwright) against a real
`kg serve` with ingested fixture repositories: what a user sees and clicks, read from the
page's DOM and its graph model, not only from pixels."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree

import pytest

from tests.fixtures.gitrepo import make_repo
from tests.fixtures.renku import described_project
from tests.fixtures.servers import KgServer, kg_ingest
from tests.test_lineage import RAW, datalad, pipeline

FAN = 500  # inputs of one run: the view must stay usable at this size


@pytest.fixture(scope="module")
def kg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KgServer]:
    root = tmp_path_factory.mktemp("explorer-browser")
    data = root / "kg"
    demo = make_repo(root / "demo")
    pipeline(demo)
    kg_ingest(data, demo.path, "lab/rain-demo")
    wide = make_repo(root / "wide")
    inputs = [f"in/part-{i:03}.csv" for i in range(FAN)]
    wide.commit({path: f"{path}\n" for path in inputs}, "the parts")
    wide.commit({"out/all.csv": "all\n"}, datalad("python merge.py", inputs, ["out/all.csv"]))
    kg_ingest(data, wide.path, "lab/wide")
    reuse = make_repo(root / "reuse")  # reads rain-demo's raw data (same content): lineage crosses over
    reuse.commit({"in/raw.csv": RAW}, "copy the raw data")
    reuse.commit({"out/summary.txt": "sum\n"}, datalad("python use.py", ["in/raw.csv"], ["out/summary.txt"]))
    kg_ingest(data, reuse.path, "lab/reuse")
    described = make_repo(root / "described")  # Renku metadata: a project by Ada, a dataset by three
    for files in described_project():
        described.commit(files, "renku")
    kg_ingest(data, described.path, "lab/described")
    server = KgServer(data)
    yield server
    server.stop()


def open_lineage(page: Any, kg: KgServer, project: str, file: str, **more: str) -> dict[str, Any]:
    query = "&".join(f"{k}={quote(v)}" for k, v in {"project": project, "file": file, **more}.items())
    page.goto(f"{kg.url}/explore/lineage?{query}")
    page.wait_for_selector("#lineage-picture[data-ready]")
    return page.evaluate("window.kgExplorer.lineage")


def wait_until(page: Any, condition: str, timeout: float = 30.0) -> None:
    """Poll a JavaScript condition (Playwright's wait_for_function evaluates strings with
    eval, which the pages' Content-Security-Policy rightly forbids)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(f"() => Boolean({condition})"):
        if time.monotonic() > deadline:
            raise AssertionError(f"never true: {condition}")
        page.wait_for_timeout(50)


def plain(label: str) -> str:
    return label.split("@")[0]  # files carry @commit


def test_search_finds_a_project_as_you_type(page: Any, kg: KgServer, console_errors: list[str]) -> None:
    page.goto(kg.url + "/")
    page.locator(".hit-project a", has_text="wide").wait_for()  # an empty box lists everything
    page.fill("#search-box", "rain-d")
    wait_until(page, "location.search.includes('q=rain-d')")  # the search is a link
    hit = page.locator(".hit-project a", has_text="rain-demo")
    hit.wait_for()
    page.locator(".hit-project a", has_text="wide").wait_for(state="detached")
    assert page.locator("fieldset.facet legend", has_text="Type").count() == 1
    hit.click()
    page.wait_for_selector("h1:has-text('rain-demo')")
    assert page.url.endswith("/explore/projects/lab/rain-demo")
    page.locator(".files .path", has_text="figures/plot.png").wait_for()
    assert console_errors == []


def test_lineage_shows_exactly_the_expected_graph(page: Any, kg: KgServer, console_errors: list[str]) -> None:
    model = open_lineage(page, kg, "lab/rain-demo", "figures/plot.png")
    labels = {n["id"]: plain(n["label"]) for n in model["nodes"]}
    assert sorted(labels.values()) == sorted(
        [
            "raw/data.csv",
            "src/clean.py",
            "python src/clean.py",
            "data/clean.csv",
            "python src/plot.py",
            "figures/plot.png",
            "make report",
            "report.pdf",
        ]
    )
    edges = {(labels[e["source"]], labels[e["target"]]) for e in model["edges"]}
    assert edges == {
        ("raw/data.csv", "python src/clean.py"),
        ("src/clean.py", "python src/clean.py"),
        ("python src/clean.py", "data/clean.csv"),
        ("data/clean.csv", "python src/plot.py"),
        ("python src/plot.py", "figures/plot.png"),
        ("figures/plot.png", "make report"),
        ("make report", "report.pdf"),
    }
    assert labels[model["start"]] == "figures/plot.png"
    assert len(model["shown"]["nodes"]) == 8  # nothing folded at this size
    listed = page.locator("#lineage-nodes li").all_inner_texts()
    for label in labels.values():
        assert any(label in item for item in listed), label
    assert page.locator("#lineage-edges li").count() == 7
    assert console_errors == []


def test_depth_and_direction_change_the_graph(page: Any, kg: KgServer) -> None:
    everything = open_lineage(page, kg, "lab/rain-demo", "figures/plot.png", direction="upstream")
    assert len(everything["nodes"]) == 6
    page.select_option("#depth", "1")
    wait_until(page, "window.kgExplorer.lineage && window.kgExplorer.lineage.depth === '1'")
    page.wait_for_selector("#lineage-picture[data-ready]")
    shallow = page.evaluate("window.kgExplorer.lineage")
    assert "depth=1" in page.url and "direction=upstream" in page.url
    assert sorted(plain(n["label"]) for n in shallow["nodes"]) == [
        "data/clean.csv",
        "figures/plot.png",
        "python src/plot.py",
    ]
    assert len(shallow["nodes"]) < len(everything["nodes"])
    page.reload()  # the deep link survives a reload
    page.wait_for_selector("#lineage-picture[data-ready]")
    assert len(page.evaluate("window.kgExplorer.lineage")["nodes"]) == 3
    assert page.locator("#depth").input_value() == "1"
    downstream = open_lineage(page, kg, "lab/rain-demo", "data/clean.csv", direction="downstream")
    assert sorted(plain(n["label"]) for n in downstream["nodes"]) == [
        "data/clean.csv",
        "figures/plot.png",
        "make report",
        "python src/plot.py",
        "report.pdf",
    ]


def test_clicking_a_listed_file_recentres(page: Any, kg: KgServer) -> None:
    open_lineage(page, kg, "lab/rain-demo", "figures/plot.png")
    page.locator("#lineage-nodes button", has_text="raw/data.csv").click()
    wait_until(page, "window.kgExplorer.lineage && window.kgExplorer.lineage.file === 'raw/data.csv'")
    assert "file=raw%2Fdata.csv" in page.url or "file=raw/data.csv" in page.url


def test_svg_export_downloads_a_valid_svg(page: Any, kg: KgServer, tmp_path: Path) -> None:
    model = open_lineage(page, kg, "lab/rain-demo", "figures/plot.png")
    with page.expect_download() as download:
        page.click("#export-svg")
    saved = tmp_path / "lineage.svg"
    download.value.save_as(saved)
    assert download.value.suggested_filename.endswith(".svg")
    root = ElementTree.parse(saved).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    titles = {t.text for t in root.iter("{http://www.w3.org/2000/svg}title")}
    assert titles == {n["label"] for n in model["nodes"]}
    with page.expect_download() as png:
        page.click("#export-png")
    assert png.value.suggested_filename.endswith(".png")
    png.value.save_as(tmp_path / "lineage.png")
    assert (tmp_path / "lineage.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_a_500_input_fan_out_is_folded_and_every_label_stays_in_the_page(
    page: Any, kg: KgServer, console_errors: list[str]
) -> None:
    model = open_lineage(page, kg, "lab/wide", "out/all.csv", direction="upstream")
    assert len(model["nodes"]) == FAN + 2
    assert len(model["shown"]["nodes"]) == 3  # the output, the run, one folded group
    assert len(model["shown"]["clusters"]) == 1
    listed = "\n".join(page.locator("#lineage-nodes li").all_inner_texts())
    for i in range(FAN):
        assert f"in/part-{i:03}.csv" in listed
    page.click("button.unfold")
    wait_until(page, f"window.kgExplorer.lineage.shown.nodes.length === {FAN + 2}")
    page.wait_for_selector("#lineage-picture[data-ready]")
    assert console_errors == []


def test_phone_width_keeps_the_lineage_usable(phone_page: Any, kg: KgServer) -> None:
    page = phone_page
    open_lineage(page, kg, "lab/rain-demo", "figures/plot.png")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # nothing pushes the page sideways
    assert page.locator("#export-svg").is_visible()
    assert page.locator("#lineage-nodes").is_visible() or page.locator("#lineage-nodes").count() == 1


def test_keyboard_reaches_search_results(page: Any, kg: KgServer) -> None:
    page.goto(kg.url + "/explore/search?q=wide")
    page.locator(".hit-project a", has_text="wide").wait_for()
    assert page.evaluate("document.activeElement.id") == "search-box"
    for _ in range(30):  # past the facets to the first result, by keyboard alone
        page.keyboard.press("Tab")
        if page.evaluate("Boolean(document.activeElement.closest('.hit'))"):
            break
    assert page.evaluate("document.activeElement.textContent") == "wide"
    labels = page.evaluate(
        "[...document.querySelectorAll('input, select')].filter(e => e.type !== 'hidden' && e.type !== 'checkbox' || e.id)"
        ".map(e => !!(e.labels && e.labels.length) || !!e.getAttribute('aria-label'))"
    )
    assert labels and all(labels)
    page.keyboard.press("Enter")
    page.wait_for_selector("h1:has-text('wide')")


def test_sparql_page_runs_a_query_into_a_table(page: Any, kg: KgServer) -> None:
    page.goto(kg.url + "/explore/sparql")
    page.wait_for_selector(".cm-editor")
    assert page.locator(".cm-editor .cm-content").get_attribute("aria-labelledby") == "editor-label"
    page.click("#run-query")
    page.wait_for_selector("table.data tbody tr")
    names = page.locator("table.data tbody td").all_inner_texts()
    assert "rain-demo" in names and "wide" in names
    page.select_option("#examples", "project_files")
    wait_until(page, "window.kgExplorer.sparqlEditor.state.doc.toString().includes('prov:atLocation')")
    with page.expect_download() as download:
        page.click("text=Download CSV")
    path = download.value.path()
    assert Path(path).read_text().splitlines()[0].startswith("path")


def test_hovering_a_run_shows_its_details(page: Any, kg: KgServer) -> None:
    model = open_lineage(page, kg, "lab/rain-demo", "figures/plot.png")
    run = next(n for n in model["nodes"] if n["label"] == "python src/plot.py")
    box = page.locator("#lineage-picture").bounding_box()
    at = page.evaluate(
        f"window.kgExplorer.picture.getElementById({json.dumps(run['id'])}).renderedPosition()"
    )
    page.mouse.move(box["x"] + at["x"], box["y"] + at["y"])
    tip = page.locator(".tip")
    tip.wait_for(state="visible")
    text = tip.inner_text()
    assert "Command" in text and "python src/plot.py" in text
    page.mouse.move(box["x"] + 2, box["y"] + 2)
    tip.wait_for(state="hidden")


def test_other_projects_nodes_are_marked_and_lead_there(page: Any, kg: KgServer) -> None:
    model = open_lineage(page, kg, "lab/rain-demo", "raw/data.csv", direction="downstream")
    elsewhere = {plain(n["label"]): n for n in model["nodes"] if n.get("project")}
    assert set(elsewhere) == {"in/raw.csv", "python use.py", "out/summary.txt"}
    assert {n["project"] for n in elsewhere.values()} == {"lab/reuse"}
    marked = page.evaluate("window.kgExplorer.picture.nodes('.elsewhere').map(n => n.id())")
    assert sorted(marked) == sorted(n["id"] for n in elsewhere.values())  # drawn dashed
    page.locator("#lineage-nodes button", has_text="out/summary.txt").click()
    wait_until(page, "window.kgExplorer.lineage && window.kgExplorer.lineage.project === 'lab/reuse'")
    assert page.evaluate("window.kgExplorer.lineage.file") == "out/summary.txt"


def test_creator_facet_narrows_and_a_dataset_page_tells_its_story(
    page: Any, kg: KgServer, console_errors: list[str]
) -> None:
    page.goto(kg.url + "/explore/search?q=snow")
    bob = page.get_by_label("Bob Berg (1)")
    bob.wait_for()
    assert page.locator("fieldset.facet legend", has_text="Creator").count() == 1
    bob.check()
    wait_until(page, "location.search.includes('creator=Bob+Berg')")
    page.locator("#result-count", has_text="1 result").wait_for()
    dataset = page.locator(".hit-dataset a").first
    assert dataset.inner_text() == "Snow"
    dataset.click()
    page.wait_for_selector("h1:has-text('Snow')")
    facts = page.locator("dl.facts").inner_text()
    for name in ("Zoe Zimmer", "Bob Berg", "Carla Ander"):
        assert name in facts
    page.locator("#versions-title").wait_for()
    assert page.locator("text=Initial version").count() == 1
    used = page.locator("section[aria-labelledby='used-title'] a").all_inner_texts()
    assert used == ["lab/described"]
    assert console_errors == []
