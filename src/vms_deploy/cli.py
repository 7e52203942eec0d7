"""`vms-deploy`: the operator's command line over the plan compiler and the ops tooling.

Every subcommand is a thin wrapper: the logic lives in the modules it calls (compiler, diff,
explain, report, sitegen), which are unit-tested on their own. This file owns argument parsing,
reading inputs (an inventory or a plan.json), git revisions for `diff`, and turning every user
mistake into a one-paragraph message and an exit code instead of a traceback.

Exit codes (docs/cli.md): 0 success; 2 bad input or usage. `diff` follows terraform's
-detailed-exitcode so pipelines can tell the cases apart: 0 no change, 2 changes, 1 error.
`check`: 0 allowed, 1 denied, 2 bad input. `explain`: 0 port open, 1 port closed, 2 bad input.
"""
from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from typing import Any

from vms_deploy import __version__

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
DIFF_CHANGES, DIFF_ERROR = 2, 1
GIT_TIMEOUT_SECONDS = 120


class UserError(Exception):
    """A problem the user can fix; the message says what and how. Printed without a traceback."""


# ----------------------------------------------------------------------------- inputs
# Set from --vault-password-file / ANSIBLE_VAULT_PASSWORD_FILE before any inventory is read.
_VAULT = {"password": None}
# Set from --untrusted: read inventories as data only, never template (docs/security.md).
_TRUST = {"untrusted": False}


def vault_password_from(path: str | None) -> str | None:
    """The vault password from a file, or from an executable password script (as ansible does)."""
    if not path:
        return None
    path = os.path.expanduser(path)
    if not os.path.isfile(path):
        raise UserError(f"vault password file {path!r} does not exist: pass --vault-password-file FILE "
                        "(or unset ANSIBLE_VAULT_PASSWORD_FILE)")
    if os.access(path, os.X_OK):
        proc = subprocess.run([path], capture_output=True, text=True, timeout=GIT_TIMEOUT_SECONDS, check=False)
        if proc.returncode != 0:
            raise UserError(f"vault password script {path} failed: {proc.stderr.strip()}")
        return proc.stdout.strip()
    with open(path, encoding="utf-8") as fh:
        return fh.read().strip()


def load_inventory_data(path: str) -> dict[str, Any]:
    """The plain inventory dict ({hosts, groups}) the compiler reads, from an Ansible inventory path."""
    if not os.path.exists(path):
        raise UserError(f"inventory {path!r} does not exist: pass the site's inventory directory or hosts file "
                        "(for example inventories/sites/SITE)")
    try:
        from vms_deploy.inventory import load_inventory
    except ImportError as exc:  # the loader is another part of this package; say so plainly
        raise UserError(f"the inventory loader is not available in this installation ({exc}): "
                        "reinstall vms-deploy (bin/setup or pip install -e .)") from None
    try:
        from ansible.errors import AnsibleError
    except ImportError:  # pragma: no cover - ansible-core is a dependency of the loader itself
        AnsibleError = RuntimeError  # noqa: N806
    try:
        if _TRUST["untrusted"]:
            return load_inventory(path, vault_password=None, untrusted=True)
        return load_inventory(path, vault_password=_VAULT["password"])
    except AnsibleError as exc:
        text = str(getattr(exc, "message", "") or exc).splitlines()[0]
        hint = ("pass --vault-password-file FILE or set ANSIBLE_VAULT_PASSWORD_FILE" if "vault" in text.lower()
                else "fix the inventory files")
        if "vault" not in text.lower():
            from vms_deploy.yaml_errors import locate

            where = locate(path)
            if where:
                text, hint = f"{text} (in {where})", "correct that line"
        raise UserError(f"cannot read inventory {path}: {text}: {hint}") from None


def compile_data(data: dict[str, Any]) -> dict[str, Any]:
    try:
        from vms_deploy.pipeline import compile_plan
    except ImportError as exc:
        raise UserError(f"the plan compiler is not available in this installation ({exc}): "
                        "reinstall vms-deploy (bin/setup or pip install -e .)") from None
    return compile_plan(data)


def compile_inventory(path: str) -> dict[str, Any]:
    """Load an Ansible inventory and compile its plan (raises ValidationFailed on bad input)."""
    return compile_data(load_inventory_data(path))


