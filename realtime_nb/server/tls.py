"""TLS for the stand-in: a throwaway certificate authority and a certificate for loopback.

Why: some clients cannot be pointed at ``ws://`` at all (the node ``openai`` package rewrites
every Realtime URL to ``wss://``). ``LocalServer(tls=True)`` serves ``wss://`` with a certificate
signed by a CA made for this server alone; clients trust it through :attr:`LocalTLS.ca_path`
(``NODE_EXTRA_CA_CERTS=...``, ``SSL_CERT_FILE=...``) or :meth:`LocalTLS.client_context`.
The CA is made with ``trustme`` (pip install 'realtime-nb[tls]'), lives only in memory and in a
temporary file, and is never installed anywhere.
"""

from __future__ import annotations

import shutil
import ssl
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UsageError


@dataclass
class LocalTLS:
    """A CA and the server certificate it signed, for one stand-in's lifetime."""

    ca_path: Path  #: the CA certificate (PEM) a client must trust
    server_context: ssl.SSLContext
    _dir: Path = field(repr=False)

    def client_context(self) -> ssl.SSLContext:
        """An SSL context that trusts this stand-in (and nothing else)."""
        return ssl.create_default_context(cafile=str(self.ca_path))

    def cleanup(self) -> None:
        """Delete the temporary CA file."""
        shutil.rmtree(self._dir, ignore_errors=True)


def make_local_tls(hosts: tuple[str, ...] = ("127.0.0.1", "localhost", "::1")) -> LocalTLS:
    """A fresh CA and a server certificate for ``hosts``.

    Raises:
        UsageError: ``trustme`` is not installed.
    """
    try:
        import trustme
    except ImportError:
        raise UsageError(
            "LocalServer(tls=True) needs the 'trustme' package: pip install 'realtime-nb[tls]'."
        ) from None
    ca = trustme.CA(organization_name="realtime-nb stand-in (throwaway)")
    cert = ca.issue_cert(*hosts)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_context)
    directory = Path(tempfile.mkdtemp(prefix="rtnb-tls-"))
    ca_path = directory / "stand-in-ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    return LocalTLS(ca_path, server_context, directory)


__all__ = ["LocalTLS", "make_local_tls"]
