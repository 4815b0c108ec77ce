"""pytest setup: headless matplotlib; notebooks are compared on their results, not on stderr."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_collectstart(collector):
    # TensorFlow may write C++ log lines to stderr at unpredictable times; compare stdout and
    # results only (the committed notebooks hold no stderr at all).
    if collector.fspath and collector.fspath.ext == ".ipynb":
        collector.skip_compare += ("stderr",)