def read_plan_file(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            plan = json.load(fh)
    except OSError as exc:
        raise UserError(f"cannot read plan {path!r}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise UserError(f"{path} is not valid JSON (line {exc.lineno}: {exc.msg}): "
                        "pass a plan.json written by 'vms-deploy plan' or an inventory") from None
    if not isinstance(plan, dict) or plan.get("schema") != 1:
        found = plan.get("schema") if isinstance(plan, dict) else type(plan).__name__
        raise UserError(f"{path} is not a vms-deploy plan of schema 1 (schema = {found!r}): "
                        "regenerate it with 'vms-deploy plan INVENTORY'")
    return plan


def is_plan_path(path: str) -> bool:
    """plan.json files are JSON; inventories are directories, YAML or INI files."""
    return path.endswith(".json") and not os.path.isdir(path)


def load_target(path: str) -> tuple[dict[str, Any], str | None, dict[str, Any] | None]:
    """(plan, inventory path, inventory data) from a plan.json (no inventory) or an inventory."""
    if is_plan_path(path):
        return read_plan_file(path), None, None
    data = load_inventory_data(path)
    return compile_data(data), path, data


# ----------------------------------------------------------------------------- git revisions (diff)
def _git(repo: str, *args: str) -> str:
    try:
        proc = subprocess.run(["git", "-C", repo, *args], capture_output=True, text=True,
                              timeout=GIT_TIMEOUT_SECONDS, check=False)
    except FileNotFoundError:
        raise UserError("git is not installed: install git to compare revisions, or pass two plan files") from None
    if proc.returncode != 0:
        raise UserError(f"git {' '.join(args)} failed in {repo}: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout.strip()


def verify_revision(repo: str, revision: str, option: str = "--rev-a", relative: str = ".") -> str:
    """The commit `revision` names in `repo`, or a UserError saying which option, what git said and what to give."""
    try:
        return _git(repo, "rev-parse", "--verify", "--end-of-options", f"{revision}^{{commit}}")
    except UserError as exc:
        said = str(exc).rpartition(": ")[2] or "no such commit"
        raise UserError(f"{option} {revision!r} is not a commit of the git repository {repo} (git: {said}): give a "
                        "branch, tag or commit that exists there, such as HEAD~1 or origin/main "
                        f"('git log --oneline -- {relative}' in {repo} lists the site's commits)") from None


@contextlib.contextmanager
def checkout_revision(repo: str, revision: str, option: str = "--rev-a", relative: str = ".") -> Iterator[str]:
    """A temporary, detached git worktree of `revision`; removed again afterwards."""
    verify_revision(repo, revision, option, relative)
    tmp = tempfile.mkdtemp(prefix="vms-deploy-rev-")
    tree = os.path.join(tmp, "tree")
    try:
        _git(repo, "worktree", "add", "--detach", "--quiet", tree, revision)
        yield tree
    finally:
        with contextlib.suppress(UserError):
            _git(repo, "worktree", "remove", "--force", tree)
        shutil.rmtree(tmp, ignore_errors=True)
        with contextlib.suppress(UserError):
            _git(repo, "worktree", "prune")


def plan_at_revision(inventory: str, revision: str | None, option: str = "--rev-a") -> dict[str, Any]:
    """Compile `inventory` as it is at `revision` of its git repository (None: the working tree)."""
    from vms_deploy.errors import ValidationFailed

    if revision is None:
        return compile_inventory(inventory)
    start = inventory if os.path.isdir(inventory) else os.path.dirname(os.path.abspath(inventory))
    if not os.path.exists(start):
        raise UserError(f"inventory {inventory!r} does not exist")
    top = _git(start, "rev-parse", "--show-toplevel")
    relative = os.path.relpath(os.path.realpath(inventory), os.path.realpath(top))
    with checkout_revision(top, revision, option, relative) as tree:
        path = os.path.join(tree, relative)
        if not os.path.exists(path):
            raise UserError(f"{relative} does not exist at revision {revision}: pick a revision that has the site "
                            "(git log -- " + relative + ")")
        try:
            return compile_inventory(path)
        except ValidationFailed as exc:  # say which side of the diff is broken
            raise UserError(f"the inventory at {option} {revision} does not compile; {exc.message()}") from None


# ----------------------------------------------------------------------------- subcommands
def cmd_plan(args: argparse.Namespace) -> int:
    from vms_deploy.plan_io import plan_json

    data = load_inventory_data(args.inventory)
    plan = compile_data(data)
    if args.out is None:
        sys.stdout.write(plan_json(plan))
        return EXIT_OK
    written = write_plan_dir(plan, args.out, args.inventory, data)
    for path in written:
        print(f"wrote {path}")
    from vms_deploy.plan_warnings import line

    for warning in plan.get("warnings", []):
        print(f"warning: {line(warning)}", file=sys.stderr)
    return EXIT_OK


def write_plan_dir(plan: dict[str, Any], out: str, inventory: str | None = None,
                   data: dict[str, Any] | None = None) -> list[str]:
    """Write plan.json and the rendered sheets through plan_io (the same files as playbooks/plan.yml)."""
    from vms_deploy import plan_io
    from vms_deploy.claims import settings_from_inventory
    from vms_deploy.provenance.facts import collect

    changed = plan_io.write_plan_outputs(plan, out, provenance=collect(plan, inventory),
                                         settings=settings_from_inventory(data))
    return [os.path.join(out, name) + ("" if was_changed else " (unchanged)") for name, was_changed in changed.items()]


def cmd_diff(args: argparse.Namespace) -> int:
    from vms_deploy.diff import RENDERERS, diff_plans

    if args.inventory:
        if args.plans:
            raise UserError("diff takes either two plan files or --inventory with --rev-a/--rev-b, not both")
        if not args.rev_a:
            raise UserError("diff --inventory needs --rev-a (for example --rev-a origin/main); --rev-b defaults "
                            "to the working tree")
        old = plan_at_revision(args.inventory, args.rev_a, "--rev-a")
        new = plan_at_revision(args.inventory, args.rev_b, "--rev-b")
        title = args.title or f"plan diff for {new.get('site')}: {args.rev_a} -> {args.rev_b or 'working tree'}"
    else:
        if len(args.plans) != 2:
            raise UserError("diff needs two plans (OLD NEW), each a plan.json or an inventory, "
                            "or --inventory INV --rev-a REV [--rev-b REV]")
        old = load_target(args.plans[0])[0]
        new = load_target(args.plans[1])[0]
        title = args.title or f"plan diff for {new.get('site')}"
    changes = diff_plans(old, new)
    sys.stdout.write(RENDERERS[args.format](changes, title))
    return DIFF_CHANGES if changes else EXIT_OK


def cmd_explain(args: argparse.Namespace) -> int:
    from vms_deploy.claims import host_claims, settings_from_inventory
    from vms_deploy.explain import explain_port, host_by_address, render_explanation

    plan, inventory, data = load_target(args.target)
    settings = settings_from_inventory(data)
    found = explain_port(plan, args.host, args.port, args.protocol, inventory, data)
    host = args.host if args.host in plan["hosts"] else host_by_address(plan, args.host)
    if args.format == "json":
        claims = host_claims(plan, host, settings)
        doc = {"host": host, "port": args.port, "protocol": args.protocol, "open": bool(found),
               "closed": (not found) and claims.closed,  # false on Windows: rules outside the group may admit it
               "owned": claims.owned, "not_owned": claims.not_owned,
               "rules": [{"rule": e.rule, "notes": e.notes,
                          "sources": [{"cidr": o.cidr, "zone": o.zone, "variable": o.variable,
                                       "locations": o.locations} for o in e.origins]} for e in found]}
        sys.stdout.write(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    else:
        sys.stdout.write(render_explanation(plan, host, args.port, args.protocol, found, settings))
    return EXIT_OK if found else EXIT_FAIL


def cmd_run(args: argparse.Namespace) -> int:
    """deploy | check (dry run) | audit | rotate: the toolkit's playbook for a site, from any directory."""
    from vms_deploy.runner import RunnerError, prepare

    extra = list(args.playbook_args)
    if args.vault_password_file and args.vault_password_file != os.environ.get("ANSIBLE_VAULT_PASSWORD_FILE"):
        extra = ["--vault-password-file", args.vault_password_file, *extra]
    try:
        run = prepare(args.command, args.target, args.build_dir, extra)
    except RunnerError as exc:
        raise UserError(str(exc)) from None
    if shutil.which(run.argv[0], path=run.env.get("PATH")) is None:
        raise UserError(f"{run.argv[0]} is not on PATH; fix: activate the venv vms-deploy was installed in "
                        "(bin/setup makes .venv) or install ansible-core")
    run.build_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    print(f"vms-deploy {args.command}: {' '.join(run.argv)}\n  ANSIBLE_CONFIG={run.env['ANSIBLE_CONFIG']}\n"
          f"  site files under {run.build_dir}", file=sys.stderr, flush=True)
    return subprocess.run(run.argv, env=run.env, cwd=run.cwd, check=False).returncode


def cmd_check(args: argparse.Namespace) -> int:
    from vms_deploy.claims import settings_from_inventory
    from vms_deploy.explain import check_flow

    flow = (args.source, args.destination, args.port)
    if not any(flow) and args.format == "text":
        return cmd_run(args)  # `vms-deploy check SITE`: the dry run of the whole site
    if args.playbook_args or not all(flow):
        raise UserError("give --from, --to and --port (would this flow be allowed), or none of them (a dry run of the "
                        "site: site.yml --check --diff, with ansible-playbook options after the inventory)")
    plan, _inventory, data = load_target(args.target)
    verdict = check_flow(plan, args.source, args.destination, args.port, args.protocol,
                         settings=settings_from_inventory(data))
    if args.format == "json":
        sys.stdout.write(json.dumps(verdict.as_dict(), indent=2, sort_keys=True) + "\n")
    else:
        sys.stdout.write(verdict.render())
    return EXIT_OK if verdict.allowed else EXIT_FAIL


def report_context(path: str | None) -> tuple[str | None, dict[str, Any] | None]:
    """(inventory path, per-host settings) from --context FILE: what playbooks/report.yml knows about a plan.json
    that the plan does not record: {"inventory": PATH or null, "host_settings": {host: {variable: value}}}."""
    if not path:
        return None, None
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except (OSError, ValueError) as exc:
        raise UserError(f"--context {path}: cannot be read as JSON ({exc}): pass the file playbooks/report.yml "
                        "writes") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("host_settings", {}), dict):
        raise UserError(f"--context {path}: is not a report context (an object with host_settings)")
    return doc.get("inventory") or None, doc.get("host_settings")


def camera_result(path: str | None, plan: dict[str, Any]) -> dict[str, Any] | None:
    """The camera audit's result for the report: --cameras FILE, else build/cameras/SITE/cameras.json if any."""
    default = os.path.join("build", "cameras", str(plan.get("site")), "cameras.json")
    if not path and not os.path.isfile(default):
        return None
    try:
        with open(path or default, encoding="utf-8") as fh:
            result = json.load(fh)
    except (OSError, ValueError) as exc:
        raise UserError(f"--cameras {path or default}: cannot be read as JSON ({exc}): pass the cameras.json "
                        "that vms-deploy cameras wrote") from None
    if not isinstance(result, dict) or not isinstance(result.get("devices"), list):
        raise UserError(f"{path or default} is not a camera audit result (no devices list)")
    return result


def cmd_report(args: argparse.Namespace) -> int:
    from vms_deploy.claims import settings_from_inventory
    from vms_deploy.provenance.facts import collect
    from vms_deploy.report import write_report

    plan, inventory, data = load_target(args.target)
    settings = settings_from_inventory(data)
    if args.context:
        inventory, settings = report_context(args.context)
    out = args.out or os.path.join("build", "report", str(plan.get("site")))
    provenance = collect(plan, inventory, stamped=True)
    for path in write_report(plan, out, picture=not args.no_picture, pdf=args.pdf, provenance=provenance,
                             settings=settings, cameras=camera_result(args.cameras, plan)):
        print(f"wrote {path}")
    return EXIT_OK


def cmd_probe(args: argparse.Namespace) -> int:
    from vms_deploy import probe

    plan = load_target(args.target)[0]
    try:
        return probe.run(args, plan)
    except probe.ProbeError as exc:
        raise UserError(str(exc)) from None


def cmd_cameras(args: argparse.Namespace) -> int:
    from vms_deploy.cameras import command

    return command.run(args, load_inventory_data, compile_data, UserError)


def cmd_new_site(args: argparse.Namespace) -> int:
    from vms_deploy.sitegen import new_site

    for path in new_site(args.name, args.product, args.topology, args.dir, remote_access=args.remote_access,
                         force=args.force):
        print(f"wrote {path}")
    site_dir = os.path.join(args.dir, args.name)
    print(f"next: edit {site_dir}/group_vars/all/main.yml and {site_dir}/hosts.yml (the placeholder addresses), "
          f"put the secrets in {site_dir}/group_vars/all/vault.yml and encrypt it with ansible-vault, then run: "
          f"vms-deploy plan {site_dir}")
    return EXIT_OK


# ----------------------------------------------------------------------------- parser
def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number; use 1-65535") from None
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"{value} is not a port number; use 1-65535")
    return value


def _ignore_ansible_cfg() -> None:
    """Review mode: Ansible must not read an ansible.cfg from the working directory, which may be the
    change request's own checkout (it could enable inventory or vars plugins, i.e. run code). Only
    possible before ansible's configuration is first loaded, which the CLI has not done yet."""
    if "ansible.constants" in sys.modules:
        return
    handle, path = tempfile.mkstemp(prefix="vms-deploy-review-", suffix=".cfg")
    with os.fdopen(handle, "w") as cfg:
        cfg.write("# vms-deploy --untrusted: Ansible's defaults only\n[defaults]\n")
    atexit.register(lambda: os.path.exists(path) and os.unlink(path))
    os.environ["ANSIBLE_CONFIG"] = path


def _untrusted_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--untrusted", action="store_true",
                        help="review mode for inventories from change requests: read them as data only, never "
                             "evaluate Jinja templates or lookups (templated values are refused), never decrypt "
                             "vault values (docs/security.md)")


