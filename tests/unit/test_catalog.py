"""Port catalogs: the data matches the seeds, and overrides/custom services behave."""
from __future__ import annotations

import pytest

from vms_deploy.catalog import PRODUCTS, CatalogError, _service, apply_override, custom_service, load_catalog, port_pair

# Independent transcription of seeds/001 (XProtect inbound ports): (component, port, protocol, local_only,
# feature). A catalog edit that loses or changes one of these fails here.
XPROTECT_SEED = [
    ("app_server", 80, "tcp", False, None), ("app_server", 443, "tcp", False, None),
    ("app_server", 6473, "tcp", True, None), ("app_server", 8080, "tcp", True, None),
    ("app_server", 9000, "tcp", False, None), ("app_server", 12345, "tcp", False, None),
    ("app_server", 12974, "tcp", True, None), ("sql_server", 1433, "tcp", False, None),
    ("data_collector", 7609, "tcp", False, None),
    ("event_server", 1234, "tcp+udp", False, "generic_events"), ("event_server", 1235, "tcp", False, "generic_events"),
    ("event_server", 9090, "tcp", False, "analytics_events"), ("event_server", 22331, "tcp", False, None),
    ("event_server", 22332, "tcp", False, None), ("event_server", 22333, "tcp", False, None),
    ("recorder", 25, "tcp", False, "smtp_events"), ("recorder", 5210, "tcp", False, None),
    ("recorder", 5432, "tcp", False, "device_events"), ("recorder", 7563, "tcp", False, None),
    ("recorder", 8966, "tcp", True, None), ("recorder", 9001, "tcp", False, None),
    ("recorder", 11000, "tcp", False, None), ("recorder", 12975, "tcp", True, None),
    ("recorder", 65101, "udp", True, None),
    ("failover_recorder", 25, "tcp", False, "smtp_events"), ("failover_recorder", 5210, "tcp", False, None),
    ("failover_recorder", 5432, "tcp", False, "device_events"), ("failover_recorder", 7474, "tcp", True, None),
    ("failover_recorder", 7563, "tcp", False, None), ("failover_recorder", 8844, "udp", False, None),
    ("failover_recorder", 8966, "tcp", True, None), ("failover_recorder", 8967, "tcp", True, None),
    ("failover_recorder", 8990, "tcp", False, None), ("failover_recorder", 9001, "tcp", False, None),
    ("log_server", 22337, "tcp", False, None),
    ("gateway", 8000, "tcp", True, None), ("gateway", 8081, "tcp", False, None), ("gateway", 8082, "tcp", False, None),
    ("gateway", 40001, "tcp", False, "video_push"),
    ("lpr_server", 22334, "tcp", False, None), ("onvif_bridge", 580, "tcp", False, None),
    ("onvif_bridge", 554, "tcp", False, None), ("dlna_server", 9100, "tcp", False, None),
    ("dlna_server", 9200, "tcp", False, None), ("screen_recorder", 52111, "tcp", False, None),
    ("incident_manager", 80, "tcp", False, None), ("incident_manager", 443, "tcp", False, None),
]


def _by_component_port(catalog):
    found = {}
    for svc in catalog.services().values():
        found.setdefault((svc.component, svc.ports[0]), []).append(svc)
    return found


@pytest.mark.parametrize("product", PRODUCTS)
def test_every_catalog_loads_with_unique_service_names(product):
    catalog = load_catalog(product)
    assert catalog.product == product
    assert catalog.services(), product
    for svc in catalog.services().values():
        assert svc.protocol in ("tcp", "udp", "tcp+udp")
        assert 1 <= svc.ports[0] <= svc.ports[1] <= 65535
        assert svc.purpose, f"{svc.name} has no purpose"
        assert svc.local_only or svc.connects_from, f"{svc.name} is reachable by nobody"


@pytest.mark.parametrize("component,port,protocol,local_only,feature", XPROTECT_SEED)
def test_xprotect_catalog_has_every_seed_port(component, port, protocol, local_only, feature):
    matches = _by_component_port(load_catalog("xprotect")).get((component, port))
    assert matches, f"XProtect {component} port {port} is missing from the catalog"
    svc = matches[0]
    assert (svc.protocol, svc.local_only, svc.feature, svc.seed) == (protocol, local_only, feature, True)


