"""Work the notebooks' widgets in a real frontend: JupyterLab in headless Chromium.

    python scripts/widget_check.py [--out DIR]

Needs ``pip install playwright`` and a Chromium (Debian: ``apt-get install chromium``); not part
of CI. A clone of this repository (the working tree's notebooks copied in, so nothing is saved
into the repository) is served by JupyterLab on a free port; each notebook with a widget is
opened, run with Run All Cells, and its widget worked: two steps of 02's latent-seed slider and
of 04's first slider, 05's model toggle and its Run Interact button. A notebook passes when no
cell printed to stderr and the widget's image changed. Screenshots of each widget before and
after go to ``--out``.
"""

import argparse
import hashlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = {"02_cppn.ipynb": "slider", "04_local_cppn_sr.ipynb": "slider",
             "05_photos.ipynb": "button"}


def images(page):
    srcs = page.eval_on_selector_all(".widget-interact img", "els => els.map(e => e.src)")
    return [hashlib.sha1(s.encode()).hexdigest()[:10] for s in srcs]


def wait_idle(page, timeout):
    """Seconds until no cell shows the busy prompt ``[*]``."""
    start = time.time()
    time.sleep(3)
    while time.time() - start < timeout:
        busy = page.eval_on_selector_all(
            ".jp-InputArea-prompt", "els => els.filter(e => e.textContent.includes('*')).length")
        if not busy:
            return time.time() - start
        time.sleep(2)
    raise TimeoutError(f"cells still running after {timeout} s")


def check(page, url, name, kind, out):
    page.goto(url)
    page.wait_for_selector(".jp-Notebook", timeout=120_000)
    time.sleep(5)
    page.click("text=Run", timeout=30_000)
    page.click("text=Run All Cells", timeout=30_000)
    seconds = wait_idle(page, 900)
    def stderr():
        return page.eval_on_selector_all(
            ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']",
            "els => els.map(e => e.textContent.slice(0, 200))")

    if not page.locator(".widget-interact").count():  # Run All stops at a failing cell
        failed = page.eval_on_selector_all(
            ".jp-OutputArea-output", "els => els.map(e => e.textContent)"
            ".filter(t => t.includes('Error')).map(t => t.slice(0, 300))")
        print(f"{name}: Run All {seconds:.0f} s, no widget shown: FAIL {failed[-1:]}")
        return False
    box = page.locator(".widget-interact").first
    box.scroll_into_view_if_needed()
    box.screenshot(path=str(out / f"{name}_before.png"))
    before = images(page)
    if kind == "slider":
        page.locator(".widget-interact .noUi-handle").first.focus()
        for _ in range(2):
            page.keyboard.press("ArrowRight")
    else:
        page.locator(".widget-interact .widget-toggle-button", has_text="photo_clean").first.click()
        page.locator(".widget-interact button", has_text="Run Interact").first.click()
    wait_idle(page, 300)
    after = images(page)
    for _ in range(60):
        if after and after != before:
            break
        time.sleep(2)
        after = images(page)
    box.screenshot(path=str(out / f"{name}_after.png"))
    errors = stderr()  # any cell, the widget's callback included
    ok = not errors and bool(after) and after != before
    print(f"{name}: Run All {seconds:.0f} s, stderr {errors or 'none'}, widget image "
          f"{'changed' if after != before else 'UNCHANGED'}: {'pass' if ok else 'FAIL'}")
    return ok


def main(argv=None):
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "widget_check")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    clone = Path(tempfile.mkdtemp(prefix="sr_lib_widgets_")) / "repo"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    for name in NOTEBOOKS:
        shutil.copy(ROOT / "notebooks" / name, clone / "notebooks" / name)
    with socket.socket() as s:
        s.bind(("localhost", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}",
         "--ServerApp.token=check", f"--ServerApp.root_dir={clone}", "--allow-root"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(15)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"),
                                        args=["--no-sandbox"])
            results = []
            for name, kind in NOTEBOOKS.items():
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                url = f"http://localhost:{port}/lab/tree/notebooks/{name}?reset&token=check"
                results.append(check(page, url, name, kind, args.out))
                page.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(clone.parent, ignore_errors=True)
    print(f"screenshots in {args.out}")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