def _run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--build-dir", help="where the run keeps the site's plan, PKI (the site CA key), audit, VPN "
                        "keys, locks and facts (default: build/ beside the inventory)")
    # Filled from the options argparse does not know (main): they go to ansible-playbook as given.
    parser.set_defaults(playbook_args=[])
    parser.epilog = ("Any other option goes to ansible-playbook as given, e.g. --limit app1 --tags firewall "
                     "--vault-password-file FILE (docs/site-repo.md).")


def build_parser() -> argparse.ArgumentParser:
    from vms_deploy.sitegen import PRODUCTS, REMOTE_ACCESS, TOPOLOGIES

    parser = argparse.ArgumentParser(prog="vms-deploy", description="Plan, review and explain VMS site deployments.",
                                     epilog="Exit codes and examples: docs/cli.md")
    parser.add_argument("--version", action="version", version=f"vms-deploy {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    vault = argparse.ArgumentParser(add_help=False)
    vault.add_argument("--vault-password-file", default=os.environ.get("ANSIBLE_VAULT_PASSWORD_FILE"),
                       help="Ansible Vault password file or script for encrypted inventory files "
                            "(default: $ANSIBLE_VAULT_PASSWORD_FILE)")

    p = sub.add_parser("plan", parents=[vault], help="compile an inventory into its plan (plan.json and sheets)")
    p.add_argument("inventory", help="site inventory directory or hosts file")
    p.add_argument("--out", help="directory for plan.json, ports.md, router.csv/.md, firewall-rules.csv/.md "
                   "(default: print plan JSON)")
    _untrusted_option(p)
    p.set_defaults(func=cmd_plan)

    p = sub.add_parser("diff", parents=[vault], help="what changes between two plans or two git revisions of a site")
    p.add_argument("plans", nargs="*", metavar="PLAN", help="OLD and NEW: plan.json files or inventories")
    p.add_argument("--inventory", help="site inventory inside a git repository (with --rev-a/--rev-b)")
    p.add_argument("--rev-a", help="old git revision (e.g. origin/main)")
    p.add_argument("--rev-b", help="new git revision (default: the working tree)")
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    p.add_argument("--title", help="heading of the output (default names the site and revisions)")
    _untrusted_option(p)
    p.set_defaults(func=cmd_diff)

    p = sub.add_parser("explain", parents=[vault], help="why is this port open on this host")
    p.add_argument("target", help="site inventory or plan.json")
    p.add_argument("--host", required=True, help="host name (or address) in the plan")
    p.add_argument("--port", required=True, type=_port)
    p.add_argument("--protocol", choices=("tcp", "udp"), help="default: both")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=cmd_explain)

    p = sub.add_parser("check", parents=[vault], allow_abbrev=False,
                       help="dry run of a site (site.yml --check --diff), or with --from/--to/--port: "
                       "would traffic from A to B:PORT be allowed")
    p.add_argument("target", help="site inventory (or plan.json, for a flow)")
    p.add_argument("--from", dest="source", help="source IP address or host name")
    p.add_argument("--to", dest="destination",
                   help="destination host name, IP address, or the site's public address (router forwards)")
    p.add_argument("--port", type=_port)
    p.add_argument("--protocol", choices=("tcp", "udp"), default="tcp")
    p.add_argument("--format", choices=("text", "json"), default="text")
    _run_options(p)
    p.set_defaults(func=cmd_check)

    for name, text in (("deploy", "deploy a site: playbooks/site.yml with the toolkit's configuration"),
                       ("audit", "compare a deployed site with its plan: playbooks/audit.yml"),
                       ("rotate", "rotate the site's certificates: playbooks/rotate_certificates.yml")):
        p = sub.add_parser(name, parents=[vault], allow_abbrev=False,
                           help=text + ", from any directory (site files under build/ beside it)")
        p.add_argument("target", metavar="inventory", help="site inventory directory or hosts file")
        _run_options(p)
        p.set_defaults(func=cmd_run)

    p = sub.add_parser("report", parents=[vault], help="self-contained HTML report with a network picture")
    p.add_argument("target", help="site inventory or plan.json")
    p.add_argument("--out", help="output directory (default build/report/SITE)")
    p.add_argument("--no-picture", action="store_true", help="skip the Graphviz picture (no 'dot' needed)")
    p.add_argument("--pdf", action="store_true", help="also write report.pdf (WeasyPrint, installed by bin/setup)")
    p.add_argument("--cameras", metavar="FILE", help="the camera audit's cameras.json for the camera section "
                   "(default build/cameras/SITE/cameras.json when it exists)")
    p.add_argument("--context", metavar="FILE",
                   help="for a plan.json: JSON {inventory, host_settings} with what the plan does not record "
                        "(playbooks/report.yml writes it)")
    _untrusted_option(p)
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("probe", parents=[vault], help="verify a site from outside: try its public address, "
                       "compare with the plan")
    from vms_deploy.probe import add_arguments as probe_arguments
    probe_arguments(p)
    p.set_defaults(func=cmd_probe)

    p = sub.add_parser("cameras", parents=[vault], help="find the site's cameras (WS-Discovery) and audit them over "
                       "ONVIF, read-only (docs/cameras.md)")
    from vms_deploy.cameras.command import add_arguments as camera_arguments
    camera_arguments(p)
    p.set_defaults(func=cmd_cameras)

    p = sub.add_parser("new-site", help="start a new site inventory from the template")
    p.add_argument("name", help="site name (letters, digits, - and _)")
    p.add_argument("--product", required=True, choices=PRODUCTS)
    p.add_argument("--topology", required=True, choices=TOPOLOGIES)
    p.add_argument("--remote-access", choices=REMOTE_ACCESS, default="port_forward")
    p.add_argument("--dir", default=os.path.join("inventories", "sites"), help="parent directory (default %(default)s)")
    p.add_argument("--force", action="store_true", help="overwrite an existing site directory's files")
    p.set_defaults(func=cmd_new_site)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from vms_deploy.errors import ValidationFailed
    from vms_deploy.explain import LookupFailed
    from vms_deploy.report.graph import GraphvizMissing
    from vms_deploy.report.pdf import PdfUnavailable
    from vms_deploy.sitegen import SiteGenError

    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        if args.func not in (cmd_run, cmd_check):
            parser.error(f"unrecognized arguments: {' '.join(unknown)}")
        args.playbook_args = unknown
    error_code = DIFF_ERROR if args.command == "diff" else EXIT_USAGE
    try:
        _TRUST["untrusted"] = bool(getattr(args, "untrusted", False))
        if _TRUST["untrusted"]:
            _ignore_ansible_cfg()
        # Review mode never decrypts: the change request's runner needs no vault password.
        _VAULT["password"] = None if _TRUST["untrusted"] else vault_password_from(
            getattr(args, "vault_password_file", None))
        return args.func(args)
    except ValidationFailed as exc:
        print(f"vms-deploy {args.command}: {exc.message()}", file=sys.stderr)
    except (UserError, LookupFailed, GraphvizMissing, PdfUnavailable, SiteGenError) as exc:
        print(f"vms-deploy {args.command}: {exc}", file=sys.stderr)
    except OSError as exc:
        print(f"vms-deploy {args.command}: {exc.filename or ''}: {exc.strerror}", file=sys.stderr)
    return error_code


if __name__ == "__main__":
    sys.exit(main())
