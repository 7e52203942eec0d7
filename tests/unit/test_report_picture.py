"""Issue 24 item 4: a picture that scales. Rendered by Graphviz for sites of 1, 7, 30 and 100 hosts (and
hypothesis-drawn sites), then measured: no two text boxes overlap, and no label is below 9 points when
the picture is printed on A4 or Letter.

Text boxes are measured independently of Graphviz: each SVG <text> is set in the font fontconfig picks
for its family (fc-match, the font Graphviz used) and measured by Pillow (the ink box of the glyphs,
placed by the advance width and the text's anchor).
Print scale: the page's printable width and height (paper less the report's 15 mm @page margins); a
picture larger than that is shrunk to fit, so its fonts shrink with it.
"""
from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from functools import cache

import pytest
from conftest import make_site, plan_of

from vms_deploy.report.graph import picture, plan_to_dot, render_picture, render_svg

pytestmark = pytest.mark.skipif(shutil.which("dot") is None or shutil.which("fc-match") is None,
                                reason="needs Graphviz dot and fontconfig")
ImageFont = pytest.importorskip("PIL.ImageFont", reason="needs Pillow (installed with weasyprint)")

SVG = "{http://www.w3.org/2000/svg}"
MM = 72 / 25.4
MARGIN = 15 * MM  # @page margin of the report (report/html.py CSS)
PAPERS = {"A4": (210 * MM, 297 * MM), "Letter": (8.5 * 72, 11 * 72)}
MIN_POINTS = 9.0
TOLERANCE = 0.5  # points: rounding of the coordinates Graphviz writes


@cache
def _font(family: str, size: float):
    name = family.split(",")[0].strip() or "sans-serif"
    path = subprocess.run(["fc-match", "-f", "%{file}", name], capture_output=True, text=True, timeout=30,
                          check=True).stdout.strip()
    return ImageFont.truetype(path, size)


def text_boxes(svg: str) -> tuple[list[tuple[float, float, float, float, str, float]], float, float]:
    """((left, top, right, bottom, text, size) per <text>, width pt, height pt) of a Graphviz SVG."""
    root = ET.fromstring(svg)
    width, height = (float(root.get(k).removesuffix("pt")) for k in ("width", "height"))
    boxes = []
    for node in root.iter(f"{SVG}text"):
        text = "".join(node.itertext())
        if not text.strip():
            continue
        size = float(node.get("font-size"))
        font = _font(node.get("font-family", "Helvetica"), size)
        advance = font.getlength(text)
        ink_left, ink_top, ink_right, ink_bottom = font.getbbox(text, anchor="ls")  # from the baseline's start
        x, y = float(node.get("x")), float(node.get("y"))
        start = {"start": x, "middle": x - advance / 2, "end": x - advance}[node.get("text-anchor", "start")]
        boxes.append((start + ink_left, y + ink_top, start + ink_right, y + ink_bottom, text, size))
    return boxes, width, height


def overlaps(boxes) -> list[str]:
    out = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if (min(a[2], b[2]) - max(a[0], b[0]) > TOLERANCE) and (min(a[3], b[3]) - max(a[1], b[1]) > TOLERANCE):
                out.append(f"{a[4]!r} overlaps {b[4]!r}")
    return out


def print_scale(width: float, height: float, paper: str) -> float:
    page_w, page_h = PAPERS[paper]
    return min(1.0, (page_w - 2 * MARGIN) / width, (page_h - 2 * MARGIN) / height)


def assert_printable(plan: dict) -> str:
    svg = render_picture(plan)[1]  # what the report inlines
    boxes, width, height = text_boxes(svg)
    assert boxes, svg[:500]
    assert not overlaps(boxes), "\n".join(overlaps(boxes)[:10])
    for paper in PAPERS:
        scale = print_scale(width, height, paper)
        small = [(t, round(s * scale, 1)) for *_, t, s in boxes if s * scale < MIN_POINTS]
        assert not small, f"{paper}: picture {width:.0f}x{height:.0f} pt, scale {scale:.2f}: {small[:5]}"
    return svg


# --- sites of 1, 7, 30 and 100 hosts -----------------------------------------------------------------

