#!/usr/bin/python
"""Apply one owned nftables table atomically (see DOCUMENTATION)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: vms_nft_table
short_description: Apply one owned nftables table atomically, idempotently, keeping the management connection
description:
  - Replaces one nftables table (and only that table) with the given text in a single C(nft -f) transaction
    that deletes and re-creates the table, after validating the same file with C(nft -c -f).
    If validation or the kernel refuses the transaction, the previous table stays in force untouched.
  - Idempotent although C(nft list) output differs from the input text. After each apply the module records,
    in O(state_dir), the sha256 of the desired text and the live C(nft -s list table) output (stateless, so
    counter and quota values are left out and traffic alone is never drift). Nothing is changed when the live
    listing equals the recorded listing and the desired hash equals the recorded hash; that check costs one
    read-only C(nft -s list table) call and nothing else (no validation, no write). Without a record (first
    run, or O(state_dir) lost) the table is applied again.
  - Drift (the live table differs from what this module last applied, for example a rule or set element added
    or deleted by hand, or the table deleted) is reported in C(drift), and corrected unless O(mode=audit).
  - When the managed host is reached over SSH (C(SSH_CONNECTION) is set for the module or, under become, for
    the nearest ancestor process), an accept rule for that client address and server port is inserted at the
    top of O(management_chain), so applying a plan that lacks the management network can never cut Ansible off.
  - Supports check mode (validates with C(nft -c -f) when a change is due, changes nothing) and diff mode
    (ruleset text before/after).
version_added: "0.1.0"
author: vms-deploy
options:
  name:
    description: Name of the owned table.
    type: str
    default: vms_deploy
  family:
    description: Table family (arp, bridge and netdev only to delete another tool's table, state=absent).
    type: str
    default: inet
    choices: [inet, ip, ip6, arp, bridge, netdev]
  content:
    description:
      - Full text of the table, C(table FAMILY NAME { ... }), as rendered by the vms_nft_host_ruleset or
        vms_nft_edge_ruleset filters. Must define no other table. Required when O(state=present).
    type: str
  state:
    description: C(present) applies O(content); C(absent) deletes the table and the recorded state.
    type: str
    default: present
    choices: [present, absent]
  mode:
    description:
      - C(apply) makes the live table match O(content).
      - C(audit) only compares and reports C(drift) and C(in_sync); it never changes anything.
    type: str
    default: apply
    choices: [apply, audit]
  state_dir:
    description: Directory for the recorded hash and listing (created with mode 0700).
    type: path
    default: /var/lib/vms-deploy
  keep_management_connection:
    description: Insert an accept rule for the live SSH connection (from C(SSH_CONNECTION)) into the table.
    type: bool
    default: true
  management_chain:
    description: Chain of O(content) that receives the live-connection rule.
    type: str
    default: input
  plan_digest:
    description:
      - Digest of the host's part of the plan the content was rendered from (vms_deploy.plan_io.host_digest,
        the C(vms_host_digest) filter). Recorded in the live table as its comment C(vms-deploy plan DIGEST), so
        C(nft list table) and an audit show which plan a host runs. It is part of the desired text, so a host whose
        part of the plan did not change keeps its table untouched, whatever changed elsewhere in the site.
    type: str
notes:
  - Only the named table is read or written; other tables (Docker's, iptables-nft's) are never touched.
  - Requires the C(nft) binary and CAP_NET_ADMIN.
"""

EXAMPLES = r"""
- name: Apply the host firewall rendered from the plan
  vms_nft_table:
    name: vms_deploy
    content: "{{ plan.plan | vms_nft_host_ruleset(inventory_hostname) }}"

- name: Audit for drift without changing anything
  vms_nft_table:
    content: "{{ plan.plan | vms_nft_host_ruleset(inventory_hostname) }}"
    mode: audit
  register: fw_audit

- name: Remove the owned table
  vms_nft_table:
    state: absent
"""

RETURN = r"""
drift:
  description: True when the live table differs from what this module last applied (or was applied but is gone).
  returned: always
  type: bool
in_sync:
  description: True when the live table already matches O(content) (nothing to do).
  returned: always
  type: bool
plan_digest:
  description: The plan digest the live table records (before the run in check and audit mode), or null when none.
  returned: always
  type: str
planned_digest:
  description: O(plan_digest), the digest of the plan this run applies or audits against.
  returned: when O(plan_digest) is given
  type: str
ip_forward:
  description:
    - The host's IPv4 forwarding switch (C(/proc/sys/net/ipv4/ip_forward), C("1") on, C("0") off), or null when
      unreadable. Read in the same module run, so the edge role and the audit need no second round trip.
  returned: always
  type: str
sha256:
  description: sha256 of the full desired text (content plus the live-management rule).
  returned: when state=present
  type: str
management_connection:
  description: The live SSH connection kept open, as C(address port), or null when not connected by SSH.
  returned: always
  type: str
listing:
  description: C(nft -s list table) output after the run (before it in check mode and audit mode).
  returned: always
  type: str
recorded_listing:
  description:
    - The listing recorded at the last apply, so an audit can name the rules changed by hand without
      a second round trip to read the state file.
  returned: when mode=audit and drift is true
  type: str
"""

