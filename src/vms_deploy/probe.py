"""`vms-deploy probe`: verify a real site from outside, against its plan.

Run from any machine outside the site (a laptop on a phone hotspot, a cloud VM, a CI runner). It
tries every port forward of the site's public address and a set of ports that must be closed there
(management SSH/WinRM, RDP, SMB, every catalog or plan port that is not forwarded), and compares what
answers with what the plan says, port by port, with the plan rule that explains each expectation.
Expectations come from the one evaluator (vms_deploy.evaluate); this module only decides which ports
to try, tries them, and reports.

Bounded by design: it only ever connects to the plan's public address (`--address` may name that
address, or with `--lab` a loopback/private address of a test lab), every attempt has a short
time-out, ranges are sampled, and the total number of attempts is capped before anything is sent.

What a result can prove (docs/cli.md, "probe"):
* TCP: a completed handshake is "open"; a reset or a time-out is "closed" (refused or filtered).
* UDP: a reply proves "open"; an ICMP port-unreachable proves "closed"; silence proves nothing (a
  firewall drop and a service that ignores an unknown datagram look the same), so an expected-open
  UDP port that stays silent is "inconclusive", never a pass, and an expected-closed one passes with
  that caveat.
* The prober's own address: forwards may admit only an allow-list. Without `--source` the probe does
  not assume it is inside any allow-list: a port whose verdict differs between an address inside
  and one outside the allow-list is expected "open or filtered depending on your address", and
  either answer matches.
"""
from __future__ import annotations

import datetime
import errno
import ipaddress
import json
import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vms_deploy.evaluate import Verdict

# Ports that must never answer on a site's public address unless the plan forwards them: remote
# administration and Windows file sharing are the classic ways in.
ALWAYS_CLOSED = (
    ("tcp", 22, "management SSH"),
    ("tcp", 445, "SMB (Windows file sharing)"),
    ("tcp", 3389, "RDP (Remote Desktop)"),
    ("tcp", 5985, "management WinRM HTTP"),
    ("tcp", 5986, "management WinRM HTTPS"),
)
DEFAULT_TIMEOUT = 2.0
MAX_TIMEOUT = 10.0
DEFAULT_MAX_ATTEMPTS = 300
HARD_MAX_ATTEMPTS = 2000
DEFAULT_WORKERS = 16
# A range wider than this is sampled (first, middle, last) instead of tried port by port.
RANGE_FULL_LIMIT = 16
EXIT_OK, EXIT_DIFF, EXIT_USAGE = 0, 1, 2

OPEN, CLOSED, DEPENDS, SILENT = "open", "closed", "depends", "no answer"
STATUS_OK, STATUS_DIFF, STATUS_INCONCLUSIVE = "ok", "DIFF", "inconclusive"
EXPECTED_TEXT = {OPEN: "open", CLOSED: "closed", DEPENDS: "open or filtered depending on your address"}


class ProbeError(ValueError):
    """Bad input for a probe (no public address, an address it may not try, too many attempts)."""


@dataclass
class Check:
    """One port to try on the public address, and why it is in the list."""
    protocol: str
    port: int
    kind: str  # "forward" or "must be closed"
    service: str  # forward name, catalog service, or the reason it must be closed
    expected: str = CLOSED
    rule: str = ""  # the plan rule (or missing rule) that explains the expectation
    steps: list[str] = field(default_factory=list)
    actual: str = ""
    detail: str = ""
    attempts: int = 0
    status: str = ""


