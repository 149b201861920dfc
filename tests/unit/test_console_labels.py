"""The console names every job and job status in Chinese: a job added without its label shows its code name."""
from __future__ import annotations

from claims.console import labels
from reports.job_context import JOB_DESCRIPTIONS


def test_every_job_has_a_chinese_label():
    assert sorted(labels.JOBS) == sorted(JOB_DESCRIPTIONS)
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in label) for label in labels.JOBS.values())