def test_xprotect_flags_per_instance_and_certificate_variants():
    services = load_catalog("xprotect").services()
    assert services["rec_api"].per_instance and services["rec_api"].ports == (9001, 9001)
    assert services["mobile_video_push"].ports == (40001, 40099)
    assert services["mgmt_http"].secure_variant == "mgmt_https"
    assert services["mgmt_https"].plain_variant == "mgmt_http"
    assert services["mgmt_http"].tls_connects_from == ("event_servers",)
    assert services["mgmt_server_api"].connects_from == ("recorders", "failover_recorders")
    # Only the Mobile Server (HTTPS) is forwarded from the Internet.
    assert [n for n, s in services.items() if s.forward_external] == ["mobile_https"]
    assert [n for n, s in services.items() if "internet" in s.connects_from] == ["mobile_https"]


def test_valerus_catalog_matches_the_seed():
    services = load_catalog("valerus").services()
    gateway = {n: (s.ports[0], s.forward_external, s.feature, s.seed)
               for n, s in services.items() if s.component == "gateway"}
    assert gateway == {
        "gateway_http": (9080, 80, None, True), "gateway_https": (9443, 9443, None, True),
        "gateway_streaming": (9081, 9081, None, True), "web_player_http": (3000, 3000, "web_player", True),
        "web_player_https": (3001, 3001, "web_player", True)}
    # App and Recording Server ports are not in the seed: they must say so.
    assert all(not s.seed for s in services.values() if s.component in ("app_server", "recorder"))


def test_generic_nvr_catalog_matches_the_seed():
    services = load_catalog("generic_nvr").services()
    assert {n: (s.protocol, s.ports) for n, s in services.items()} == {
        "nvr_http": ("tcp", (80, 80)), "nvr_https": ("tcp", (443, 443)), "nvr_rtsp": ("tcp", (554, 554)),
        "nvr_media": ("tcp+udp", (10000, 10099)), "nvr_onvif": ("tcp", (80, 80))}
    assert not services["nvr_media"].seed  # the seed gives no range: ours, and overridable


@pytest.mark.parametrize("value,expected", [(80, (80, 80)), ([9001, 9010], (9001, 9010)), ("8080", (8080, 8080)),
                                            (65535, (65535, 65535)), (1, (1, 1))])
def test_port_pair_accepts(value, expected):
    assert port_pair(value) == expected


@pytest.mark.parametrize("value,reason", [(0, "outside"), (65536, "outside"), ([9010, 9001], "reversed"),
                                          ("http", "not a port"), (True, "boolean"), ([1, 2, 3], "not a port"),
                                          (None, "not a port")])
def test_port_pair_refuses(value, reason):
    with pytest.raises(ValueError, match=reason):
        port_pair(value)


def test_override_changes_port_and_external_port_and_can_disable():
    svc = load_catalog("valerus").services()["gateway_http"]
    moved = apply_override(svc, {"port": 9180, "external_port": 8080})
    assert moved.ports == (9180, 9180) and moved.forward_external == 8080
    assert moved.overridden == ("external_port", "port")
    assert apply_override(svc, {"enabled": False}) is None


def test_override_enabling_a_feature_port():
    svc = load_catalog("xprotect").services()["mobile_video_push"]
    assert apply_override(svc, {"enabled": True}).feature is None


def test_custom_service_defaults():
    svc = custom_service({"name": "backup", "port": [6000, 6010], "protocol": "udp", "forward": True})
    assert (svc.component, svc.ports, svc.protocol, svc.forward_external, svc.connects_from, svc.seed) == (
        "custom", (6000, 6010), "udp", 6000, ("clients",), False)


def test_broken_catalog_entry_is_reported_as_a_catalog_bug():
    with pytest.raises(CatalogError, match="unknown source roles"):
        _service("x", "c", {"protocol": "tcp", "port": 1, "connects_from": ["everyone"]})
    with pytest.raises(CatalogError, match="protocol"):
        _service("x", "c", {"protocol": "sctp", "port": 1})


def test_unknown_product_is_a_key_error():
    with pytest.raises(KeyError):
        load_catalog("nx_witness")


@pytest.mark.parametrize("product", PRODUCTS)
def test_policy_doc_lists_every_catalog_service(product):
    from conftest import ROOT
    doc = (ROOT / "docs" / "policy.md").read_text(encoding="utf-8")
    missing = [name for name in load_catalog(product).services() if f"| `{name}` |" not in doc]
    assert not missing, f"docs/policy.md lacks rows for {missing}"
