"""Scheduled jobs: run one now and list past runs (admin)."""
from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from marshmallow import fields, validate

from claims.api import context
from claims.api.spec import Blueprint, allow
from claims.api.fields import StrictSchema
from claims.api.pagination import page_request, respond_page
from reports import job_runs as jobs
from reports.jobs import JobDeps

blp = Blueprint("jobs", __name__, url_prefix="/jobs", description="Scheduled jobs and their runs (admin)")


class JobRunSchema(StrictSchema):
    id = fields.Integer()
    job = fields.String()
    host = fields.String()
    trigger = fields.String(metadata={"description": "schedule, startup, api or cli"})
    status = fields.String(metadata={"description": "running, done, failed, skipped or abandoned"})
    started_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)
    counts = fields.Dict()
    error = fields.String()


class RunRequestSchema(StrictSchema):
    period = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=16), metadata={
        "description": "period_statements only: issue this period (2026-09, 2026Q3 or 2026) instead of the last closed"})


class RunQuery(StrictSchema):
    job = fields.String()
    status = fields.String()


@blp.route("/<string:name>/run")
class JobRunNow(MethodView):
    @allow("admin")
    @blp.arguments(RunRequestSchema, required=False)
    @blp.response(200, JobRunSchema)
    def post(self, body, name):
        """Run a job now under its lock and return the finished run (409 while another run holds the lock)."""
        return jobs.run_job_now(principal=context.principal(), deps=JobDeps.from_app(current_app), name=name,
                                today=context.today(), period=body["period"])


@blp.route("/runs")
class JobRuns(MethodView):
    @allow("admin")
    @blp.arguments(RunQuery, location="query")
    @blp.response(200, JobRunSchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        """List job runs, newest first."""
        result = jobs.list_job_runs(context.session(), principal=context.principal(),
                                    page=page_request(pagination_parameters), **query)
        return respond_page(pagination_parameters, result)
