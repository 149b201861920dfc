"""Apps on a copy of the shipped programs whose sz-sme-pool caps and review stages a test's markers set."""
from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import make_test_app
from tests.integration.test_concurrency import PROGRAM

ROOT = Path(__file__).resolve().parents[2]


def programs_with(target: Path, caps: str | None, stages: str | None = None) -> Path:
    """A copy of config/programs at target with sz-sme-pool's [caps] and review stages replaced (when given)."""
    shutil.copytree(ROOT / "config/programs", target)
    path = target / PROGRAM / "2023.1.toml"
    # The shipped file's worked examples are for its own caps and stages, not this test's.
    text = path.read_text(encoding="utf-8").split("# Worked examples")[0]
    if stages:
        text = text[:text.index("[[review.stages]]")] + stages
    if caps is None:
        path.write_text(text, encoding="utf-8")
        return target
    # The loss-ratio breaker is raised out of the way: it would hold the bank after its first approvals.
    breaker = '[[breakers]]\nmetric = "loss_ratio"\nthreshold = "0.99"\naction = "defer_claims"\n\n'
    path.write_text(text[:text.index("[caps]")] + caps + "\n" + breaker + text[text.index("[[review.stages]]"):],
                    encoding="utf-8")
    return target


def app_for_markers(request, database_url, tmp_path):
    """The application on such a copy, from the test's `caps` and `stages` markers (shipped ones without them)."""
    caps, stages = request.node.get_closest_marker("caps"), request.node.get_closest_marker("stages")
    overrides = {"programs_dir": programs_with(tmp_path / "programs", caps.args[0] if caps else None,
                                               stages.args[0] if stages else None)} if caps or stages else {}
    application = make_test_app(database_url, tmp_path, **overrides)
    yield application
    application.extensions["claims"]["engine"].dispose()


def fresh(db) -> None:
    """End the checking session's read transaction (a SQLite snapshot) and forget what it loaded."""
    db.commit()
    db.expire_all()
