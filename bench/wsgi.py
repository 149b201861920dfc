"""WSGI entry points the benchmarks serve with gunicorn: the product app and the floor app.

    gunicorn 'bench.wsgi:app'        # the product, business date pinned by BENCH_TODAY
    gunicorn 'bench.wsgi:floor'      # one INSERT ... SELECT per claim, nothing else
"""
from __future__ import annotations

import os
from datetime import date

from flask import Flask, jsonify, request
from sqlalchemy import text

from claims.app import create_app
from claims.db import make_engine
from claims.settings import load_settings

_settings = load_settings()
_today = date.fromisoformat(os.environ.get("BENCH_TODAY", date.today().isoformat()))

if os.environ.get("BENCH_APP", "product") == "product":
    app = create_app(_settings)
    app.extensions["claims"]["today"] = _today
else:
    app = None

# The same claim row ours stores, written by one statement that copies the loan's keys; no
# authentication, validation, rules, computation, audit or response document.
FLOOR_INSERT = text(
    "INSERT INTO claim (loan_id, institution_id, program_code, rule_version_id, status, default_on, days_overdue,"
    " classification, outstanding_principal_fen, unpaid_interest_fen, recovered_before_fen, computed_fen, paid_fen,"
    " returned_fen, ratio, trace, shares, note, created_at, updated_at, version)"
    " SELECT id, institution_id, program_code, rule_version_id, 'draft', :default_on, :days_overdue, :classification,"
    " :principal, 0, 0, 0, 0, 0, '0', '[]', '{}', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1"
    " FROM loan WHERE id = :loan_id RETURNING id"
)


def _floor_app() -> Flask:
    floor_app = Flask("floor")
    engine = make_engine(_settings.database_url)

    @floor_app.get("/health")
    def health():
        return {"status": "ok"}

    @floor_app.post("/claims")
    def file_claim():
        body = request.get_json()
        principal_fen = int(body["outstanding_principal"].replace(".", ""))
        with engine.begin() as conn:
            claim_id = conn.execute(FLOOR_INSERT, {
                "loan_id": body["loan_id"], "default_on": date.fromisoformat(body["default_on"]),
                "days_overdue": body["days_overdue"], "classification": body["classification"],
                "principal": principal_fen}).scalar_one()
        return jsonify(id=claim_id), 201

    return floor_app


floor = _floor_app() if os.environ.get("BENCH_APP") == "floor" else None
