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
    "CLAIMS_DATA_DIR": "data_dir",
    "CLAIMS_SCHEDULER_EMBEDDED": "scheduler_embedded",
    "CLAIMS_SIGNING_P12": "signing_p12",
    "CLAIMS_SIGNING_PASSWORD": "signing_password",
    "CLAIMS_SIGNING_CA": "signing_ca",
}


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
    token_ttl_seconds: int = 8 * 3600
    rate_limit_per_minute: int = 600
    scheduler_embedded: bool = False
    document_types: tuple[str, ...] = field(default_factory=tuple)
    signing_p12: str = ""  # the bureau's PKCS#12 certificate that signs statements (path)
    signing_password: str = field(default="", repr=False)
    signing_ca: str = ""  # PEM file of the CA(s) a statement's signature is verified against
    demo_signing: bool = False  # without signing_p12, sign with a demo CA created under data_dir (never production)

    @property
    def is_sqlite(self) -> bool:
        """True when the database is an embedded SQLite file or memory database."""
        return self.database_url.startswith("sqlite")

    @property
    def documents_dir(self) -> Path:
        """Where uploaded document bytes are kept, content-addressed by SHA-256."""
        return self.data_dir / "documents"

    @property
    def statements_dir(self) -> Path:
        """Where rendered statement PDFs are kept."""
        return self.data_dir / "statements"

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
    env = env or os.environ.get("CLAIMS_ENV", "development")
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
    values["document_types"] = tuple(values.get("document_types", ()))
    values["database_url"] = _sqlite_url(values.get("database_url", Settings.database_url))
    settings = Settings(env=env, **values)
    if not settings.secret_key:
        raise SettingsError("no secret key: set CLAIMS_SECRET_KEY in the environment")
    return settings
