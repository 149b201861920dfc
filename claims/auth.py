"""Who is calling: institution API keys, staff passwords and expiring tokens, roles and tenant scope."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlmodel import Session, select

from claims.errors import Forbidden, Unauthorized
from claims.models import ApiKey, Institution, User
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


SYSTEM = Principal(kind="staff", name="system", roles=frozenset({"admin"}), user_id=None)


def hash_api_secret(secret: str) -> str:
    """The stored form of an API key secret."""
    # API key secrets are 256-bit random values, so a plain SHA-256 is a sound one-way store for them.
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_api_key(session: Session, *, institution: Institution, label: str = "") -> tuple[ApiKey, str]:
    """Create a key for an institution; the plaintext is returned once and never stored."""
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(institution_id=institution.id, prefix=prefix, secret_hash=hash_api_secret(secret), label=label)
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


def principal_for_api_key(session: Session, presented: str) -> Principal:
    """Resolve a presented API key to its institution, or raise 401."""
    if not presented.startswith(KEY_PREFIX) or presented.count("_") < 2:
        raise Unauthorized("The API key is malformed.", code="invalid_api_key")
    prefix, _, secret = presented[len(KEY_PREFIX):].partition("_")
    # Every request reads this, so only the columns the decision needs, not the two whole rows.
    row = session.execute(
        select(ApiKey.secret_hash, ApiKey.revoked_at, Institution.id, Institution.name, Institution.status)
        .join(Institution, Institution.id == ApiKey.institution_id).where(ApiKey.prefix == prefix)
    ).first()
    if row is None or not hmac.compare_digest(row.secret_hash, hash_api_secret(secret)):
        raise Unauthorized("The API key is not valid.", code="invalid_api_key")
    if row.revoked_at is not None:
        raise Unauthorized("The API key has been revoked.", code="api_key_revoked")
    if row.status != "active":
        raise Unauthorized("The institution is not active.", code="institution_inactive")
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


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="claims-staff-token")


def issue_token(user: User, *, secret_key: str) -> str:
    """A signed token naming the user; it expires by age and dies when the password changes."""
    return _serializer(secret_key).dumps({"uid": user.id, "pw": user.password_hash[-16:]})


def principal_for_token(session: Session, token: str, *, secret_key: str, max_age: int) -> Principal:
    """Resolve a staff bearer token, or raise 401 (expired, forged, user gone or deactivated)."""
    try:
        data = _serializer(secret_key).loads(token, max_age=max_age)
    except SignatureExpired:
        raise Unauthorized("The token has expired; log in again.", code="token_expired") from None
    except BadSignature:
        raise Unauthorized("The token is not valid.", code="invalid_token") from None
    user = session.get(User, data.get("uid"))
    if user is None or not user.active or user.password_hash[-16:] != data.get("pw"):
        raise Unauthorized("The token is no longer valid.", code="invalid_token")
    return Principal(kind="staff", name=user.display_name, roles=user.role_set, user_id=user.id)