import hashlib
import ipaddress
import json
import os
import re
import tempfile

from ansible.module_utils.basic import AnsibleModule

LIVE_COMMENT = "vms-deploy: live management connection"
PLAN_COMMENT = "vms-deploy plan "
_TABLE_COMMENT = re.compile(rf'^\s*comment\s+"{PLAN_COMMENT}([0-9A-Za-z]+)"', re.MULTILINE)


def state_path(state_dir, family, name):
    return os.path.join(state_dir, f"nft-{family}-{name}.json")


def load_state(path):
    try:
        with open(path) as handle:
            data = json.load(handle)
        return data if isinstance(data, dict) else None
    except (OSError, ValueError):
        return None


def save_state(path, data):
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".nft-state-")
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=1, sort_keys=True)
    os.replace(tmp, path)


def live_listing(module, nft, family, name):
    # -s (stateless): counter/quota values change with traffic; they must not count as drift.
    rc, out, err = module.run_command([nft, "-s", "list", "table", family, name])
    if rc != 0:
        if "No such file or directory" in err or "does not exist" in err:
            return None
        module.fail_json(msg=f"cannot read table {family} {name}: {err.strip()}", rc=rc)
    return out


def ancestor_ssh_connection(max_depth=12):
    """SSH_CONNECTION from the nearest ancestor process that has it.

    become (sudo) resets the environment, so the module itself usually lacks the variable while the
    shell sshd started for Ansible still has it; root may read that process's environ.
    """
    pid = os.getppid()
    for _ in range(max_depth):
        if pid <= 1:
            return None
        try:
            with open(f"/proc/{pid}/environ", "rb") as handle:
                for item in handle.read().split(b"\0"):
                    if item.startswith(b"SSH_CONNECTION="):
                        return item.split(b"=", 1)[1].decode("ascii", "replace")
            with open(f"/proc/{pid}/stat") as handle:
                pid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return None
    return None


def management_connection(env):
    """Parse SSH_CONNECTION ('client_ip client_port server_ip server_port') into (ip, port) or None."""
    text = env.get("SSH_CONNECTION") or ancestor_ssh_connection() or ""
    parts = text.split()
    if len(parts) != 4:
        return None
    try:
        address = ipaddress.ip_address(parts[0].split("%")[0])
        port = int(parts[3])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address, port


def check_content(module, content, family, name, chain, keep):
    tables = re.findall(r"^\s*table\s+(\S+)\s+(\S+)", content, re.MULTILINE)
    if not tables:
        module.fail_json(msg=f"content does not define a table; expected 'table {family} {name} {{ ... }}'")
    foreign = sorted({"{} {}".format(*t) for t in tables if t != (family, name)})
    if foreign:
        module.fail_json(msg="content defines table(s) {}; this task only manages table {} {}. Render the "
                             "content for this table or change name/family.".format(", ".join(foreign), family, name))
    if keep and not re.search(rf"\bchain\s+{re.escape(chain)}\s*\{{", content):
        module.fail_json(msg=f"content has no chain {chain!r} to keep the management connection in; set "
                             "management_chain or keep_management_connection=false")


def ip_forward():
    try:
        with open("/proc/sys/net/ipv4/ip_forward") as handle:
            return handle.read().strip()
    except OSError:
        return None


def recorded_digest(listing):
    """The plan digest in a table listing's comment, or None."""
    match = _TABLE_COMMENT.search(listing or "")
    return match.group(1) if match else None


def with_plan_comment(content, family, name, digest):
    """The content with the table comment that records the plan digest as the table's first statement."""
    head = re.compile(rf"^(\s*table\s+{re.escape(family)}\s+{re.escape(name)}\s*\{{[ \t]*\n)",
                      re.MULTILINE)
    text, count = head.subn(lambda m: f'{m.group(1)}\tcomment "{PLAN_COMMENT}{digest}"\n', content, count=1)
    return text if count else content


def desired_text(content, family, name, chain, conn, digest=None):
    text = content if content.endswith("\n") else content + "\n"
    if digest:
        text = with_plan_comment(text, family, name, digest)
    if conn:
        address, port = conn
        selector = "ip" if address.version == 4 else "ip6"
        text += (f"insert rule {family} {name} {chain} {selector} saddr {address} tcp dport {port:d} "
                 f'accept comment "{LIVE_COMMENT}"\n')
    return text


