"""Real servers for the live-check tests, all on 127.0.0.0/8: aiosmtpd with STARTTLS and AUTH,
and small scripted SMTP/IMAP/POP3 servers that misbehave on purpose. Plus test certificates.
Each helper takes the mail port a test checks and listens on its TEST_PORTS stand-in."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import ipaddress
import socket
import ssl
import subprocess
import time
import warnings
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import trustme
from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from loopback_ports import TEST_PORTS

from bot.check.guard import HTTPS_PORT

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)


@dataclass
class Certs:
    """A test CA (trusted through MAILPORT_CHECK_CA_FILE) and a place for key files."""

    ca: trustme.CA
    cafile: Path
    folder: Path

    def good(self, name: str) -> ssl.SSLContext:
        """A certificate for `name` from the test CA."""
        return _server_context(self.ca.issue_cert(name))

    def old_tls(self, name: str, newest: ssl.TLSVersion) -> ssl.SSLContext:
        """A good certificate for `name`, served with TLS 1.0 up to `newest` (1.0 or 1.1)."""
        context = _server_context(self.ca.issue_cert(name))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = ssl.TLSVersion.TLSv1
            context.maximum_version = newest
        context.set_ciphers("DEFAULT@SECLEVEL=0")
        return context

    def expired(self, name: str, days_ago: int = 3) -> ssl.SSLContext:
        """A certificate for `name` that expired `days_ago` days ago."""
        now = dt.datetime.now(dt.UTC)
        leaf = self.ca.issue_cert(
            name,
            not_before=now - dt.timedelta(days=90),
            not_after=now - dt.timedelta(days=days_ago),
        )
        return _server_context(leaf)

    def untrusted(self, name: str) -> ssl.SSLContext:
        """A certificate for `name` from a CA nobody trusts."""
        return _server_context(trustme.CA().issue_cert(name))

    def weak(self, name: str, rsa_bits: int = 0, sha1: bool = False) -> ssl.SSLContext:
        """A certificate for `name` from the test CA with an RSA key of `rsa_bits` (else
        EC P-256), signed with SHA-1 if `sha1`: what current clients refuse. Made with the
        openssl command, since the cryptography package no longer signs with SHA-1."""
        stem = self.folder / f"weak-{rsa_bits}-{int(sha1)}-{name}"
        ca_key, ca_cert = stem.with_suffix(".ca.key"), stem.with_suffix(".ca.pem")
        self.ca.private_key_pem.write_to_path(str(ca_key))
        self.ca.cert_pem.write_to_path(str(ca_cert))
        key, csr, pem = (stem.with_suffix(s) for s in (".key", ".csr", ".pem"))
        new_key = (
            ["-newkey", f"rsa:{rsa_bits}"]
            if rsa_bits
            else ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
        )
        extensions = stem.with_suffix(".ext")
        extensions.write_text(f"subjectAltName=DNS:{name}\nbasicConstraints=critical,CA:FALSE\n")
        run = functools.partial(subprocess.run, check=True, capture_output=True)
        run(
            [
                "openssl",
                "req",
                "-new",
                *new_key,
                "-nodes",
                "-keyout",
                key,
                "-out",
                csr,
                "-subj",
                f"/CN={name}",
            ]
        )
        run(
            [
                "openssl",
                "x509",
                "-req",
                "-in",
                csr,
                "-CA",
                ca_cert,
                "-CAkey",
                ca_key,
                "-CAcreateserial",
                "-days",
                "30",
                "-extfile",
                extensions,
                "-sha1" if sha1 else "-sha256",
                "-out",
                pem,
            ]
        )
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.set_ciphers("DEFAULT@SECLEVEL=0")
        context.load_cert_chain(pem, key)
        return context

    def without_intermediate(self, name: str, issuer_url: str | None = None) -> ssl.SSLContext:
        """A certificate for `name` from an intermediate of the test CA, served alone (the
        intermediate left out: the usual fault); `issuer_url` adds an AIA caIssuers URL."""
        intermediate = self.ca.create_child_ca()
        ca_key = serialization.load_pem_private_key(intermediate.private_key_pem.bytes(), None)
        ca_cert = x509.load_pem_x509_certificate(intermediate.cert_pem.bytes())
        key = ec.generate_private_key(ec.SECP256R1())
        builder = _leaf_builder(name, ca_cert.subject, key)
        if issuer_url:
            access = x509.AccessDescription(
                x509.AuthorityInformationAccessOID.CA_ISSUERS,
                x509.UniformResourceIdentifier(issuer_url),
            )
            builder = builder.add_extension(
                x509.AuthorityInformationAccess([access]), critical=False
            )
        cert = builder.sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
        return self._serve(f"alone-{name}", cert, key)

    def untrusted_chain(self, name: str) -> ssl.SSLContext:
        """A certificate for `name` with its intermediate, both from a CA nobody trusts."""
        return _server_context(trustme.CA().create_child_ca().issue_cert(name))

    def _serve(
        self, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
    ) -> ssl.SSLContext:
        """A server context sending exactly `cert` (no chain) with `key`."""
        pem = self.folder / f"{stem}.pem"
        pem.write_bytes(
            cert.public_bytes(serialization.Encoding.PEM)
            + key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(pem)
        return context

    def self_signed(self, name: str) -> ssl.SSLContext:
        """A self-signed certificate for `name`."""
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        cert = _leaf_builder(name, subject, key).sign(key, hashes.SHA256())
        return self._serve(f"self-signed-{name}", cert, key)


def _leaf_builder(
    name: str, issuer: x509.Name, key: ec.EllipticCurvePrivateKey
) -> x509.CertificateBuilder:
    """A server certificate for `name` issued by `issuer`, valid from yesterday for 90 days,
    ready to sign."""
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=90))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    )


def _server_context(leaf: trustme.LeafCert) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(context)
    return context


class _Sink:
    """aiosmtpd handler; the checker never gets as far as DATA."""

    async def handle_DATA(self, server, session, envelope) -> str:
        return "554 not accepting mail"


def _never_authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
    return AuthResult(success=False)


@contextlib.contextmanager
def aiosmtpd_server(
    address: str,
    port: int,
    context: ssl.SSLContext,
    implicit: bool = False,
    auth_require_tls: bool = True,
) -> Iterator[Controller]:
    """aiosmtpd on address:port with STARTTLS (or implicit TLS) and AUTH. aiosmtpd does not
    count implicit TLS as TLS for `auth_require_tls`, so implicit servers offer AUTH freely."""
    kwargs: dict = {
        "authenticator": _never_authenticate,
        "auth_require_tls": auth_require_tls and not implicit,
    }
    if implicit:
        controller = Controller(
            _Sink(), hostname=address, port=TEST_PORTS[port], ssl_context=context, **kwargs
        )
    else:
        controller = Controller(
            _Sink(), hostname=address, port=TEST_PORTS[port], tls_context=context, **kwargs
        )
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


@dataclass
class Script:
    """How a scripted server behaves. `greeting=None` never greets; `inject` follows the
    STARTTLS go-ahead in the same write; `close_after_greeting` hangs up after greeting."""

    greeting: str | None
    greeting_delay: float = 0.0
    starttls: bool = True
    auth_before_tls: bool = False
    inject: bytes = b""
    tls: ssl.SSLContext | None = None
    close_after_greeting: bool = False
    runs_pipelined: bool = False
    """Keep what came with STARTTLS and run it inside TLS (CVE-2011-0411); by default it is
    discarded, as RFC 3207 §4.2 requires."""


@dataclass
class ScriptedServer:
    """An asyncio server speaking just enough SMTP, IMAP or POP3 to misbehave precisely."""

    protocol: str
    script: Script
    connections: int = 0
    received: list[str] = field(default_factory=list)
    sessions: list[list[str]] = field(default_factory=list)
    """What each connection sent, in the order the connections came."""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.sessions.append([])
        try:
            await self._converse(reader, writer, self.sessions[-1])
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def _converse(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, session: list[str]
    ) -> None:
        if self.script.greeting is None:
            await reader.read()
            return
        await asyncio.sleep(self.script.greeting_delay)
        writer.write(self.script.greeting.encode() + b"\r\n")
        await writer.drain()
        if self.script.close_after_greeting:
            return
        tls_on = False
        while line := (await reader.readline()).decode().strip():
            self.received.append(line)
            session.append(line)
            reply, start_tls, done = self._reply(line, tls_on)
            writer.write(reply)
            await writer.drain()
            if start_tls:
                if self.script.inject:
                    await reader.read()
                    return
                if not self.script.runs_pipelined:
                    getattr(reader, "_buffer").clear()  # noqa: B009 (no public way to discard)
                await writer.start_tls(self.script.tls)
                tls_on = True
            if done:
                return

    def _reply(self, line: str, tls_on: bool) -> tuple[bytes, bool, bool]:
        """(bytes to send, start TLS now, hang up)."""
        reply = {"SMTP": _smtp_reply, "IMAP": _imap_reply, "POP3": _pop3_reply}[self.protocol]
        return reply(self.script, line, tls_on)


def _lines(*lines: str) -> bytes:
    return "".join(f"{line}\r\n" for line in lines).encode()


def _smtp_reply(script: Script, line: str, tls_on: bool) -> tuple[bytes, bool, bool]:
    verb = line.split(" ", 1)[0].upper()
    if verb == "EHLO":
        caps = ["250-scripted"]
        if script.starttls and not tls_on:
            caps.append("250-STARTTLS")
        if tls_on or script.auth_before_tls:
            caps.append("250-AUTH PLAIN LOGIN")
        return _lines(*caps, "250 8BITMIME"), False, False
    if verb == "STARTTLS" and script.starttls and not tls_on:
        return _lines("220 Ready to start TLS") + script.inject, True, False
    if verb == "QUIT":
        return _lines("221 Bye"), False, True
    return _lines("502 Command not implemented"), False, False


def _imap_reply(script: Script, line: str, tls_on: bool) -> tuple[bytes, bool, bool]:
    tag, _, command = line.partition(" ")
    command = command.upper()
    if command == "CAPABILITY":
        caps = ["IMAP4rev1"]
        if script.starttls and not tls_on:
            caps.append("STARTTLS")
        caps.append("AUTH=PLAIN" if tls_on or script.auth_before_tls else "LOGINDISABLED")
        return _lines(f"* CAPABILITY {' '.join(caps)}", f"{tag} OK done"), False, False
    if command == "STARTTLS" and script.starttls and not tls_on:
        return _lines(f"{tag} OK Begin TLS") + script.inject, True, False
    if command == "LOGOUT":
        return _lines("* BYE", f"{tag} OK bye"), False, True
    return _lines(f"{tag} BAD unknown"), False, False


def _pop3_reply(script: Script, line: str, tls_on: bool) -> tuple[bytes, bool, bool]:
    command = line.upper()
    if command == "CAPA":
        caps = ["TOP", "UIDL"]
        if script.starttls and not tls_on:
            caps.append("STLS")
        if tls_on or script.auth_before_tls:
            caps += ["USER", "SASL PLAIN"]
        return _lines("+OK", *caps, "."), False, False
    if command == "STLS" and script.starttls and not tls_on:
        return _lines("+OK Begin TLS") + script.inject, True, False
    if command == "QUIT":
        return _lines("+OK bye"), False, True
    return _lines("-ERR unknown"), False, False


@contextlib.asynccontextmanager
async def scripted_server(
    address: str, port: int, protocol: str, script: Script, implicit: bool = False
) -> AsyncIterator[ScriptedServer]:
    """Run a ScriptedServer on address:port (implicit TLS with `script.tls` if asked)."""
    server = ScriptedServer(protocol, script)
    ssl_context = script.tls if implicit else None
    listener = await asyncio.start_server(server.handle, address, TEST_PORTS[port], ssl=ssl_context)
    try:
        yield server
    finally:
        listener.close()
        await listener.wait_closed()


@contextlib.contextmanager
def openssl_server(
    address: str, port: int, certs: Certs, name: str, *options: str
) -> Iterator[None]:
    """`openssl s_server` with a good certificate for `name` and extra `options` (it ends a
    failed handshake with a real TLS alert, which an asyncio server cuts off with a reset)."""
    pem = certs.folder / f"s_server-{name}.pem"
    certs.ca.issue_cert(name).private_key_and_cert_chain_pem.write_to_path(str(pem))
    command = ["openssl", "s_server", "-quiet", "-accept", f"{address}:{TEST_PORTS[port]}"]
    server = subprocess.Popen(
        [*command, "-cert", str(pem), *options],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection((address, TEST_PORTS[port]), timeout=0.2),
            ):
                break
            time.sleep(0.05)
        yield
    finally:
        server.kill()
        server.wait()


@contextlib.contextmanager
def filtered_port(address: str, port: int) -> Iterator[None]:
    """A port whose SYNs go unanswered, like a firewall that drops: a listener that never
    accepts, with its accept queue already full."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((address, TEST_PORTS[port]))
    listener.listen(0)
    fillers: list[socket.socket] = []
    try:
        for _ in range(2):
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect((address, TEST_PORTS[port]))
            fillers.append(filler)
        yield
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


