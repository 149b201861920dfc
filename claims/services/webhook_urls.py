"""Which webhook URLs may be called: https, a host on the bureau's allow-list, never a private address.

The check runs at registration (422 naming the reason) and again before every request, since a name
that resolved to a public address yesterday may resolve to an internal one today.
"""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


class UrlRefused(ValueError):
    """A webhook URL that may not be called, with the reason in words."""


def _host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    # "*" is any host, "*.bank.example" any name under bank.example, anything else that exact host.
    for pattern in (p.lower() for p in allowed):
        if pattern == "*" or pattern == host or (pattern.startswith("*.") and host.endswith(pattern[1:])):
            return True
    return False


def _addresses(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UrlRefused(f"the host {host} cannot be resolved ({exc})") from exc
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]


def check_url(url: str, *, allowed_hosts: tuple[str, ...], private_addresses: tuple[str, ...]) -> str:
    """The URL if it may be called, else UrlRefused saying why (scheme, host, allow-list or address)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UrlRefused(f"not a valid URL ({exc})") from exc
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.scheme not in ("https", "http") or not host:
        raise UrlRefused("the URL must be https://host/path")
    if parts.username or parts.password:
        raise UrlRefused("the URL may not carry a user name or password")
    if parts.fragment:
        raise UrlRefused("the URL may not carry a fragment")
    if not _host_allowed(host, allowed_hosts):
        raise UrlRefused(f"the host {host} is not on the bureau's allow-list of webhook hosts")
    if parts.scheme != "https" and not private_addresses:
        raise UrlRefused("the URL must use https")
    private_ok = {ipaddress.ip_address(a) for a in private_addresses}
    addresses = _addresses(host, port or (443 if parts.scheme == "https" else 80))
    if parts.scheme != "https" and not (addresses and all(a in private_ok for a in addresses)):
        raise UrlRefused("the URL must use https")
    for address in addresses:
        mapped = getattr(address, "ipv4_mapped", None) or address
        if mapped in private_ok:
            continue
        if not mapped.is_global or mapped.is_multicast:
            kind = ("loopback" if mapped.is_loopback else "link-local" if mapped.is_link_local
                    else "private or reserved")
            raise UrlRefused(f"the host {host} resolves to {address}, a {kind} address")
    return url
