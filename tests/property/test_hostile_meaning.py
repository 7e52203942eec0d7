"""Property tests for issue 23's hostile classes: hypothesis draws a valid site (strategies.sites()) and makes it
hostile in one of the classes' ways; the validator must refuse it (ValidationFailed, every error with a fix) and
no message may carry a drawn secret. Bounded: VMS_PROPERTY_EXAMPLES (default 40) examples per test.

Class 7: a canary in a drawn secret variable, in a drawn position (a site-wide list that differs between hosts,
a misspelled name, a wrong type, the same text in a shown variable). Class 8: a drawn generated group name
(vms_plan_hosts, vms_zone_*, ...), a drawn wide controller network. Class 4: host names that differ only by
case, `localhost`; the YAML measure: a drawn key written twice in a drawn mapping of a drawn file.
"""
from __future__ import annotations

import copy
import os

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from strategies import sites

from vms_deploy.errors import ValidationFailed
from vms_deploy.inventory import file_problem
from vms_deploy.pipeline import compile_plan
from vms_deploy.secrets import is_secret_variable
from vms_deploy.validate.spec import inventory_spec

EXAMPLES = int(os.environ.get("VMS_PROPERTY_EXAMPLES", "40"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SECRETS = sorted(n for n in inventory_spec() if is_secret_variable(n))
CANARY = "CanaryPq81zz"


def _refused(data) -> list[str]:
    with pytest.raises(ValidationFailed) as failed:
        compile_plan(data)
    lines = [str(e) for e in failed.value.errors]
    assert lines and all(" Fix: " in line for line in lines), lines
    return lines


@SETTINGS
@given(site=sites(), secret=st.sampled_from(SECRETS), where=st.sampled_from(["differs", "typo", "type", "shown"]),
       suffix=st.text("abcXYZ019", min_size=0, max_size=6), data=st.data())
def test_class7_a_secret_is_never_in_a_message(site, secret, where, suffix, data):
    site = copy.deepcopy(site)
    hosts = sorted(site["hosts"])
    assume(where not in ("differs", "type") or len(hosts) > 1)  # a value that differs needs two hosts
    one = data.draw(st.sampled_from(hosts))
    canary = CANARY + suffix
    for host in hosts:
        if where == "differs":  # a site-wide list holding the secret, different on one host
            peer = {"name": "laptop", "public_key": "k", "private_key": canary + ("1" if host == one else "2")}
            site["hosts"][host]["vms_vpn_peers"] = [peer]
        elif where == "typo":
            site["hosts"][host][secret[:-1]] = canary
        elif where == "type":
            site["hosts"][host][secret] = [canary] if host == one else canary
        else:  # the secret's text also in a variable that is shown (a TLS name)
            site["hosts"][host][secret] = canary + "..x"
            site["hosts"][host]["vms_tls_names"] = [canary + "..x"]
    lines = _refused(site)
    assert not any(CANARY in line for line in lines), lines


GENERATED = st.one_of(st.just("vms_plan_hosts"),
                      st.builds(lambda p, v: p + v,
                                st.sampled_from(["vms_zone_", "vms_component_", "vms_product_", "vms_access_",
                                                 "vms_gateway_proxy_", "vms_gateway_registration_"]),
                                st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12)))


@SETTINGS
@given(site=sites(), group=GENERATED, members=st.integers(0, 2))
def test_class8_a_generated_group_written_by_hand_is_refused(site, group, members):
    site = copy.deepcopy(site)
    site["groups"][group] = sorted(site["hosts"])[:members]
    assert any(f"{group} = " in line and "makes from the plan" in line for line in _refused(site))


@SETTINGS
@given(site=sites(), prefix=st.integers(0, 23), first=st.integers(0, 255))
def test_class8_a_wide_controller_address_is_refused(site, prefix, first):
    site = copy.deepcopy(site)
    for hvars in site["hosts"].values():
        hvars["vms_win_controller_address"] = f"{first}.0.0.0/{prefix}"
    assert any("vms_win_controller_address" in line and "WinRM" in line for line in _refused(site))


@SETTINGS
@given(site=sites(), data=st.data())
def test_class4_host_names_that_differ_only_by_case_are_refused(site, data):
    site = copy.deepcopy(site)
    host = data.draw(st.sampled_from(sorted(site["hosts"])))
    twin = data.draw(st.sampled_from(["localhost", host.upper() if host.upper() != host else host.title()]))
    if twin == host:
        twin = "localhost"
    site["hosts"][twin] = dict(site["hosts"][host])
    for members in site["groups"].values():
        if host in members:
            members.append(twin)
    lines = _refused(site)
    assert any(f"host {twin}: inventory_hostname" in line for line in lines), lines


KEY = st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=20).map(lambda s: "vms_" + s)


