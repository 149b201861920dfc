"""Settings from config/settings.toml per environment, overridden by environment variables."""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_ENV_OVERRIDES = {
    "DATABASE_URL": "database_url",
    "CLAIMS_SECRET_KEY": "secret_key",
    "CLAIMS_AUDIT_KEY": "audit_key",
    "CLAIMS_DATA_DIR": "data_dir",
    "CLAIMS_SCHEDULER_EMBEDDED": "scheduler_embedded",
    "CLAIMS_SIGNING_P12": "signing_p12",
    "CLAIMS_SIGNING_PASSWORD": "signing_password",
    "CLAIMS_SIGNING_CA": "signing_ca",
    "CLAIMS_STORAGE": "storage",
    "CLAIMS_S3_ENDPOINT": "s3_endpoint",
    "CLAIMS_S3_BUCKET": "s3_bucket",
    "CLAIMS_S3_REGION": "s3_region",
    "CLAIMS_S3_ACCESS_KEY": "s3_access_key",
    "CLAIMS_S3_SECRET_KEY": "s3_secret_key",
    "REDIS_URL": "redis_url",
    "CLAIMS_RATE_LIMIT_PER_MINUTE": "rate_limit_per_minute",
}


# Secrets that sit in config/settings.toml for development and tests; production refuses them.
_KNOWN_SECRETS = frozenset({"development-only-secret-change-me", "test-only-secret-not-for-production-use!",
                            "development-only-audit-key-change-me", "test-only-audit-key-not-for-production!"})
MIN_SECRET_BYTES = 32
_HOW_TO_MAKE = 'make one with: python3 -c "import secrets; print(secrets.token_urlsafe(32))"'


class SettingsError(RuntimeError):
    """A setting is missing or malformed; raised at start-up, never mid-request."""


@dataclass(frozen=True)
class Settings:
    """Everything the application reads from its environment, resolved once at start-up."""

    env: str = "development"
    database_url: str = "sqlite:///var/claims.db"
    secret_key: str = ""
    data_dir: Path = ROOT / "var"
    programs_dir: Path = ROOT / "config/programs"
    schedule_file: Path = ROOT / "config/schedule.toml"
    timezone: str = "Asia/Shanghai"
    max_upload_bytes: int = 20 * 2**20
    max_bulk_rows: int = 100_000
    audit_key: str = ""
    access_token_ttl_seconds: int = 15 * 60
    refresh_token_ttl_seconds: int = 8 * 3600
    login_lockout_failures: int = 10
    login_backoff_after: int = 3
    login_backoff_base_seconds: float = 1.0
    login_backoff_max_seconds: float = 300.0
    address_backoff_after: int = 20
    password_min_length: int = 12
    password_min_score: int = 3
    rate_limit_per_minute: int = 600
    scheduler_embedded: bool = False
    document_types: tuple[str, ...] = field(default_factory=tuple)
    # Webhooks: hosts an endpoint may name ("bank.example.com", "*.bank.example.com"); addresses that may be
    # private, loopback or link-local (tests only); http (not https) only for those addresses.
    webhook_allowed_hosts: tuple[str, ...] = field(default_factory=tuple)
    webhook_private_addresses: tuple[str, ...] = field(default_factory=tuple)
    webhook_max_attempts: int = 12
    webhook_backoff_seconds: int = 60
    webhook_timeout_seconds: int = 10
    webhook_secret_overlap_hours: int = 24
    webhook_poll_seconds: int = 50
    signing_p12: str = ""  # the bureau's PKCS#12 certificate that signs statements (path)
    signing_password: str = field(default="", repr=False)
    signing_ca: str = ""  # PEM file of the CA(s) a statement's signature is verified against
    demo_signing: bool = False  # without signing_p12, sign with a demo CA created under data_dir (never production)
    # Files (claims.storage): "local" keeps them under data_dir; "s3" in a bucket of an S3-compatible server.
    # Without s3_access_key boto3 finds credentials its usual way (AWS_* variables, instance role).
    storage: str = "local"
    s3_endpoint: str = ""
    s3_bucket: str = ""
    s3_region: str = "us-east-1"
    s3_access_key: str = ""
    s3_secret_key: str = field(default="", repr=False)
    redis_url: str = ""  # shared rate-limit counters for several instances; empty counts in the process

    @property
    def is_sqlite(self) -> bool:
        """True when the database is an embedded SQLite file or memory database."""
        return self.database_url.startswith("sqlite")

    def with_overrides(self, **changes) -> "Settings":
        """Return a copy with some values replaced (tests use this)."""
        return replace(self, **changes)


