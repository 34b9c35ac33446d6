"""A real DNS server for the tests: UDP on a 127.0.0.x address and a free port, answering
from a fixed zone table with dnspython's wire format (NXDOMAIN for names it does not hold,
an empty answer for a type a name lacks). The checker's real resolver queries it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

Zone = Mapping[str, Mapping[str, list[str]]]


class _Answers(asyncio.DatagramProtocol):
    def __init__(self, zone: Zone, signed: frozenset[str]) -> None:
        self.zone = {name.rstrip(".").lower(): records for name, records in zone.items()}
        self.signed = signed
        self.queries: list[tuple[str, str]] = []
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        query = dns.message.from_wire(data)
        response = dns.message.make_response(query)
        question = query.question[0]
        name = question.name.to_text().rstrip(".").lower()
        rdtype = dns.rdatatype.to_text(question.rdtype)
        self.queries.append((name, rdtype))
        if name in self.signed:  # as a validating resolver marks a DNSSEC-secure answer
            response.flags |= dns.flags.AD
        if name not in self.zone:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif self.zone[name].get(rdtype):
            response.answer.append(
                dns.rrset.from_text_list(
                    question.name, 300, dns.rdataclass.IN, question.rdtype, self.zone[name][rdtype]
                )
            )
        assert self.transport is not None
        self.transport.sendto(response.to_wire(), addr)


@contextlib.asynccontextmanager
async def dns_server(
    zone: Zone, address: str = "127.0.0.53", signed: frozenset[str] = frozenset()
) -> AsyncIterator[tuple[str, int]]:
    """Serve `zone` ({name: {type: [rdata text]}}), answers for `signed` names with the AD
    flag; yields (address, port)."""
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: _Answers(zone, signed), local_addr=(address, 0)
    )
    try:
        yield transport.get_extra_info("sockname")[:2]
    finally:
        transport.close()
