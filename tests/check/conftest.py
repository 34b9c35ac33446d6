"""Fixtures for the live-check tests: a test CA, settings that allow 127.0.0.0/8 only, a fixed
DNS table (no test touches the network or any address outside 127.0.0.0/8)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
import trustme
from check_servers import LOOPBACK, Certs
from loopback_ports import TEST_PORTS

from bot.check import Checker
from bot.check.guard import StaticResolver
from bot.settings import Settings

# name -> address of the test servers (127.0.0.30 is the private Postfix and Dovecot).
HOSTS = {
    "mail.example.net": "127.0.0.30",
    "smtp.good.example.net": "127.0.0.2",
    "smtp.selfsigned.example.net": "127.0.0.3",
    "smtp.expired.example.net": "127.0.0.4",
    "smtp.wrongname.example.net": "127.0.0.5",
    "smtp.unknownca.example.net": "127.0.0.6",
    "imap.scripted.example.net": "127.0.0.7",
    "pop.scripted.example.net": "127.0.0.8",
    "smtp.silent.example.net": "127.0.0.10",
    "smtp.slow.example.net": "127.0.0.11",
    "smtp.plain.example.net": "127.0.0.12",
    "smtp.authfirst.example.net": "127.0.0.13",
    "smtp.inject.example.net": "127.0.0.14",
    "smtp.closed.example.net": "127.0.0.15",
    "smtp.filtered.example.net": "127.0.0.16",
    "smtp.hangup.example.net": "127.0.0.17",
    "smtp.alone.example.net": "127.0.0.18",
    "smtp.private.example.net": "127.0.0.18",
    "smtp.chained.example.net": "127.0.0.18",
}


def dns_table() -> dict[str, dict[str, list[str]]]:
    """The fixed DNS the tests resolve against."""
    return {name: {"A": [address]} for name, address in HOSTS.items()}


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    folder = tmp_path_factory.mktemp("certs")
    ca = trustme.CA()
    cafile = folder / "ca.pem"
    ca.cert_pem.write_to_path(str(cafile))
    return Certs(ca, cafile, folder)


@pytest.fixture
def settings(certs: Certs) -> Settings:
    return Settings(
        allow_cidrs=LOOPBACK,
        check_ca_file=certs.cafile,
        check_connect_timeout=2.0,
        check_step_timeout=3.0,
        check_deadline=8.0,
        check_cache_ttl=0.0,
    )


@pytest.fixture
def resolver() -> StaticResolver:
    return StaticResolver(dns_table())


@pytest.fixture
def make_checker(settings: Settings, resolver: StaticResolver) -> Callable[..., Checker]:
    """A checker on the test DNS; keyword arguments override settings."""

    def make(**overrides: object) -> Checker:
        return Checker(
            dataclasses.replace(settings, **overrides), resolver=resolver, dial=TEST_PORTS
        )

    return make


@pytest.fixture
def checker(make_checker: Callable[..., Checker]) -> Checker:
    return make_checker()
