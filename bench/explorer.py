"""Explorer benchmark: how long the lineage view takes in a real browser, against the raw
lineage JSON it draws, on fan-outs of 10 to 500 inputs (one run reading them all).

For each size: the median over `--runs` page loads of (a) fetching the lineage JSON alone
(the baseline: what any client pays), (b) the page ready with large fan-outs folded (what a
user sees first), (c) every node unfolded (a hundred per click, as a user would) and laid out, and (d) exporting the SVG. Debian's
Chromium, driven by Playwright, against `kg serve` on 127.0.0.1.

    python bench/explorer.py [--runs 5] [--sizes 10,100,500]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fixtures.browser import ARGS, CHROMIUM  # noqa: E402
from tests.fixtures.gitrepo import make_repo  # noqa: E402
from tests.fixtures.servers import KgServer, kg_ingest  # noqa: E402
from tests.test_lineage import datalad  # noqa: E402


def fan_project(root: Path, data: Path, size: int) -> str:
    repo = make_repo(root / f"fan{size}")
    inputs = [f"in/part-{i:04}.csv" for i in range(size)]
    # contents unique to the project: shared content would join the projects' lineages
    repo.commit({path: f"{size} {path}\n" for path in inputs}, "parts")
    repo.commit({"out/all.csv": f"all of {size}\n"}, datalad("python merge.py", inputs, ["out/all.csv"]))
    slug = f"bench/fan{size}"
    kg_ingest(data, repo.path, slug)
    return slug


def wait(page: object, condition: str) -> None:
    while not page.evaluate(f"() => Boolean({condition})"):  # type: ignore[attr-defined]
        page.wait_for_timeout(5)  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", default="10,100,500")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="kg-bench-explorer-") as tmp:
        root = Path(tmp)
        data = root / "kg"
        slugs = {size: fan_project(root, data, size) for size in sizes}
        server = KgServer(data, {"KG_WORKER_ENABLED": "false"})
        try:
            with sync_playwright() as p, httpx.Client(base_url=server.url, timeout=60) as http:
                browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
                print(
                    f"{'inputs':>7} {'JSON (s)':>9} {'folded (s)':>11} {'unfolded (s)':>13} {'SVG (s)':>8} {'folded/JSON':>12}"
                )
                for size, slug in slugs.items():
                    api = f"/knowledge-graph/projects/{slug}/files/out%2Fall.csv/lineage?direction=upstream"
                    json_times, folded, unfolded, svg = [], [], [], []
                    for _ in range(args.runs):
                        start = time.perf_counter()
                        answer = http.get(api)
                        assert answer.status_code == 200, (answer.status_code, answer.text[:300])
                        json_times.append(time.perf_counter() - start)
                        page = browser.new_page(
                            viewport={"width": 1280, "height": 800}, accept_downloads=True
                        )
                        start = time.perf_counter()
                        page.goto(
                            f"{server.url}/explore/lineage?project={slug}&file=out/all.csv&direction=upstream"
                        )
                        wait(page, "document.querySelector('#lineage-picture[data-ready]')")
                        folded.append(time.perf_counter() - start)
                        if page.locator("button.unfold").count():
                            start = time.perf_counter()
                            while page.locator("button.unfold").count():  # 100 at a time
                                page.click("button.unfold", timeout=600_000)
                            wait(page, f"window.kgExplorer.lineage.shown.nodes.length === {size + 2}")
                            unfolded.append(time.perf_counter() - start)
                        start = time.perf_counter()
                        with page.expect_download() as download:
                            page.click("#export-svg")
                        download.value.path()
                        svg.append(time.perf_counter() - start)
                        page.close()
                    j, f = statistics.median(json_times), statistics.median(folded)
                    u = f"{statistics.median(unfolded):.3f}" if unfolded else "(none)"
                    print(
                        f"{size:>7} {j:>9.3f} {f:>11.3f} {u:>13} {statistics.median(svg):>8.3f} {f / j:>12.1f}"
                    )
                browser.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
