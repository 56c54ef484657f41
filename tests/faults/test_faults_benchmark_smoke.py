"""The benchmark harness runs end to end (``--quick``, tiny durations) and prints its ratios.

No timing is asserted: the numbers of a one-second run on a shared CI machine mean nothing. The full
benchmark is ``python benchmarks/run.py`` (results in benchmarks/README.md).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest
from _support import ROOT


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (apt-get install wrk)")
def test_quick_benchmark_prints_per_round_ratios_and_medians() -> None:
    done = subprocess.run([sys.executable, "benchmarks/run.py", "--quick", "--suites", "fastapi", "--rounds", "1",
                           "--duration", "1"], cwd=ROOT, capture_output=True, text=True, timeout=180, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    rounds = re.findall(r"round 1: req/s bare=(\d+)\s+vanilla=(\d+)\s+spotify=(\d+)\s+spotify-sampled=(\d+)", output)
    assert rounds and all(int(rps) > 0 for rps in rounds[0]), output
    for pair in ("spotify / bare", "spotify / vanilla", "spotify-sampled / bare", "vanilla / bare"):
        match = re.search(rf"\| {re.escape(pair)}\s+\| (\d+\.\d+)", output)
        assert match and float(match.group(1)) > 0, f"no median ratio for {pair}:\n{output}"


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (apt-get install wrk)")
def test_tradeoffs_suite_measures_every_setting_against_bare() -> None:
    done = subprocess.run([sys.executable, "benchmarks/run.py", "--suites", "tradeoffs", "--rounds", "1",
                           "--duration", "1"], cwd=ROOT, capture_output=True, text=True, timeout=180, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    for variant in ("spotify", "spotify-warn-logs", "spotify-no-cpu-clock", "spotify-both"):
        match = re.search(rf"\| {re.escape(variant)} / bare\s+\| (\d+\.\d+)", output)
        assert match and float(match.group(1)) > 0, f"no median ratio for {variant}:\n{output}"