@SETTINGS
@given(key=KEY, depth=st.integers(0, 3), values=st.lists(st.integers(0, 9), min_size=2, max_size=2),
       others=st.lists(KEY, max_size=4, unique=True))
def test_class4_a_key_written_twice_in_one_mapping_is_refused(tmp_path_factory, key, depth, values, others):
    indent = "  " * depth
    head = "".join(f"{'  ' * d}level{d}:\n" for d in range(depth))
    body = "".join(f"{indent}{o}: 1\n" for o in others if o != key)
    text = f"{head}{indent}{key}: {values[0]}\n{body}{indent}{key}: {values[1]}\n"
    path = tmp_path_factory.mktemp("dup") / "all.yml"
    path.write_text(text)
    error = file_problem(path)
    assert error is not None and "twice in one mapping" in error.problem, text
    path.write_text(f"{head}{indent}{key}: {values[0]}\n{body}")
    assert file_problem(path) is None


# Class 2: a custom service on a local-only port of the host's own components (seed 001: local connection only).
def _local_only_ports(site_data: dict, host: str) -> list[tuple[str, int]]:
    from vms_deploy.model import Site
    from vms_deploy.resolve import Resolver
    comp = Resolver(Site.from_dict(site_data))
    return sorted({(svc.protocol, svc.ports[0]) for cname in comp.comps.get(host, ())
                   if cname in comp.catalog.components
                   for svc in comp.catalog.components[cname].services.values() if svc.local_only
                   and svc.protocol in ("tcp", "udp")})


@SETTINGS
@given(site=sites(), data=st.data())
def test_class2_a_custom_service_on_a_local_only_port_is_refused(site, data):
    site = copy.deepcopy(site)
    hosts = [h for h in sorted(site["hosts"]) if _local_only_ports(site, h)]
    assume(hosts)
    host = data.draw(st.sampled_from(hosts))
    protocol, number = data.draw(st.sampled_from(_local_only_ports(site, host)))
    site["hosts"][host]["vms_custom_services"] = [{"name": "agent", "protocol": protocol, "port": number}]
    lines = _refused(site)
    assert any(f"host {host}: vms_custom_services[0].port = {number}" in line and "local-only" in line
               for line in lines), lines


# Class 3: a site-wide variable set on one host only, and vms_zone: edge on a host outside vms_edge.
ONE_HOST_VALUES = {"vms_remote_access": "none", "vms_tls_enabled": False, "vms_web_player": True,
                   "vms_device_count": 7, "vms_management_networks": ["10.255.99.0/24"]}


@SETTINGS
@given(site=sites(), name=st.sampled_from(sorted(ONE_HOST_VALUES)), data=st.data())
def test_class3_a_site_wide_variable_on_one_host_is_refused(site, name, data):
    site = copy.deepcopy(site)
    hosts = sorted(site["hosts"])
    assume(len(hosts) > 1 and not any(name in site["hosts"][h] for h in hosts))
    host = data.draw(st.sampled_from(hosts))
    site["hosts"][host][name] = ONE_HOST_VALUES[name]
    lines = _refused(site)
    assert any(f"host {host}: {name} = " in line and "hosts only" in line for line in lines), lines


@SETTINGS
@given(site=sites(), data=st.data())
def test_class3_the_edge_zone_on_a_server_is_refused(site, data):
    site = copy.deepcopy(site)
    hosts = [h for h in sorted(site["hosts"]) if h not in site["groups"].get("vms_edge", [])]
    host = data.draw(st.sampled_from(hosts))
    site["hosts"][host]["vms_zone"] = "edge"
    lines = _refused(site)
    assert any(f"host {host}: vms_zone = 'edge'" in line for line in lines), lines
