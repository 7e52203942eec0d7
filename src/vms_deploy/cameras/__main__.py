"""`python3 -m vms_deploy.cameras < request.json > result.json`: the audit on the auditing host.

The request (vms_deploy.cameras.inventory.audit_request) comes on stdin, as it holds the camera password;
the result (no secret) goes to stdout. Exit 0 whatever was found: the controller judges the result.
"""
from __future__ import annotations

import json
import sys


def main() -> int:
    try:
        import onveef  # noqa: F401 - imported lazily by the audit; missing, it is better said at once

        from .audit import run
    except ImportError as exc:
        print(f"vms_deploy.cameras: this host cannot run the camera audit ({exc}): install onveef for its "
              "python3 (pip install onveef), or audit from another host (-e vms_camera_auditor=HOST)",
              file=sys.stderr)
        return 3
    try:
        request = json.loads(sys.stdin.read() or "{}")
    except ValueError as exc:
        print(f"vms_deploy.cameras: the request on stdin is not JSON: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(json.dumps(run(request), sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
