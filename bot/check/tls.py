"""TLS for the probes: a verifying context, a separate non-verifying one used only to read a
certificate that failed verification, certificate parsing and plain names for OpenSSL's
verify codes. A bad certificate is reported, never raised past the probe."""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import ssl
import warnings
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

from bot.check.report import CertInfo, ChainCert, TlsInfo

_REASONS = {
    2: "unknown CA",
    9: "not yet valid",
    10: "expired",
    18: "self-signed",
    19: "self-signed CA (unknown CA)",
    20: "unknown CA",
    21: "unknown CA",
    62: "name mismatch",
    64: "name mismatch",
    66: "weak key",
    67: "weak CA key",
    68: "weak signature",
}


@dataclass(frozen=True, slots=True)
class Contexts:
    """`verifying` checks chain, dates and name; `insecure` only fetches a certificate;
    `legacy` speaks only TLS 1.0 and 1.1, to learn whether a server that refuses a modern
    handshake is stuck on them (never used to send anything)."""

    verifying: ssl.SSLContext
    insecure: ssl.SSLContext
    legacy: ssl.SSLContext
    tls12: ssl.SSLContext
    """TLS 1.2 only (nothing verified): does a TLS 1.3 server still take 1.2?"""


def make_contexts(cafile: Path | None = None) -> Contexts:
    """Both contexts, TLS 1.2 at least; `cafile` adds CAs (an internal CA) to the system ones."""
    verifying = ssl.create_default_context()
    if cafile is not None:
        verifying.load_verify_locations(cafile=str(cafile))
    insecure = ssl.create_default_context()
    insecure.check_hostname = False
    insecure.verify_mode = ssl.CERT_NONE
    return Contexts(verifying, insecure, _legacy(), _tls12())


VERSIONS = ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")  # as ssl.SSLObject.version() names them


def _tls12() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1_2
    return context


