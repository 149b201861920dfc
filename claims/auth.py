"""Who is calling: institution API keys, staff passwords and sessions, roles, tenant and program scope."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import bindparam
from sqlalchemy import update as sa_update
from sqlmodel import Session, select

from claims.db import begin_write
from claims.errors import Forbidden, Unauthorized
from claims.models import ApiKey, Institution, StaffSession, User, UserProgram
from claims.models.user import ALL_PROGRAMS
from claims.models.base import utcnow

KEY_PREFIX = "ck_"
_hasher = PasswordHasher()
# A fixed argon2 hash so a login for an unknown user costs as much as one for a known user.
_DUMMY_HASH = _hasher.hash("no-such-user")


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: an institution (by API key) or a staff user (by token)."""

    kind: str  # "institution" | "staff"
    name: str
    roles: frozenset[str]
    institution_id: int | None = None
    user_id: int | None = None
    programs: frozenset[str] | None = None  # staff: the granted programs; None = every program
    session_id: int | None = None

    @property
    def actor(self) -> str:
        """How the audit log names this caller."""
        return f"institution:{self.institution_id}" if self.kind == "institution" else f"user:{self.user_id}"

    @property
    def is_institution(self) -> bool:
        """True for a bank, insurer or guarantor calling with its API key."""
        return self.kind == "institution"

    def require(self, *roles: str) -> None:
        """Refuse with 403 unless the caller holds one of the roles."""
        if not self.roles & set(roles):
            raise Forbidden(f"This action needs one of the roles: {', '.join(roles)}.", code="role_required")


def within_programs(principal: Principal, statement, program_column):
    """Restrict a select to the programs a staff caller is granted (institutions are scoped by tenant)."""
    if principal.is_institution or principal.programs is None:
        return statement
    return statement.where(program_column.in_(sorted(principal.programs)))


SYSTEM = Principal(kind="staff", name="system", roles=frozenset({"admin"}), user_id=None)


def hash_api_secret(secret: str) -> str:
    """The stored form of an API key secret."""
    # API key secrets are 256-bit random values, so a plain SHA-256 is a sound one-way store for them.
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_api_key(session: Session, *, institution: Institution, label: str = "",
                  issued_by: str = "") -> tuple[ApiKey, str]:
    """Create a key for an institution; the plaintext is returned once and never stored."""
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(institution_id=institution.id, prefix=prefix, secret_hash=hash_api_secret(secret), label=label,
                 issued_by=issued_by[:100])
    session.add(key)
    session.flush()
    return key, f"{KEY_PREFIX}{prefix}_{secret}"


def revoke_api_key(session: Session, *, prefix: str) -> ApiKey:
    """Revoke a key by its prefix; later calls with it get 401."""
    key = session.exec(select(ApiKey).where(ApiKey.prefix == prefix)).first()
    if key is None:
        raise LookupError(f"no API key with prefix {prefix!r}")
    key.revoked_at = key.revoked_at or utcnow()
    session.add(key)
    return key


# Every request reads this, so only the columns the decision needs, not the two whole rows; built once and
# bound per request (building the select costs more than running it on SQLite).
_KEY_OF_PREFIX = (select(ApiKey.id.label("key_id"), ApiKey.secret_hash, ApiKey.revoked_at, ApiKey.first_used_at,
                         Institution.id, Institution.name, Institution.status)
                  .join(Institution, Institution.id == ApiKey.institution_id).where(ApiKey.prefix == bindparam("prefix")))


def principal_for_api_key(session: Session, presented: str) -> Principal:
    """Resolve a presented API key to its institution, or raise 401."""
    if not presented.startswith(KEY_PREFIX) or presented.count("_") < 2:
        raise Unauthorized("The API key is malformed.", code="invalid_api_key")
    prefix, _, secret = presented[len(KEY_PREFIX):].partition("_")
    row = session.execute(_KEY_OF_PREFIX, {"prefix": prefix}).first()
    if row is None or not hmac.compare_digest(row.secret_hash, hash_api_secret(secret)):
        raise Unauthorized("The API key is not valid.", code="invalid_api_key")
    if row.revoked_at is not None:
        raise Unauthorized("The API key has been revoked.", code="api_key_revoked")
    if row.status != "active":
        raise Unauthorized("The institution is not active.", code="institution_inactive")
    if row.first_used_at is None:
        # The institution sees when its key was first used (GET /institutions/{id}/keys): a key used
        # before the bank itself deployed it shows up as a use it did not make. Its own short write
        # transaction (once per key), so SQLite never has to upgrade the reading one.
        begin_write(session)
        session.execute(sa_update(ApiKey).where(ApiKey.id == row.key_id, ApiKey.first_used_at.is_(None))
                        .values(first_used_at=utcnow()))
        session.commit()
    return Principal(kind="institution", name=row.name, roles=frozenset({"institution"}), institution_id=row.id)