# ----------------------------------------------------------------------------- what to try
def _ports_to_try(ports: list[int] | tuple[int, int]) -> list[int]:
    low, high = int(ports[0]), int(ports[1])
    if high - low + 1 <= RANGE_FULL_LIMIT:
        return list(range(low, high + 1))
    return sorted({low, (low + high) // 2, high})


def _protocols(protocol: str) -> list[str]:
    return ["tcp", "udp"] if protocol == "tcp+udp" else [protocol]


def build_checks(plan: dict[str, Any]) -> list[Check]:
    """Every forward's external ports, then every port that must be closed on the public address."""
    checks: dict[tuple[str, int], Check] = {}
    for fwd in plan.get("forwards") or []:
        for port in _ports_to_try(fwd["external_ports"]):
            checks.setdefault((fwd["protocol"], port), Check(fwd["protocol"], port, "forward", fwd["name"]))
    forwarded = {(f["protocol"], p) for f in plan.get("forwards") or []
                 for p in range(f["external_ports"][0], f["external_ports"][1] + 1)}

    def closed(protocol: str, port: int, why: str) -> None:
        if (protocol, port) not in forwarded:
            checks.setdefault((protocol, port), Check(protocol, port, "must be closed", why))

    for protocol, port, why in ALWAYS_CLOSED:
        closed(protocol, port, why)
    # Every port the product's catalog knows, then every port the plan opens on a host (custom
    # services, overrides): none of them may answer on the public address unless forwarded.
    for svc in _catalog_services(plan.get("product")):
        for protocol in _protocols(svc.protocol):
            for port in _ports_to_try(svc.ports):
                closed(protocol, port, f"catalog port ({svc.component}: {svc.name})")
    for name, host in sorted((plan.get("hosts") or {}).items()):
        for rule in host.get("inbound") or []:
            for port in _ports_to_try(rule["ports"]):
                closed(rule["protocol"], port, f"opened on {name} ({rule.get('component')}: {rule.get('service')})")
    order = {"forward": 0, "must be closed": 1}
    return sorted(checks.values(), key=lambda c: (order[c.kind], c.protocol, c.port))


def _catalog_services(product: str | None) -> list:
    from vms_deploy.catalog import PRODUCTS, load_catalog

    if product not in PRODUCTS:
        return []
    return sorted(load_catalog(product).services().values(), key=lambda s: (s.ports, s.name))


# ----------------------------------------------------------------------------- the prober's address
def _site_networks(plan: dict[str, Any]) -> list:
    return [ipaddress.ip_network(c, strict=False) for zone, cidrs in (plan.get("zones") or {}).items()
            if zone != "internet" for c in cidrs]


def _sample_in(net, avoid: list) -> str | None:
    """An address of `net` outside every network in `avoid`: a stand-in for "someone there"."""
    if net.prefixlen >= 31:
        candidates = list(net)
    elif net.prefixlen >= 8:
        candidates = [net.network_address + 1, net.broadcast_address - 1, net.network_address + net.num_addresses // 2]
    else:  # a very wide allow-list (0.0.0.0/0): one address per /8 that it holds
        first = int(net.network_address) >> 24
        candidates = [ipaddress.ip_address(((first + i) << 24) + 1)
                      for i in range(1, min(net.num_addresses >> 24, 224))]
    for ip in candidates:
        if ip in net and not ip.is_multicast and not ip.is_unspecified and not any(ip in a for a in avoid):
            return str(ip)
    return None


def source_samples(plan: dict[str, Any]) -> list[tuple[str, str]]:
    """[(address, what it stands for)]: one Internet address inside each allow-list and one outside all.

    Used when the prober's own address is unknown: a port expected the same for every sample has a
    definite expectation; otherwise it depends on where the prober is.
    """
    site = _site_networks(plan)
    allowlists = sorted({c for f in plan.get("forwards") or [] for c in f.get("sources") or []})
    samples = []
    for cidr in allowlists:
        address = _sample_in(ipaddress.ip_network(cidr, strict=False), site)
        if address:
            samples.append((address, f"an address in {cidr}"))
    everything = [ipaddress.ip_network(c, strict=False) for c in allowlists] + site
    outside = _sample_in(ipaddress.ip_network("0.0.0.0/0"), everything)
    if outside:
        samples.append((outside, "an address outside every allow-list"))
    return samples or [("0.0.0.1", "an Internet address")]


def _explain(verdict: Verdict) -> str:
    if verdict.allowed and verdict.rules:
        rule = verdict.rules[0]
        return f"forward {rule['name']}" if "external_ports" in rule else (rule.get("service") or verdict.steps[-1])
    return "; ".join(verdict.steps) or verdict.summary


def expect(plan: dict[str, Any], checks: list[Check], source: str | None) -> None:
    """Fill each check's expectation from the evaluator, for `source` or for every sample source."""
    # The one "is this allowed" of the project; imported here so building the CLI parser needs none of it.
    from vms_deploy.evaluate import evaluate

    public = plan["edge"]["public_address"]
    samples = [(source, "your address")] if source else source_samples(plan)
    for check in checks:
        verdicts = [(what, evaluate(plan, address, public, check.port, check.protocol)) for address, what in samples]
        allowed = {v.allowed for _, v in verdicts}
        first = verdicts[0][1]
        if allowed == {True}:
            check.expected, check.rule, check.steps = OPEN, _explain(first), first.steps
        elif allowed == {False}:
            check.expected, check.rule, check.steps = CLOSED, _explain(first), first.steps
        else:
            yes = [what for what, v in verdicts if v.allowed]
            opener = next(v for _, v in verdicts if v.allowed)
            check.expected = DEPENDS
            check.rule = f"{_explain(opener)}: open from {', '.join(yes)} only"
            check.steps = [f"from {what}: {'allowed' if v.allowed else 'denied'}: {'; '.join(v.steps)}"
                           for what, v in verdicts]


# ----------------------------------------------------------------------------- trying ports
def try_tcp(address: str, port: int, timeout: float) -> tuple[str, str]:
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return OPEN, "connected (handshake completed)"
    except TimeoutError:
        return CLOSED, f"no answer in {timeout:g} s (filtered)"
    except ConnectionRefusedError:
        return CLOSED, "refused (reset)"
    except OSError as exc:
        return CLOSED, f"{errno.errorcode.get(exc.errno, 'error')}: {exc.strerror or exc}"


def try_udp(address: str, port: int, timeout: float) -> tuple[str, str]:
    """A datagram out; a reply is open, an ICMP port-unreachable is closed, silence is unknown."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect((address, port))  # connected: the kernel reports ICMP errors to us
            sock.send(b"vms-deploy probe\n")
            sock.recv(512)
            return OPEN, "answered"
        except TimeoutError:
            return SILENT, f"no answer in {timeout:g} s (dropped, or the service ignores unknown datagrams)"
        except ConnectionRefusedError:
            return CLOSED, "ICMP port unreachable"
        except OSError as exc:
            return CLOSED, f"{errno.errorcode.get(exc.errno, 'error')}: {exc.strerror or exc}"


def judge(check: Check) -> str:
    if check.expected == DEPENDS:
        return STATUS_OK
    if check.actual == SILENT:  # UDP only
        return STATUS_INCONCLUSIVE if check.expected == OPEN else STATUS_OK
    return STATUS_OK if check.actual == check.expected else STATUS_DIFF


def run_checks(address: str, checks: list[Check], timeout: float, tries: int, max_attempts: int,
               workers: int = DEFAULT_WORKERS) -> None:
    """Try every check (in parallel); an expected-open port that does not answer is tried again, up
    to `tries` times, while the run's budget of `max_attempts` lasts."""
    spare = {"left": max_attempts - len(checks)}  # attempts left for retries, shared by the workers
    lock = threading.Lock()

    def retry_allowed() -> bool:
        with lock:
            if spare["left"] <= 0:
                return False
            spare["left"] -= 1
            return True

    def one(check: Check) -> None:
        attempt = try_tcp if check.protocol == "tcp" else try_udp
        check.attempts = 1
        check.actual, check.detail = attempt(address, check.port, timeout)
        while (check.actual != OPEN and check.expected != CLOSED and check.attempts < tries
               and retry_allowed()):
            check.attempts += 1
            check.actual, check.detail = attempt(address, check.port, timeout)
        check.status = judge(check)

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(checks)))) as pool:
        list(pool.map(one, checks))


