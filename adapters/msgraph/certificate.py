"""A client certificate for MSAL's client-credentials flow: a PEM file holding the app's private
key and its certificate (``PLANNER_MSGRAPH_CLIENT_CERTIFICATE_PATH``).

MSAL signs a client-assertion JWT with the key; Entra ID finds the registered certificate by the
thumbprint in the JWT's header and checks the signature with it. The key is read here once,
checked against the certificate (a mismatch would only show as a refusal at the token endpoint),
and never appears in ``repr``, logs or error messages.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa


@dataclass(frozen=True, slots=True)
class ClientCertificate:
    """The private key (PKCS#8 PEM, unencrypted, in memory only) and the certificate (PEM)."""

    private_key_pem: str = field(repr=False)
    certificate_pem: str

    @classmethod
    def from_pem_file(cls, path: str | Path, password: str | None = None) -> ClientCertificate:
        """Read and check the PEM file; raises ValueError with a message that names the file and
        what is wrong with it, never its contents."""
        where = f"PLANNER_MSGRAPH_CLIENT_CERTIFICATE_PATH ({str(path)[:200]})"
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise ValueError(f"{where} cannot be read ({type(exc).__name__})") from None
        try:
            certificates = x509.load_pem_x509_certificates(data)
        except ValueError:
            raise ValueError(f"{where} holds no PEM certificate (BEGIN CERTIFICATE)") from None
        try:
            key = serialization.load_pem_private_key(data, password.encode() if password else None)
        except TypeError:
            # cryptography: a password for a clear key, or none for an encrypted one.
            fix = "is not encrypted: unset" if password else "is encrypted: set"
            raise ValueError(f"{where}: its private key {fix} PLANNER_MSGRAPH_CLIENT_CERTIFICATE_PASSWORD") from None
        except ValueError:
            raise ValueError(
                f"{where} holds no private key that PLANNER_MSGRAPH_CLIENT_CERTIFICATE_PASSWORD opens"
            ) from None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError(f"{where}: Entra ID takes RSA certificates only, not {type(key).__name__}")
        certificate = next((c for c in certificates if c.public_key() == key.public_key()), None)
        if certificate is None:
            raise ValueError(f"{where}: no certificate in it matches its private key")
        return cls(
            private_key_pem=key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ).decode(),
            certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
        )

    @property
    def thumbprint_sha256(self) -> str:
        """The certificate's SHA-256 thumbprint, base64url as in a JWT's ``x5t#S256`` header (the
        identifier Entra ID shows for the app's certificate, in hex)."""
        digest = x509.load_pem_x509_certificate(self.certificate_pem.encode()).fingerprint(hashes.SHA256())
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def msal_credential(self) -> dict[str, str]:
        """MSAL's ``client_credential``: with ``public_certificate`` (and no ``thumbprint``, which
        MSAL takes as a SHA-1 one) MSAL 1.35+ derives the SHA-256 thumbprint and signs PS256."""
        return {"private_key": self.private_key_pem, "public_certificate": self.certificate_pem}