def run_nft_file(module, nft, text, family, name, check_only):
    """One transaction: create-if-missing, delete, re-create. Either all of it applies or none."""
    body = f"table {family} {name} {{}}\ndelete table {family} {name}\n{text}"
    fd, path = tempfile.mkstemp(prefix="vms-nft-", suffix=".nft")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(body)
        rc, out, err = module.run_command([nft, "-c", "-f", path])
        if rc != 0:
            module.fail_json(msg=f"nft rejected the ruleset for table {family} {name} (validation, nothing changed): "
                                 f"{err.strip()}", rc=rc, stderr=err)
        if check_only:
            return
        rc, out, err = module.run_command([nft, "-f", path])
        if rc != 0:
            module.fail_json(msg=f"the kernel refused the ruleset for table {family} {name}; the previous table is "
                                 f"still in force: {err.strip()}", rc=rc, stderr=err)
    finally:
        os.unlink(path)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", default="vms_deploy"),
            family=dict(type="str", default="inet", choices=["inet", "ip", "ip6", "arp", "bridge", "netdev"]),
            content=dict(type="str"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            mode=dict(type="str", default="apply", choices=["apply", "audit"]),
            state_dir=dict(type="path", default="/var/lib/vms-deploy"),
            keep_management_connection=dict(type="bool", default=True),
            management_chain=dict(type="str", default="input"),
            plan_digest=dict(type="str"),
        ),
        required_if=[("state", "present", ["content"])],
        supports_check_mode=True,
    )
    p = module.params
    family, name = p["family"], p["name"]
    # Deleting another tool's table takes any name nft prints (Docker's, iptables-nft's, "my-nat").
    pattern = r"^[A-Za-z_][A-Za-z0-9_./-]{0,255}$" if p["state"] == "absent" else r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
    if not re.match(pattern, name):
        module.fail_json(msg=f"name {name!r} is not a valid nftables table name (letters, digits, underscore)")
    nft = module.get_bin_path("nft", required=True)
    spath = state_path(p["state_dir"], family, name)
    record = load_state(spath)
    live = live_listing(module, nft, family, name)
    conn = management_connection(os.environ) if p["keep_management_connection"] else None
    conn_text = f"{conn[0]} {conn[1]:d}" if conn else None
    drift = bool(record) and record.get("live") != live
    result = dict(changed=False, drift=drift, table=f"{family} {name}", management_connection=conn_text,
                  plan_digest=recorded_digest(live), ip_forward=ip_forward())
    digest = p["plan_digest"]
    if digest is not None:
        if not re.match(r"^[0-9A-Za-z]{1,64}$", digest):
            module.fail_json(msg=f"plan_digest {digest!r} is not a digest (letters and digits, as vms_host_digest "
                                 "gives)")
        result["planned_digest"] = digest

    if p["state"] == "absent":
        result["in_sync"] = live is None
        result["listing"] = live or ""
        if live is not None and p["mode"] == "apply":
            result["changed"] = True
            result["diff"] = dict(before=live, after="")
            if not module.check_mode:
                rc, out, err = module.run_command([nft, "delete", "table", family, name])
                if rc != 0:
                    module.fail_json(msg=f"cannot delete table {family} {name}: {err.strip()}", rc=rc)
                if os.path.exists(spath):
                    os.unlink(spath)
        module.exit_json(**result)

    check_content(module, p["content"], family, name, p["management_chain"], p["keep_management_connection"])
    text = desired_text(p["content"], family, name, p["management_chain"], conn, digest)
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    in_sync = live is not None and not drift and bool(record) and record.get("sha256") == sha
    result.update(in_sync=in_sync, sha256=sha, listing=live or "")
    if in_sync:
        module.exit_json(**result)

    before = record.get("desired_text", "") if record and not drift else (live or "")
    result["diff"] = dict(before=before, after=text,
                          before_header="{} {} ({})".format(family, name,
                                                            "recorded" if record and not drift else "live"),
                          after_header=f"{family} {name} (plan)")
    if p["mode"] == "audit":
        if drift:
            result["recorded_listing"] = record.get("live") or ""
        module.exit_json(**result)

    result["changed"] = True
    run_nft_file(module, nft, text, family, name, check_only=module.check_mode)
    if not module.check_mode:
        after = live_listing(module, nft, family, name)
        save_state(spath, dict(sha256=sha, desired_text=text, live=after))
        result["listing"] = after or ""
        result["plan_digest"] = recorded_digest(after)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