def site(product: str, count: int) -> dict:
    """A site of `count` hosts (the edge counted): the product's servers, then recorders to fill up."""
    nets = dict(vms_client_networks=["10.9.2.0/24", "10.9.3.0/25"], vms_camera_networks=["10.9.50.0/24"],
                vms_management_networks=["10.9.99.0/24"])
    if count == 1:
        group = "vms_recorders" if product == "generic_nvr" else "vms_app_servers"
        groups = {group: ["h1"]} if product == "generic_nvr" else \
            {"vms_app_servers": ["h1"], "vms_recorders": ["h1"], "vms_gateways": ["h1"]}
        return make_site(groups, {"h1": "10.9.1.10"}, None, vms_product=product, vms_site="one",
                         vms_public_address="100.64.0.9", vms_client_networks=["10.9.2.0/24"])
    groups: dict[str, list[str]] = {"vms_edge": ["edge"]}
    addresses = {"edge": "10.9.0.1"}
    servers: list[str] = []
    if product == "xprotect":
        for group, name in (("vms_app_servers", "mgmt"), ("vms_event_servers", "event"), ("vms_log_servers", "log"),
                            ("vms_failover_recorders", "fo1")):
            groups[group] = [name]
            servers.append(name)
    elif product == "valerus":
        groups["vms_app_servers"] = ["app"]
        servers.append("app")
    if product != "generic_nvr":
        groups["vms_gateways"] = ["gw"]
        addresses["gw"] = "10.9.9.55"
    recorders = [f"rec{i}" for i in range(1, count - len(servers) - len(addresses) + 1)]
    groups.setdefault("vms_recorders", []).extend(recorders)
    for i, name in enumerate(servers + recorders):
        addresses[name] = f"10.9.1.{10 + i}"
    host_vars = {"edge": {"vms_public_address": "100.64.0.9"}}
    if product == "generic_nvr":  # each NVR forwards its web port on its own external port
        host_vars.update({r: {"vms_forwarded_services": [{"service": "nvr_https", "external_port": 20000 + i}]}
                          for i, r in enumerate(recorders)})
    data = make_site(groups, addresses, host_vars, vms_product=product, vms_site=f"s{count}",
                     vms_remote_allowlist=["100.64.20.0/24"], vms_dmz_networks=["10.9.9.0/24"],
                     vms_server_networks=["10.9.1.0/24"], **nets)
    assert len(data["hosts"]) == count, sorted(data["hosts"])
    return data


@cache
def planned(product: str, count: int) -> dict:
    """The compiled site, once per size. Sites up to 30 hosts are held to the security invariants (plan_of);
    at 100 hosts they cost 15-35 s a site, and the same generator's 30-host sites have just been held to them."""
    if count <= 30:
        return plan_of(site(product, count))
    from vms_deploy.pipeline import compile_plan
    return compile_plan(site(product, count))


@pytest.mark.parametrize("count", [1, 7, 30, 100])
@pytest.mark.parametrize("product", ["valerus", "xprotect", "generic_nvr"])
def test_picture_is_readable_at_every_size(product, count):
    plan = planned(product, count)
    assert len(plan["hosts"]) == count
    assert_printable(plan)


def test_picture_size_does_not_grow_with_hosts():
    sizes = []
    for count in (30, 100):
        boxes, width, height = text_boxes(render_svg(plan_to_dot(planned("xprotect", count))))
        sizes.append((len(boxes), round(width), round(height)))
    assert sizes[0] == sizes[1], sizes


def test_hundred_hosts_are_counted_not_drawn():
    plan = planned("xprotect", 100)
    recorders = sorted(h for h in plan["hosts"] if h.startswith("rec"))
    assert len(recorders) == 94
    dot = plan_to_dot(plan)
    assert not any(f"{r} " in dot or f"{r}\\n" in dot for r in recorders) and "94 recorder" in dot
    pic = picture(plan)
    # every recorder still has its services in the arrows' data (the host tables show them by name)
    into_servers = {h for (_src, dst, _f), a in pic.arrows.items() if dst == "servers" for hs in a.services.values()
                    for h in hs}
    assert set(recorders) <= into_servers


def test_drawn_sites_are_readable():
    hypothesis = pytest.importorskip("hypothesis")
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "property"))
    from strategies import sites

    # derandomize: the same 12 drawn sites on every run (CI must not turn red on a new draw; VMS_PROPERTY_EXAMPLES
    # and a local run without it explore further, docs/report.md)
    @hypothesis.settings(max_examples=12, deadline=None, database=None, derandomize=True,
                         suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.given(sites())
    def check(data):
        assert_printable(plan_of(data))

    check()


def test_measurement_catches_an_overlap_and_a_small_label():
    """The checks above can fail: two labels on one spot, and a picture too wide to print at 9 points."""
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="1200pt" height="100pt">'
           '<text text-anchor="middle" x="100" y="50" font-family="Helvetica" font-size="10">tcp 80 web_http</text>'
           '<text text-anchor="start" x="110" y="54" font-family="Helvetica" font-size="10">tcp 443</text>'
           '<text text-anchor="start" x="300" y="50" font-family="Helvetica" font-size="10">apart</text></svg>')
    boxes, width, height = text_boxes(svg)
    assert overlaps(boxes) == ["'tcp 80 web_http' overlaps 'tcp 443'"]
    assert min(s * print_scale(width, height, "A4") for *_, s in boxes) < MIN_POINTS
