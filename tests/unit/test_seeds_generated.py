"""The committed demo reference CSVs are what seeds/generate.py produces, byte for byte."""
from __future__ import annotations

import subprocess
import sys

from claims.settings import ROOT


def test_the_seed_csvs_are_regenerated_unchanged():
    result = subprocess.run([sys.executable, str(ROOT / "seeds/generate.py"), "--check"], capture_output=True,
                            text=True, timeout=60, cwd=ROOT)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