def _legacy() -> ssl.SSLContext:
    """TLS 1.0 to 1.1 only, at OpenSSL security level 0 (their ciphers need it)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():  # the versions are deprecated: that is the point
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
    context.set_ciphers("DEFAULT@SECLEVEL=0")
    return context


def verify_reason(code: int | None) -> str:
    """A short plain name for an OpenSSL verify code."""
    return _REASONS.get(code or 0, "verification failed")


def describe(
    ssl_object: ssl.SSLObject,
    checked_name: str,
    error: ssl.SSLCertVerificationError | None = None,
    now: dt.datetime | None = None,
) -> TlsInfo:
    """The session's version, cipher and certificate; `error` is the verifying handshake's."""
    name, _, bits = ssl_object.cipher() or ("", "", None)
    der = ssl_object.getpeercert(binary_form=True)
    cert = x509.load_der_x509_certificate(der) if der else None
    sent = sent_chain(ssl_object)
    info = TlsInfo(
        version=ssl_object.version() or "",
        cipher=name,
        bits=bits,
        checked_name=checked_name,
        verified=error is None,
        cert=parse_cert(cert, now) if cert else None,
        name_matches=True if error is None else None,
        chain=[
            ChainCert(c.subject.rfc4514_string(), c.issuer.rfc4514_string(), dane_names(c))
            for c in sent
        ],
        issuer_url=_issuer_url(cert) if cert else None,
    )
    if error is not None:
        info.verify_code = error.verify_code
        info.verify_reason = verify_reason(error.verify_code)
        info.verify_message = error.verify_message
        info.name_matches = name_matches(checked_name, cert) if cert else None
    return info


def sent_chain(ssl_object: ssl.SSLObject) -> list[x509.Certificate]:
    """The certificates the server sent, in its order, as it sent them (not a verified
    chain). Python 3.13 has `get_unverified_chain`; 3.10 to 3.12 have it on the `_ssl` object."""
    public = getattr(ssl_object, "get_unverified_chain", None)
    inner = getattr(ssl_object, "_sslobj", None)
    read = public or getattr(inner, "get_unverified_chain", None)
    try:
        sent = read() if read is not None else None
    except (ssl.SSLError, ValueError):
        return []
    certs = []
    for item in sent or []:
        der = item if isinstance(item, bytes) else item.public_bytes(ssl._ssl.ENCODING_DER)  # type: ignore[attr-defined]
        try:
            certs.append(x509.load_der_x509_certificate(der))
        except ValueError:
            return certs
    return certs


def _issuer_url(cert: x509.Certificate) -> str | None:
    try:
        access = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except (x509.ExtensionNotFound, ValueError):
        return None
    for description in access:
        location = description.access_location
        if description.access_method == AuthorityInformationAccessOID.CA_ISSUERS and isinstance(
            location, x509.UniformResourceIdentifier
        ):
            return str(location.value)[:300]
    return None


def parse_cert(cert: x509.Certificate, now: dt.datetime | None = None) -> CertInfo:
    """Subject, issuer, names, validity dates and days left of one certificate."""
    now = now or dt.datetime.now(dt.UTC)
    not_after = cert.not_valid_after_utc
    return CertInfo(
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        sans=_sans(cert),
        not_before=cert.not_valid_before_utc.isoformat(),
        not_after=not_after.isoformat(),
        days_left=int((not_after - now) / dt.timedelta(days=1)),
        expired=not_after < now,
        self_signed=cert.issuer == cert.subject,
        sha256=cert.fingerprint(hashes.SHA256()).hex(),
        key=_key(cert),
        signature=_signature(cert),
        dane=dane_names(cert),
    )


def dane_names(cert: x509.Certificate) -> list[str]:
    """`selector matching-type digest` for each way a TLSA record can name `cert` by a digest
    (RFC 6698 §2.1: selector 0 the certificate, 1 its SubjectPublicKeyInfo; matching type 1
    SHA-256, 2 SHA-512)."""
    selected = (
        cert.public_bytes(serialization.Encoding.DER),
        cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
    )
    return [
        f"{selector} {matching} {hashlib.new(algorithm, data).hexdigest()}"
        for selector, data in enumerate(selected)
        for matching, algorithm in ((1, "sha256"), (2, "sha512"))
    ]


def _key(cert: x509.Certificate) -> str:
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA {key.key_size}"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"EC {key.curve.name}"
    return type(key).__name__.removesuffix("PublicKey").lstrip("_")


def _signature(cert: x509.Certificate) -> str:
    algorithm = cert.signature_hash_algorithm
    return algorithm.name.upper().replace("SHA", "SHA-", 1) if algorithm is not None else ""


def _sans(cert: x509.Certificate) -> list[str]:
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [
        *ext.get_values_for_type(x509.DNSName),
        *(str(ip) for ip in ext.get_values_for_type(x509.IPAddress)),
    ]


def name_matches(name: str, cert: x509.Certificate) -> bool:
    """RFC 6125 matching as OpenSSL does it: SAN DNS names (a wildcard stands for one whole
    leftmost label), SAN IPs for IP literals, and the CN only when there is no SAN DNS name."""
    try:
        ip = ipaddress.ip_address(name)
    except ValueError:
        ip = None
    sans = _sans(cert)
    if ip is not None:
        return any(_same_ip(ip, san) for san in sans)
    dns_names = [s for s in sans if not _is_ip(s)]
    if not dns_names:
        dns_names = [str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    return any(_dns_match(name.lower(), str(pattern).lower()) for pattern in dns_names)


def _dns_match(name: str, pattern: str) -> bool:
    if pattern.startswith("*."):
        head, _, rest = name.partition(".")
        return bool(head) and rest == pattern[2:] and "." in rest
    return name == pattern.rstrip(".")


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _same_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, text: str) -> bool:
    return _is_ip(text) and ipaddress.ip_address(text) == ip