# ----------------------------------------------------------------------------- guard rails
def target_address(plan: dict[str, Any], override: str | None, lab: bool) -> str:
    """The one address the probe may try: the plan's public address (or, with --lab, a lab address)."""
    public = (plan.get("edge") or {}).get("public_address")
    if not public:
        raise ProbeError(f"site {plan.get('site')!r} has no public address in its plan (vms_public_address on "
                         "the edge host, or site-wide): there is nothing to probe from outside")
    if override is None or override == public:
        return public
    try:
        ip = ipaddress.ip_address(override)
    except ValueError:
        raise ProbeError(f"--address {override!r} is not an IPv4 address") from None
    if not lab:
        raise ProbeError(f"--address {override} is not the site's public address {public} (from the plan): the "
                         "probe only tries the site's own address. For a test lab, add --lab")
    if not (ip.is_loopback or ip.is_private) or ip.is_unspecified:
        raise ProbeError(f"--lab --address {override}: a lab address must be loopback or private "
                         "(RFC 1918); a public address other than the site's is never probed")
    return override


def check_options(source: str | None, timeout: float, tries: int, max_attempts: int) -> None:
    if source is not None:
        try:
            if ipaddress.ip_address(source).version != 4:
                raise ValueError
        except ValueError:
            raise ProbeError(f"--source {source!r} is not an IPv4 address: give your public address as the site "
                             "sees it, or leave --source out") from None
    if not 0 < timeout <= MAX_TIMEOUT:
        raise ProbeError(f"--timeout {timeout:g}: use more than 0 and at most {MAX_TIMEOUT:g} seconds")
    if not 1 <= tries <= 5:
        raise ProbeError(f"--tries {tries}: use 1 to 5")
    if not 1 <= max_attempts <= HARD_MAX_ATTEMPTS:
        raise ProbeError(f"--max-attempts {max_attempts}: use 1 to {HARD_MAX_ATTEMPTS}")


