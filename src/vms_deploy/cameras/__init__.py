"""Cameras: the inventory's camera list, bounded WS-Discovery and a read-only ONVIF audit (issue 25).

| module | what |
| --- | --- |
| `inventory` | vms_cameras and the camera variables; the audit request built from them (controller) |
| `discovery` | unicast WS-Discovery of the camera networks within a time and packet budget |
| `device` | one device's ONVIF Get requests through onveef, counted, timed out, size-capped |
| `checks` | the per-device checks, each with its seed sentence |
| `audit` | discovery + allow-list + checks on the auditing host (`python3 -m vms_deploy.cameras`) |
| `report` | JSON, Markdown, the HTML report's rows, the exit code |

The validation rules of the camera variables are vms_deploy.validate.cameras. docs/cameras.md has the rest.
discovery, device, checks and audit import nothing else of vms_deploy: they run on the auditing host.
"""