def _resolve_path(value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else ROOT / path


def _sqlite_url(url: str) -> str:
    # A relative sqlite path is taken from the project root, not the current directory.
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and len(url) > len(prefix):
        return prefix + str(ROOT / url[len(prefix):])
    return url


def load_settings(env: str | None = None, config_file: Path | None = None) -> Settings:
    """Load the settings for an environment (CLAIMS_ENV by default) with environment overrides."""
    # Fail closed: a server started without CLAIMS_ENV is production, never the development defaults.
    implicit = not (env or os.environ.get("CLAIMS_ENV"))
    env = env or os.environ.get("CLAIMS_ENV") or "production"
    config_file = config_file or ROOT / "config/settings.toml"
    with open(config_file, "rb") as fh:
        raw = tomllib.load(fh)
    if env not in raw:
        raise SettingsError(f"{config_file}: no [{env}] section (CLAIMS_ENV={env!r})")
    values: dict = {**raw.get("default", {}), **raw[env]}
    for var, key in _ENV_OVERRIDES.items():
        if os.environ.get(var):
            values[key] = os.environ[var]
    known = set(Settings.__dataclass_fields__) - {"env"}
    unknown = set(values) - known
    if unknown:
        raise SettingsError(f"{config_file}: unknown settings {sorted(unknown)}")
    for key in ("data_dir", "programs_dir", "schedule_file"):
        if key in values:
            values[key] = _resolve_path(str(values[key]))
    for flag in ("scheduler_embedded", "demo_signing"):
        if isinstance(values.get(flag), str):
            values[flag] = values[flag].lower() in {"1", "true", "yes"}
    for key in ("document_types", "webhook_allowed_hosts", "webhook_private_addresses"):
        values[key] = tuple(values.get(key, ()))
    values["database_url"] = _sqlite_url(values.get("database_url", Settings.database_url))
    for key, value in list(values.items()):
        kind = Settings.__dataclass_fields__[key].type
        if isinstance(value, str) and kind in ("int", "float"):
            values[key] = int(value) if kind == "int" else float(value)
    settings = Settings(env=env, **values)
    if settings.storage not in ("local", "s3") or (settings.storage == "s3" and not settings.s3_bucket):
        raise SettingsError(f'storage must be "local" or "s3" (with s3_bucket / CLAIMS_S3_BUCKET), '
                            f'not {settings.storage!r}')
    try:
        _check_secret("CLAIMS_SECRET_KEY", settings.secret_key, production=env == "production")
        _check_secret("CLAIMS_AUDIT_KEY", settings.audit_key, production=env == "production")
        if settings.audit_key == settings.secret_key:
            raise SettingsError("CLAIMS_AUDIT_KEY must differ from CLAIMS_SECRET_KEY (rotated separately)")
    except SettingsError as exc:
        where = "production (CLAIMS_ENV is unset)" if implicit else env
        raise SettingsError(f"refusing to start as {where}: {exc}") from None
    return settings


def _check_secret(var: str, value: str, *, production: bool) -> None:
    """Refuse a missing secret anywhere, and in production a short, low-variety or repository one."""
    if not value:
        raise SettingsError(f"no {var}: set it in the environment ({_HOW_TO_MAKE})")
    if not production:
        return
    if value in _KNOWN_SECRETS:
        raise SettingsError(f"{var} is the development/test value from config/settings.toml; {_HOW_TO_MAKE}")
    # 32 random bytes: at least 32 bytes long, and not a repeated or patterned short string.
    if len(value.encode()) < MIN_SECRET_BYTES or len(set(value)) < 16:
        raise SettingsError(f"{var} must hold at least {MIN_SECRET_BYTES} random bytes; {_HOW_TO_MAKE}")
