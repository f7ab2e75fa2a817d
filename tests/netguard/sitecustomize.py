"""Loaded by every Python process started with this folder on PYTHONPATH: records, and refuses,
each host-name lookup and each connection to an address other than this machine's loopback.

One line per attempt goes to the file named by $NETGUARD_LOG, so a test can assert that a
command line (and every Python process it starts, Ray's included) stayed off the network.
"""

import ipaddress
import os
import socket
import traceback

_LOG = os.environ.get("NETGUARD_LOG")
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


def _is_local(host) -> bool:
    if host is None or host in ("", b""):
        return True  # a wildcard bind or a local port lookup, not a name on the network
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    host = str(host).strip("[]").split("%")[0]
    if host.lower() in _LOCAL_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # a name to resolve
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or address.is_unspecified or bool(mapped and mapped.is_loopback)


def _record(what: str, host) -> None:
    frames = "".join(traceback.format_stack(limit=8)[:-2]).replace("\n", " | ")
    line = f"{os.getpid()} {what} {host!r} :: {frames}\n"
    try:
        fd = os.open(_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("utf-8", "replace"))
        finally:
            os.close(fd)
    except OSError:
        pass
    raise OSError(f"netguard: {what} of {host!r} refused")


def _wrap_lookup(name: str):
    real = getattr(socket, name)

    def lookup(host, *args, **kwargs):
        if not _is_local(host):
            _record(name, host)
        return real(host, *args, **kwargs)

    setattr(socket, name, lookup)


def _wrap_connect(name: str):
    real = getattr(socket.socket, name)

    def connect(self, address, *args):
        if self.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple):
            if not _is_local(address[0]):
                _record(f"socket.{name}", address[0])
        return real(self, address, *args)

    setattr(socket.socket, name, connect)


if _LOG:
    for _name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr"):
        _wrap_lookup(_name)
    for _name in ("connect", "connect_ex"):
        _wrap_connect(_name)