# ----------------------------------------------------------------------------- reports
def report_dict(plan: dict[str, Any], address: str, source: str | None, checks: list[Check],
                started: str, seconds: float, timeout: float) -> dict[str, Any]:
    counts = {s: sum(c.status == s for c in checks) for s in (STATUS_OK, STATUS_DIFF, STATUS_INCONCLUSIVE)}
    return {
        "site": plan.get("site"), "public_address": plan["edge"]["public_address"], "address": address,
        "source": source or "unknown (not assumed to be in any allow-list)",
        "started": started, "seconds": round(seconds, 2), "timeout": timeout,
        "attempts": sum(c.attempts for c in checks), "summary": counts,
        "result": "differences" if counts[STATUS_DIFF] else "matches the plan",
        "checks": [dict(asdict(c), expected_text=EXPECTED_TEXT[c.expected]) for c in checks],
    }


def render_text(doc: dict[str, Any]) -> str:
    head = (f"probe of site {doc['site']} at {doc['address']} from {doc['source']}: {doc['result']} "
            f"({doc['summary']['ok']} ok, {doc['summary']['DIFF']} different, "
            f"{doc['summary']['inconclusive']} inconclusive; {doc['attempts']} attempts in {doc['seconds']:g} s)")
    lines = [head,
             f"  {'port':<10} {'kind':<15} {'expected':<12} {'actual':<10} {'':<12} why (plan)"]
    for c in doc["checks"]:
        expected = "depends" if c["expected"] == DEPENDS else c["expected"]
        lines.append(f"  {c['protocol'] + '/' + str(c['port']):<10} {c['kind']:<15} {expected:<12} {c['actual']:<10} "
                     f"{c['status']:<12} {c['service']}: {c['rule']}")
    if any(c["expected"] == DEPENDS for c in doc["checks"]):
        lines.append("  depends = open or filtered depending on your address (pass --source YOUR_PUBLIC_ADDRESS)")
    return "\n".join(lines) + "\n"


def render_markdown(doc: dict[str, Any]) -> str:
    out = [f"# Outside-in probe of site `{doc['site']}`", "",
           f"- address probed: `{doc['address']}` (plan's public address `{doc['public_address']}`)",
           f"- prober's address: {doc['source']}",
           (f"- started {doc['started']}, {doc['attempts']} attempts in {doc['seconds']:g} s, time-out "
            f"{doc['timeout']:g} s each"),
           (f"- result: **{doc['result']}** ({doc['summary']['ok']} ok, {doc['summary']['DIFF']} different, "
            f"{doc['summary']['inconclusive']} inconclusive)"), ""]
    diffs = [c for c in doc["checks"] if c["status"] != STATUS_OK]
    if diffs:
        out += ["## Needs attention", ""]
        for c in diffs:
            out.append(f"- **{c['protocol']}/{c['port']}** ({c['service']}): expected {c['expected_text']}, "
                       f"found {c['actual']} ({c['detail']}). Plan: {'; '.join(c['steps']) or c['rule']}")
        out.append("")
    out += ["## Every port", "", "| port | kind | expected | actual | status | plan rule | detail |",
            "| --- | --- | --- | --- | --- | --- | --- |"]
    for c in doc["checks"]:
        cells = [f"{c['protocol']}/{c['port']}", c["kind"], c["expected_text"], c["actual"], c["status"],
                 f"{c['service']}: {c['rule']}", c["detail"]]
        out.append("| " + " | ".join(str(x).replace("|", "\\|") for x in cells) + " |")
    return "\n".join(out) + "\n"