def hash_password(password: str) -> str:
    """Hash a staff password with argon2id."""
    return _hasher.hash(password)


def authenticate_user(session: Session, *, username: str, password: str) -> User:
    """Check a username and password; the same 401 for an unknown user and a wrong password."""
    user = session.exec(select(User).where(User.username == username)).first()
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerifyMismatchError, InvalidHashError):
        user = None
    if user is None or not user.active:
        raise Unauthorized("Wrong username or password.", code="invalid_credentials")
    return user


ACCESS_PREFIX, REFRESH_PREFIX = "cs_", "cr_"


def _token_hash(token: str) -> str:
    # Session tokens are 256-bit random values, so SHA-256 is a sound one-way store (as for API keys).
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session, user: User, *, access_ttl: int, refresh_ttl: int,
                 address: str = "") -> tuple[StaffSession, str, str]:
    """Start a staff session: random access and refresh tokens, returned once, stored only as hashes."""
    access, refresh = ACCESS_PREFIX + secrets.token_urlsafe(32), REFRESH_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    row = StaffSession(user_id=user.id, access_hash=_token_hash(access), refresh_hash=_token_hash(refresh),
                       created_at=now, access_expires_at=now + timedelta(seconds=access_ttl),
                       refresh_expires_at=now + timedelta(seconds=refresh_ttl), address=address[:64])
    session.add(row)
    session.flush()
    return row, access, refresh


def issue_token(session: Session, user: User, *, access_ttl: int = 3600, refresh_ttl: int = 3600) -> str:
    """An access token for a user in a session of its own (tests and tools; logins go through open_session)."""
    return open_session(session, user, access_ttl=access_ttl, refresh_ttl=refresh_ttl)[1]


def find_session(session: Session, *, refresh_token: str) -> StaffSession | None:
    """The live session a refresh token belongs to, or None."""
    row = session.exec(select(StaffSession).where(StaffSession.refresh_hash == _token_hash(refresh_token))).first()
    if row is None or row.revoked_at is not None or row.refresh_expires_at <= utcnow():
        return None
    return row


def rotate_session(session: Session, row: StaffSession, *, access_ttl: int) -> tuple[str, str]:
    """New access and refresh tokens for a live session; its refresh deadline (the longest it lives) stays."""
    access, refresh = ACCESS_PREFIX + secrets.token_urlsafe(32), REFRESH_PREFIX + secrets.token_urlsafe(32)
    row.access_hash, row.refresh_hash = _token_hash(access), _token_hash(refresh)
    row.access_expires_at = min(utcnow() + timedelta(seconds=access_ttl), row.refresh_expires_at)
    session.add(row)
    session.flush()
    return access, refresh


def revoke_sessions(session: Session, *, user_id: int, reason: str, only_id: int | None = None) -> int:
    """End a user's live sessions (or just one of them); returns how many were ended."""
    statement = sa_update(StaffSession).where(StaffSession.user_id == user_id, StaffSession.revoked_at.is_(None))
    if only_id is not None:
        statement = statement.where(StaffSession.id == only_id)
    return session.execute(statement.values(revoked_at=utcnow(), revoked_reason=reason[:32])).rowcount


def granted_programs(session: Session, user_id: int) -> frozenset[str] | None:
    """The programs a staff user's roles apply to; None means every program."""
    codes = frozenset(session.exec(select(UserProgram.program_code).where(UserProgram.user_id == user_id)))
    return None if ALL_PROGRAMS in codes else codes


def principal_for_token(session: Session, token: str) -> Principal:
    """Resolve a staff bearer token, or raise 401 (unknown, expired, revoked, user deactivated)."""
    row = session.execute(
        select(StaffSession.id, StaffSession.access_expires_at, StaffSession.revoked_at, User.id.label("uid"),
               User.display_name, User.roles, User.active)
        .join(User, User.id == StaffSession.user_id).where(StaffSession.access_hash == _token_hash(token))
    ).first()
    if row is None:
        raise Unauthorized("The token is not valid.", code="invalid_token")
    if row.access_expires_at <= utcnow():
        raise Unauthorized("The token has expired; renew it at POST /auth/refresh or log in again.",
                           code="token_expired")
    if row.revoked_at is not None:
        raise Unauthorized("The session has ended (logged out, password changed or user deactivated).",
                           code="session_revoked")
    if not row.active:
        raise Unauthorized("The user is deactivated.", code="user_inactive")
    return Principal(kind="staff", name=row.display_name, roles=frozenset(r for r in row.roles.split(",") if r),
                     user_id=row.uid, programs=granted_programs(session, row.uid), session_id=row.id)
