"""The LPR history (贷款市场报价利率) that interest-subsidy rate ceilings are read from."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import fields, validate

from claims.api import context
from claims.api.spec import Blueprint, EVERYONE, allow
from claims.api.fields import Ratio, StrictSchema
from claims.services import lpr

blp = Blueprint("lpr", __name__, url_prefix="/lpr", description="Loan Prime Rate history (LPR)")


class LprSchema(StrictSchema):
    effective_on = fields.Date()
    one_year = fields.String(metadata={"description": "1-year LPR as an annual ratio, e.g. \"0.0310\""})
    five_year = fields.String(metadata={"description": "5-year LPR as an annual ratio"})
    source = fields.String()
    created_by = fields.String()
    created_at = fields.DateTime()


# The service's range, 0.0001 to 0.2 (services/lpr.py), as a pattern: 0.1…, 0.01…, 0.001…, 0.0001… or 0.2.
LPR_PATTERN = r"^0\.(1[0-9]{0,11}|0[1-9][0-9]{0,10}|00[1-9][0-9]{0,9}|000[1-9][0-9]{0,8}|20{0,11})$"


class LprCreateSchema(StrictSchema):
    effective_on = fields.Date(required=True, metadata={"description": "First day the fixing is in force"})
    one_year = Ratio(required=True, metadata={"pattern": LPR_PATTERN, "example": "0.0310"})
    five_year = Ratio(required=True, metadata={"pattern": LPR_PATTERN, "example": "0.0350"})
    source = fields.String(load_default="", validate=validate.Length(max=200))


@blp.route("")
class LprHistory(MethodView):
    @allow(*EVERYONE)
    @blp.response(200, LprSchema(many=True))
    def get(self):
        """Every LPR fixing, oldest first; each is in force from its date until the next."""
        context.principal()
        return lpr.list_fixings(context.session())

    @allow("admin")
    @blp.arguments(LprCreateSchema)
    @blp.response(201, LprSchema)
    def post(self, body):
        """Add a newly published LPR fixing (admin); it must take effect after the latest one."""
        return lpr.publish_fixing(context.session(), principal=context.principal(), **body)
