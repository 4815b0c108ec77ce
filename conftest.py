"""pytest setup: quiet TensorFlow, run notebooks in quick (CI-sized) mode, skip stderr diffs."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("SR_LIB_QUICK", "1")  # notebooks read this switch (sr_lib.notebook)
os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_collectstart(collector):
    # TensorFlow writes C++ logs to stderr at unpredictable times; compare stdout and results only.
    if collector.fspath and collector.fspath.ext == ".ipynb":
        collector.skip_compare += ("stderr",)
