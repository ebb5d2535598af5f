"""Which addresses the server may fetch feeds from: the guard against server-side request forgery.

A feed source's address is typed by a person, so the server must not become their way into the
networks it sits on. As OWASP's SSRF guidance advises, the check is made when the connection is
opened, on the address the name resolves to at that moment (a name checked when the source was
added can be pointed elsewhere later), for the first request and for every redirect. Only public
unicast addresses on the allowed ports are reached; hosts an operator names in
``FEED_ALLOWED_HOSTS`` (their own feed servers on an internal network) are the exception.
"""
from __future__ import annotations

from typing import TYPE_CHECKING
import ipaddress
import socket
from dataclasses import dataclass, field

from flask import current_app

if TYPE_CHECKING:
    from collections.abc import Mapping
    from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
    from typing import Any

DEFAULT_PORTS = {"http": 80, "https": 443}
NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Special-purpose blocks (IANA) that this Python's ``is_global`` may still call global.
SPECIAL = (ipaddress.ip_network("192.0.0.0/24"), ipaddress.ip_network("2001::/23"),
           ipaddress.ip_network("2001:db8::/32"), ipaddress.ip_network("100::/64"))


class AddressRefused(OSError):
    """The address may not be fetched. An OSError, so urllib reports it like any unreachable host:
    the person who typed the address learns nothing about what is behind it."""


def is_public(address: IPv4Address | IPv6Address) -> bool:
    """True for a global unicast address, looking through IPv6 forms that carry an IPv4 address
    (mapped ``::ffff:a.b.c.d``, 6to4, Teredo and NAT64), which reach the IPv4 address inside."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = address.ipv4_mapped or address.sixtofour
        if inner is None and address.teredo:
            inner = address.teredo[1]
        if inner is None and address in NAT64:
            inner = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if inner is not None:
            return is_public(inner)
    if any(address in network for network in SPECIAL if network.version == address.version):
        return False
    return address.is_global and not (
        address.is_multicast or address.is_reserved or address.is_unspecified
        or address.is_loopback or address.is_link_local or address.is_private
    )


def _parse_address(text: str) -> IPv4Address | IPv6Address | None:
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])  # an IPv6 zone ("%eth0") is not part of it
    except ValueError:
        return None


def _resolved(text: str) -> IPv4Address | IPv6Address:
    address = _parse_address(text)
    assert address is not None  # getaddrinfo answers with numeric addresses only
    return address


@dataclass(frozen=True)
class AddressPolicy:
    """The ports feeds may be fetched on, and the hosts and networks trusted whatever their address."""

    ports: frozenset[int] = frozenset({80, 443})
    hosts: frozenset[str] = frozenset()              # names or literal addresses, any address, any port
    networks: tuple[IPv4Network | IPv6Network, ...] = field(default_factory=tuple)  # on the allowed ports

    @classmethod
    def from_settings(cls, config: Mapping[str, Any] | None = None) -> AddressPolicy:
        config = config if config is not None else current_app.config
        ports = frozenset(int(p) for p in str(config.get("FEED_ALLOWED_PORTS", "80,443")).split(",") if p.strip())
        hosts, networks = set(), []
        for item in str(config.get("FEED_ALLOWED_HOSTS", "")).split(","):
            item = item.strip().lower()
            if not item:
                continue
            if "/" in item:
                networks.append(ipaddress.ip_network(item, strict=False))
            else:
                hosts.add(item.strip("[]"))
        return cls(ports=ports, hosts=frozenset(hosts), networks=tuple(networks))

    def trusts_host(self, host: str) -> bool:
        return (host or "").lower().strip("[]") in self.hosts

    def permits(self, address: IPv4Address | IPv6Address, port: int) -> bool:
        """May this resolved address and port be connected to (for a host not trusted by name)?"""
        in_network = any(address in network for network in self.networks)
        return port in self.ports and (in_network or is_public(address))

    def refusal(self, host: str, port: int) -> str | None:
        """Why an address typed for a source is refused before any lookup, or None: the port,
        or a literal address that is not public. Names are checked at each connection instead."""
        if self.trusts_host(host):
            return None
        if port not in self.ports:
            allowed = ", ".join(str(p) for p in sorted(self.ports))
            return f"Feeds can only be fetched on port {allowed}." if len(self.ports) == 1 else \
                f"Feeds can only be fetched on ports {allowed}."
        address = _parse_address(host or "")
        if address is not None and not self.permits(address, port):
            return "Feeds can only be fetched from public internet addresses."
        return None

    def connect(self, host: str, port: int, timeout: float | None,
                source_address: tuple[str, int] | None = None) -> socket.socket:
        """``socket.create_connection`` for ``(host, port)``, to checked addresses only.

        Every address the name resolves to must be permitted (a name that also points inside is
        refused outright rather than tried in order), and the connection is made to the address
        that was checked, so a second lookup cannot answer differently.
        """
        trusted = self.trusts_host(host)
        try:
            found = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
        except socket.gaierror as error:
            raise AddressRefused(f"cannot resolve: {error}") from None
        if not trusted and not all(self.permits(_resolved(str(info[4][0])), port) for info in found):
            raise AddressRefused("address not allowed")
        failure: OSError | None = None
        for family, kind, proto, _, sockaddr in found:
            sock = socket.socket(family, kind, proto)
            try:
                # (the sentinel is create_connection's own default, private in the stubs)
                if timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:  # type: ignore[attr-defined]
                    sock.settimeout(timeout)
                if source_address:
                    sock.bind(source_address)
                sock.connect(sockaddr)
                return sock
            except OSError as exc:
                failure = exc
                sock.close()
        raise failure or AddressRefused("no address")
