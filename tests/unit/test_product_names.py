"""Product traits are catalog data (issue 16, item 1): no code compares a product's name.

Only the catalogs (src/vms_deploy/catalogs/*.yml) and their loader (src/vms_deploy/catalog.py) may decide
anything by a product's name; everything else reads the product's traits (``catalog.TRAITS``, recorded in
the plan as ``traits``). This test reads every Python, YAML and Jinja file under src/, plugins/, roles/
and playbooks/ and fails on a comparison with a product name (==, !=, in, not in, is, case) or a
vms_product_<name> group in a host pattern, outside the ALLOWED list below, whose every entry says
why that product is truly special there.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from vms_deploy.catalog import PRODUCTS

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("src", "plugins", "roles", "playbooks")
SUFFIXES = {".py", ".yml", ".yaml", ".j2"}
EXEMPT = {"src/vms_deploy/catalog.py"}
EXEMPT_DIRS = ("src/vms_deploy/catalogs/",)

# (path, text of the line, why the product is truly special there). Keep it short; each entry a reason.
ALLOWED: list[tuple[str, str, str]] = []


def _name_pattern(names) -> str:
    return "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))


def patterns(names=PRODUCTS) -> list[re.Pattern]:
    name = _name_pattern(names)
    quoted = rf"""["']({name})["']"""
    return [
        # x == "valerus", x != 'xprotect', x is "generic_nvr" (Python and Jinja)
        re.compile(rf"(==|!=|\bis(\s+not)?)\s*{quoted}"),
        # "valerus" == x, 'xprotect' != x
        re.compile(rf"{quoted}\s*(==|!=)"),
        # "valerus" in x, 'xprotect' not in x
        re.compile(rf"{quoted}\s+(not\s+)?in\b"),
        # x in ("valerus", ...), x not in ['xprotect'], x in {"generic_nvr"}
        re.compile(rf"\bin\s*[\(\[{{][^\)\]}}]*{quoted}"),
        # match/case on a product name
        re.compile(rf"\bcase\s+{quoted}"),
        # a play or group pattern naming a product group (made by vms_plan_groups)
        re.compile(rf"\bvms_product_({name})\b"),
    ]


def offending_lines(text: str, names=PRODUCTS) -> list[tuple[int, str]]:
    """(line number, line) of every product-name comparison in the text; comment-only lines are skipped."""
    found = []
    pats = patterns(names)
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("#"):
            continue
        if any(p.search(line) for p in pats):
            found.append((number, stripped))
    return found


def _files():
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*")):
            rel = path.relative_to(ROOT).as_posix()
            if path.is_file() and path.suffix in SUFFIXES and rel not in EXEMPT and not rel.startswith(EXEMPT_DIRS):
                yield rel, path


@pytest.mark.parametrize("line", [
    'if plan.get("product") == "valerus":',
    "when: windows_install_plan.product == 'xprotect'",
    "{% if product != \"generic_nvr\" and remote_access == 'vpn' %}",
    "  hosts: vms_component_gateway:&vms_platform_linux:&vms_product_valerus",
    "if product in ('valerus', 'xprotect'):",
    "if 'generic_nvr' not in products:",
    "    case \"xprotect\":",
    "ok = 'valerus' == product",
])
def test_the_scan_finds_a_product_name_comparison(line):
    assert offending_lines(line), f"the scan misses: {line}"


@pytest.mark.parametrize("line", [
    'if traits["forwarding"] != "listed_services":',
    "hosts: vms_component_gateway:&vms_platform_linux:&vms_gateway_proxy_nginx",
    '# the Valerus gateway == "valerus" in a comment',
    "windows_certificates_valerus_site: \"{{ vms_win_valerus_site | default('Valerus Web Proxy') }}\"",
])
def test_the_scan_leaves_trait_decisions_and_comments_alone(line):
    assert offending_lines(line) == []


def test_no_product_name_comparison_outside_the_catalogs():
    allowed = {(path, text) for path, text, _why in ALLOWED}
    problems = []
    for rel, path in _files():
        for number, line in offending_lines(path.read_text(encoding="utf-8")):
            if (rel, line) not in allowed:
                problems.append(f"{rel}:{number}: {line}")
    assert not problems, (
        "code compares a product's name; decide by a catalog trait instead (catalog.TRAITS, the plan's "
        "`traits`, groups such as vms_gateway_proxy_nginx), or add the line to ALLOWED with the reason:\n"
        + "\n".join(problems))


def test_every_allowed_line_still_exists_and_says_why():
    texts = {rel: path.read_text(encoding="utf-8") for rel, path in _files()}
    for path, line, why in ALLOWED:
        assert why.strip(), f"{path}: an allowed comparison needs its reason"
        assert (path in texts and any(text.strip() == line for text in texts[path].splitlines())), \
            f"{path}: allowed line {line!r} no longer exists; drop it from ALLOWED"
