"""`vms-deploy cameras INVENTORY`: the camera audit from this machine (start it where the recorders stand), or
`--result FILE` to write the report of a result the playbook collected. Exit 1 on a finding, 0 without."""
from __future__ import annotations

import argparse
import json
import os
import sys

from . import report
from .inventory import audit_request


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("target", help="site inventory (directory or hosts file)")
    p.add_argument("--out", help="output directory (default build/cameras/SITE)")
    p.add_argument("--discovery-seconds", type=float, default=5.0,
                   help="WS-Discovery window, sending and listening (default %(default)s)")
    p.add_argument("--max-probes", type=int, default=1024,
                   help="WS-Discovery datagrams at most; a camera network with more addresses is not swept "
                        "(default %(default)s)")
    p.add_argument("--try-defaults", action="store_true", default=None,
                   help="also try a few factory-default accounts, spaced (default: vms_camera_try_default_credentials)")
    p.add_argument("--result", metavar="FILE", help="report this audit result (JSON) instead of running the audit")
    p.add_argument("--format", choices=("markdown", "json"), default="markdown", help="what goes to stdout")


def run(args: argparse.Namespace, load_data, compile_data, user_error) -> int:
    from ..model import Site

    data = load_data(args.target)
    plan = compile_data(data)  # every input error first, before any packet is sent
    site = Site.from_dict(data)
    if not 0 < args.discovery_seconds <= 120 or not 0 < args.max_probes <= 65536:
        raise user_error("--discovery-seconds must be 0-120 and --max-probes 1-65536")
    if args.result:
        try:
            with open(args.result, encoding="utf-8") as fh:
                result = json.load(fh)
        except (OSError, ValueError) as exc:
            raise user_error(f"--result {args.result}: cannot be read as JSON ({exc})") from None
    else:
        try:
            from .audit import run as audit
        except ImportError as exc:
            raise user_error(f"the camera audit needs onveef ({exc}): pip install 'vms-deploy[cameras]'") from None
        request = audit_request(lambda name, default=None: site.site_var(name, default),
                                discovery_seconds=args.discovery_seconds, max_probes=args.max_probes,
                                try_defaults=args.try_defaults)
        result = audit(request)
    name = str(plan.get("site"))
    out = args.out or os.path.join("build", "cameras", name)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "cameras.json"), "w", encoding="utf-8") as fh:
        fh.write(report.to_json(result))
    markdown = report.to_markdown(result, name)
    with open(os.path.join(out, "cameras.md"), "w", encoding="utf-8") as fh:
        fh.write(markdown)
    sys.stdout.write(report.to_json(result) if args.format == "json" else markdown)
    print(f"wrote {out}/cameras.json and cameras.md", file=sys.stderr)
    return report.exit_code(result)