@dataclass
class Recorder:
    """Plain listeners that count every connection they get."""

    connections: int = 0
    servers: list[asyncio.Server] = field(default_factory=list)

    async def _count(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        writer.close()

    async def listen(self, address: str, port: int) -> None:
        self.servers.append(await asyncio.start_server(self._count, address, TEST_PORTS[port]))

    async def close(self) -> None:
        for server in self.servers:
            server.close()
            await server.wait_closed()


@contextlib.asynccontextmanager
async def https_server(
    address: str, context: ssl.SSLContext, pages: dict[str, tuple[int, str, str]]
) -> AsyncIterator[list[str]]:
    """A real HTTPS server (aiohttp) on `address` and 443's test stand-in, serving `pages`
    ({path: (status, body, content type)}; a 302 redirects elsewhere); yields what was asked
    for: the path of a GET, `POST <path> <body>` for a POST."""
    asked: list[str] = []

    async def serve(request: web.Request) -> web.Response:
        if request.method == "POST":
            asked.append(f"POST {request.path} {await request.text()}")
        else:
            asked.append(request.path)
        status, body, kind = pages[request.path]
        if status == 302:
            raise web.HTTPFound("https://elsewhere.example.net/")
        return web.Response(status=status, body=body.encode(), content_type=kind)

    app = web.Application()
    for path in pages:
        app.router.add_route("*", path, serve)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, address, TEST_PORTS[HTTPS_PORT], ssl_context=context).start()
    try:
        yield asked
    finally:
        await runner.cleanup()