# ----------------------------------------------------------------------------- the command
def probe_site(plan: dict[str, Any], *, source: str | None = None, address: str | None = None, lab: bool = False,
               timeout: float = DEFAULT_TIMEOUT, tries: int = 2, max_attempts: int = DEFAULT_MAX_ATTEMPTS,
               workers: int = DEFAULT_WORKERS) -> dict[str, Any]:
    """Plan in, report dict out (see report_dict). Raises ProbeError before sending anything on bad input."""
    check_options(source, timeout, tries, max_attempts)
    target = target_address(plan, address, lab)
    checks = build_checks(plan)
    if len(checks) > max_attempts:
        raise ProbeError(f"site {plan.get('site')} needs {len(checks)} attempts, more than --max-attempts "
                         f"{max_attempts}: raise --max-attempts (at most {HARD_MAX_ATTEMPTS})")
    expect(plan, checks, source)
    started = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    begin = time.monotonic()
    run_checks(target, checks, timeout, tries, max_attempts, workers)
    return report_dict(plan, target, source, checks, started, time.monotonic() - begin, timeout)


def write_reports(doc: dict[str, Any], out: str) -> list[str]:
    os.makedirs(out, exist_ok=True)
    paths = [os.path.join(out, "probe.json"), os.path.join(out, "probe.md")]
    with open(paths[0], "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=2, sort_keys=True)
        fh.write("\n")
    with open(paths[1], "w", encoding="utf-8") as fh:
        fh.write(render_markdown(doc))
    return paths


def add_arguments(parser) -> None:
    parser.add_argument("target", help="site inventory or plan.json")
    parser.add_argument("--source", help="your public address as the site sees it (default: unknown; ports behind "
                                         "an allow-list are then expected open or filtered)")
    parser.add_argument("--address", help="address to probe: only the plan's public address, or with --lab a "
                                          "loopback/private lab address (default: the plan's public address)")
    parser.add_argument("--lab", action="store_true", help="allow --address to be a loopback or private lab address")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help="seconds per attempt (default %(default)s, at most 10)")
    parser.add_argument("--tries", type=int, default=2,
                        help="attempts for an expected-open port that does not answer (default %(default)s)")
    parser.add_argument("--max-attempts", type=int, default=DEFAULT_MAX_ATTEMPTS,
                        help="refuse to start when the site needs more attempts (default %(default)s)")
    parser.add_argument("--out", help="directory for probe.json and probe.md (default build/probe/SITE)")
    parser.add_argument("--format", choices=("text", "json", "markdown"), default="text", help="printed output")


def run(args, plan: dict[str, Any]) -> int:
    """`vms-deploy probe`: 0 the site matches the plan, 1 a difference, 2 bad input (ProbeError)."""
    doc = probe_site(plan, source=args.source, address=args.address, lab=args.lab, timeout=args.timeout,
                     tries=args.tries, max_attempts=args.max_attempts)
    out = args.out or os.path.join("build", "probe", str(plan.get("site")))
    paths = write_reports(doc, out)
    if args.format == "json":
        print(json.dumps(doc, indent=2, sort_keys=True))
    elif args.format == "markdown":
        print(render_markdown(doc), end="")
    else:
        print(render_text(doc), end="")
        print(f"wrote {paths[0]} and {paths[1]}")
    return EXIT_DIFF if doc["summary"][STATUS_DIFF] else EXIT_OK
