"""Run a check: validate the request, serve it from the cache or under the user's rate limit
and the global concurrency cap, resolve once, then probe every vetted address and port
concurrently under one deadline."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.check import mtasts
from bot.check.errors import CheckInputError, CheckLimited, CheckRefused
from bot.check.guard import DnsResolver, Guard, Host, MxHost, Resolver, Target
from bot.check.ports import PORTS, optional_ports, parse_ports
from bot.check.probe import ProbeConfig, probe
from bot.check.report import AddressInfo, CheckReport, DomainPolicy, HostResult, RefusedAddress
from bot.check.session import Limits
from bot.check.tls import make_contexts
from bot.check.verdict import apply_dane, apply_policy, judge_host, optional, overall
from bot.settings import Settings
from bot.store import Store

# A queued check waits this many check deadlines for a free slot before "busy": long enough for
# one full wave of running checks to finish.
QUEUE_DEADLINES = 2


@dataclass(frozen=True, slots=True)
class CheckRequest:
    """A validated request: a clean host, allowed ports, MX mode."""

    host: Host
    ports: tuple[int, ...]
    mx: bool
    optional: tuple[int, ...] = ()
    """Unofficial ports that only `all` asked for: nothing listening there is no failure."""

    @property
    def cache_key(self) -> str:
        """The per-target cache key."""
        ports = ",".join(str(p) for p in self.ports)
        extra = "".join(f"?{p}" for p in self.optional)
        return f"check:{self.host.name}:{ports}{extra}:{'mx' if self.mx else 'host'}"

    def describe(self) -> str:
        """`smtp.example.com (25, 465, 587)` or `example.com MX (25)`."""
        ports = ", ".join(str(p) for p in self.ports)
        return f"{self.host.display}{' MX' if self.mx else ''} ({ports})"


class Checker:
    """The live checker. Make one per process: it holds the concurrency cap and TLS contexts."""

    def __init__(
        self,
        settings: Settings,
        store: Store | None = None,
        resolver: Resolver | None = None,
        dial: Mapping[int, int] | None = None,
    ) -> None:
        """`resolver` and `dial` (see `Guard.connect`) let tests and benchmarks stand in for
        DNS and for the port numbers their real servers listen on."""
        self.settings = settings
        self.store = store
        contexts = make_contexts(settings.check_ca_file)
        self.guard = Guard(
            resolver or DnsResolver(settings.check_step_timeout),
            settings.allow_cidrs,
            dial,
            https=contexts.verifying,
        )
        self._slots = asyncio.Semaphore(settings.check_concurrency)
        self._running: dict[str, asyncio.Future[CheckReport]] = {}
        self._config = ProbeConfig(
            guard=self.guard,
            contexts=contexts,
            limits=Limits(
                settings.check_connect_timeout, settings.check_step_timeout, settings.check_deadline
            ),
            helo_name=settings.helo_name,
        )

    def prepare(self, host: str, ports: Sequence[str] = (), mx: bool = False) -> CheckRequest:
        """Validate user text; raises CheckInputError with a message for the user, CheckRefused
        for an IP literal the guard will not connect to (decided here, before any DNS)."""
        clean = self.guard.clean(host)
        if mx and clean.ip is not None:
            raise CheckInputError("--mx needs a domain name, not an IP address.")
        words = tuple(ports)
        request = CheckRequest(clean, parse_ports(words, clean.name, mx), mx, optional_ports(words))
        refused = self.guard.refused(clean)
        if refused:
            raise CheckRefused(refused)
        return request

    async def cached(self, request: CheckRequest) -> CheckReport | None:
        """A recent report for the same target, if the cache holds one."""
        return await self.report_for(request.cache_key)

    async def report_for(self, ref: str) -> CheckReport | None:
        """A cached report by its `ref` (the value of the Details button), if still cached."""
        if self.store is None or self.settings.check_cache_ttl <= 0 or not ref.startswith("check:"):
            return None
        text = await self.store.cache_get(ref)
        if text is None:
            return None
        report = CheckReport.from_dict(json.loads(text))
        report.cached = True
        return report

    async def run(
        self, request: CheckRequest, user: str | None = None, team: str | None = None
    ) -> CheckReport:
        """A report: cached if recent, the running check of the same target if there is one,
        else a new live check, charged to `user`'s and their workspace's (`team`) limits."""
        report = await self.cached(request)
        if report is not None:
            return report
        key = request.cache_key
        if key not in self._running:
            await self._charge(user, team)
        running = self._running.get(key)
        if running is None:
            running = asyncio.ensure_future(self._queued(request))
            self._running[key] = running
            running.add_done_callback(lambda _: self._running.pop(key, None))
        return await asyncio.shield(running)

    async def _queued(self, request: CheckRequest) -> CheckReport:
        """Wait for a slot under the concurrency cap, check, cache."""
        await self._take_slot()
        try:
            report = await self.live(request)
        finally:
            self._slots.release()
        if self.store is not None and self.settings.check_cache_ttl > 0:
            report.ref = request.cache_key
            await self.store.cache_put(
                request.cache_key, json.dumps(report.to_dict()), self.settings.check_cache_ttl
            )
        return report

    async def _take_slot(self) -> None:
        """Acquire a slot within QUEUE_DEADLINES deadlines, or raise CheckLimited. (Not
        `wait_for`: on 3.11 it can time out a completed acquire and lose the slot.)"""
        waiter = asyncio.ensure_future(self._slots.acquire())
        try:
            done, _ = await asyncio.wait(
                {waiter}, timeout=QUEUE_DEADLINES * self.settings.check_deadline
            )
        except asyncio.CancelledError:
            if not waiter.cancel():
                self._slots.release()
            raise
        if not done and waiter.cancel():
            raise CheckLimited("The checker is busy; try again in a minute.")

    async def check(
        self,
        host: str,
        ports: Sequence[str] = (),
        mx: bool = False,
        user: str | None = None,
        team: str | None = None,
    ) -> CheckReport:
        """`prepare` then `run`."""
        return await self.run(self.prepare(host, ports, mx), user, team)

    async def _charge(self, user: str | None, team: str | None) -> None:
        """Take one check from the user's budget, then from the workspace's."""
        if self.store is None:
            return
        window = self.settings.check_user_window
        minutes = max(1, round(window / 60))
        limit = self.settings.check_user_limit
        if user and not await self.store.allow(f"check-user:{user}", limit, window):
            raise CheckLimited(
                f"You have run {limit} live checks in the last {minutes} minutes; "
                "please wait a little."
            )
        limit = self.settings.check_team_limit
        if team and not await self.store.allow(f"check-team:{team}", limit, window):
            raise CheckLimited(
                f"This workspace has run {limit} live checks in the last {minutes} minutes; "
                "please wait a little."
            )

    async def live(self, request: CheckRequest) -> CheckReport:
        """Resolve, vet and probe now, with no cache, rate limit or concurrency cap."""
        started = time.perf_counter()
        deadline = asyncio.get_running_loop().time() + self.settings.check_deadline
        report = CheckReport(
            query=request.host.display,
            ports=list(request.ports),
            mx=request.mx,
            checked_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        )
        targets = await self._targets(request, report, deadline)
        hosts = asyncio.gather(*(self._host(target, request, deadline) for target in targets))
        if request.mx and targets:
            mx_names = [target.host.name for target, _ in targets]
            report.hosts, report.policy = await asyncio.gather(
                hosts, self._policy(request.host, mx_names, deadline)
            )
            apply_policy(report)
        else:
            report.hosts = await hosts
        report.verdict = overall(report)
        report.ms = round((time.perf_counter() - started) * 1000, 1)
        return report

    async def _targets(
        self, request: CheckRequest, report: CheckReport, deadline: float
    ) -> list[tuple[Target, int | None]]:
        try:
            async with asyncio.timeout_at(deadline):
                if not request.mx:
                    return [(await self.guard.resolve(request.host), None)]
                lookup = await self.guard.mx(request.host)
                report.notes.extend(n for n in (lookup.note, lookup.error) if n)
                return list(await asyncio.gather(*(self._mx_target(h) for h in lookup.hosts)))
        except TimeoutError:
            report.notes.append("DNS did not answer within the check's time limit.")
            return []

    async def _policy(self, domain: Host, mx_names: list[str], deadline: float) -> DomainPolicy:
        """The domain's MTA-STS and TLS-RPT, found while its MX hosts are probed."""
        try:
            async with asyncio.timeout_at(deadline):
                return await mtasts.lookup(self.guard, domain, mx_names)
        except TimeoutError:
            late = "the MTA-STS lookup did not finish within the check's time limit"
            return DomainPolicy(domain.display, sts_problem=late)

    async def _mx_target(self, mx: MxHost) -> tuple[Target, int | None]:
        try:
            host = self.guard.clean(mx.name)
        except CheckInputError as exc:
            return Target(
                Host(mx.name, mx.name), error=f"MX {mx.name} is unusable: {exc}"
            ), mx.preference
        if host.ip is not None:
            error = f"MX {mx.name} is an IP address; an MX must name a host (RFC 5321)"
            return Target(host, error=error), mx.preference
        return await self.guard.resolve(host), mx.preference

    async def _host(
        self, item: tuple[Target, int | None], request: CheckRequest, deadline: float
    ) -> HostResult:
        target, preference = item
        host = HostResult(
            name=target.host.display,
            ascii_name=target.host.name,
            mx_preference=preference,
            dns_ms=target.dns_ms,
            refused=[RefusedAddress(r.address, r.reason) for r in target.refused],
            skipped=list(target.skipped),
            error=target.error,
        )
        host.verdict = judge_host(host)
        probes = [
            probe(self._config, target.host.name, address, PORTS[port], deadline)
            for address in target.addresses
            for port in request.ports
        ]
        ptrs = [self._address(address, deadline) for address in target.addresses]
        dane = request.mx and 25 in request.ports and bool(target.addresses)
        ports, addresses, (host.tlsa, host.tlsa_dnssec) = await asyncio.gather(
            asyncio.gather(*probes),
            asyncio.gather(*ptrs),
            self._tlsa(target.host.name, deadline) if dane else _no_tlsa(),
        )
        host.ports = [optional(r) if r.port in request.optional else r for r in ports]
        host.addresses = list(addresses)
        apply_dane(host)
        return host

    async def _tlsa(self, name: str, deadline: float) -> tuple[list[str], bool | None]:
        try:
            async with asyncio.timeout_at(deadline):
                return await self.guard.tlsa(name)
        except TimeoutError:
            return [], None

    async def _address(self, address: str, deadline: float) -> AddressInfo:
        try:
            async with asyncio.timeout_at(deadline):
                ptr, confirmed = await self.guard.ptr(address)
        except TimeoutError:
            return AddressInfo(address)
        return AddressInfo(address, ptr, confirmed)


async def _no_tlsa() -> tuple[list[str], bool | None]:
    return [], None
