"""Staff sessions (login, refresh, logout, password change) and staff user administration."""
from __future__ import annotations

from flask import request
from flask.views import MethodView
from marshmallow import fields, validate

from claims.api import context
from claims.api.fields import StrictSchema
from claims.api.spec import Blueprint, allow
from claims.models.user import STAFF_ROLES
from claims.services import logins, users

blp = Blueprint("users", __name__, description="Staff sessions and staff users")


class LoginSchema(StrictSchema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=1024))


class RefreshSchema(StrictSchema):
    refresh_token = fields.String(required=True, load_only=True, validate=validate.Length(max=200))


class TokenSchema(StrictSchema):
    token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer(metadata={"description": "Seconds the access token lives"})
    refresh_token = fields.String()
    refresh_expires_at = fields.DateTime()
    roles = fields.List(fields.String())


class PasswordChangeSchema(StrictSchema):
    current_password = fields.String(required=True, load_only=True, validate=validate.Length(max=1024))
    new_password = fields.String(required=True, load_only=True, validate=validate.Length(max=1024))


class UserSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    username = fields.String(required=True, validate=validate.Length(min=2, max=64))
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=1024))
    roles = fields.List(fields.String(validate=validate.OneOf(STAFF_ROLES)), required=True)
    programs = fields.List(fields.String(validate=validate.Length(max=32)), required=True,
                           metadata={"description": "Programs the roles apply to; '*' for every program"})
    active = fields.Boolean(dump_only=True)
    locked = fields.Boolean(dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class GrantSchema(StrictSchema):
    programs = fields.List(fields.String(validate=validate.Length(max=32)), required=True)


def _tokens(result: logins.Tokens) -> dict:
    return {"token": result.access_token, "token_type": "Bearer", "refresh_token": result.refresh_token,
            "expires_in": context.settings().access_token_ttl_seconds,
            "refresh_expires_at": result.session.refresh_expires_at, "roles": sorted(result.user.role_set)}


@blp.route("/auth/token")
class Token(MethodView):
    @blp.arguments(LoginSchema)
    @blp.response(200, TokenSchema)
    @blp.doc(security=[])
    def post(self, body):
        """Log in as staff: a short-lived access token and a refresh token (failed logins back off, then lock)."""
        return _tokens(logins.log_in(context.session(), s=context.settings(), address=request.remote_addr or "",
                                     **body))


@blp.route("/auth/refresh")
class Refresh(MethodView):
    @blp.arguments(RefreshSchema)
    @blp.response(200, TokenSchema)
    @blp.doc(security=[])
    def post(self, body):
        """Trade the refresh token for a new access and refresh token (the old ones stop working)."""
        return _tokens(logins.refresh(context.session(), s=context.settings(), **body))


@blp.route("/auth/logout")
class Logout(MethodView):
    @allow(*STAFF_ROLES)
    @blp.response(204)
    def post(self):
        """End this staff session: its access and refresh tokens stop working."""
        logins.log_out(context.session(), principal=context.principal())


@blp.route("/auth/password")
class Password(MethodView):
    @allow(*STAFF_ROLES)
    @blp.arguments(PasswordChangeSchema)
    @blp.response(204)
    def post(self, body):
        """Change your own password; every session of yours ends, this one too (log in again)."""
        users.change_password(context.session(), principal=context.principal(), s=context.settings(), **body)


@blp.route("/users")
class Users(MethodView):
    @allow("admin")
    @blp.response(200, UserSchema(many=True))
    def get(self):
        """List staff users with their roles, program grants and lock state (admin)."""
        return users.list_users(context.session(), principal=context.principal())

    @allow("admin")
    @blp.arguments(UserSchema)
    @blp.response(201, UserSchema)
    def post(self, body):
        """Create a staff user whose roles apply to the granted programs (admin; password policy applies)."""
        user = users.create_user(context.session(), principal=context.principal(), s=context.settings(),
                                 known_programs=set(context.programs().programs()), **body)
        return {**user.model_dump(exclude={"password_hash"}), "roles": sorted(user.role_set),
                "programs": sorted(set(body["programs"])), "locked": False}


@blp.route("/users/<int:user_id>/programs")
class UserPrograms(MethodView):
    @allow("admin")
    @blp.arguments(GrantSchema)
    @blp.response(200, GrantSchema)
    def put(self, body, user_id):
        """Replace the programs a user's roles apply to (admin)."""
        return {"programs": users.grant_programs(context.session(), principal=context.principal(), user_id=user_id,
                                                 programs=body["programs"],
                                                 known_programs=set(context.programs().programs()))}


@blp.route("/users/<int:user_id>/deactivate")
class Deactivate(MethodView):
    @allow("admin")
    @blp.response(204)
    def post(self, user_id):
        """Deactivate a user and end all their sessions (admin)."""
        users.set_active(context.session(), principal=context.principal(), user_id=user_id, active=False)


@blp.route("/users/<int:user_id>/activate")
class Activate(MethodView):
    @allow("admin")
    @blp.response(204)
    def post(self, user_id):
        """Reactivate a deactivated user (admin); they log in afresh."""
        users.set_active(context.session(), principal=context.principal(), user_id=user_id, active=True)


@blp.route("/users/<int:user_id>/unlock")
class Unlock(MethodView):
    @allow("admin")
    @blp.response(204)
    def post(self, user_id):
        """Clear a user's failed logins and lockout (admin)."""
        session = context.session()
        user = users.get_user(session, principal=context.principal(), user_id=user_id)
        logins.unlock(session, principal=context.principal(), username=user.username)
