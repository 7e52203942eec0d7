"""Run the toolkit's playbooks for a site kept in its own repository (issue 20, item 7).

`vms-deploy deploy|check|audit|rotate INVENTORY [--build-dir DIR] [ansible-playbook options]`, as
kolla-ansible's CLI does: from any directory, with the toolkit's own ansible.cfg (ANSIBLE_CONFIG: its
plugin, role and module paths are relative to that file) and the site's files kept beside the site:

    SITE_REPO/                 (any directory: the inventory's own, or its parent for a hosts file)
      hosts.yml, group_vars/   the inventory
      build/                   made by the runs (VMS_BUILD_DIR): plan/SITE, pki/SITE (the site CA key:
                               keep it private, back it up), audit/SITE, vpn/SITE, locks/, facts/

Only the CLI sets VMS_BUILD_DIR; a plain `ansible-playbook` run from the checkout keeps build/ in the
checkout as before (`build_path`, the vms_build_path filter), so an existing site's CA is never lost.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

BUILD_ENV = "VMS_BUILD_DIR"
HOME_ENV = "VMS_DEPLOY_HOME"
# action -> (playbook under playbooks/, options it always gets)
ACTIONS = {
    "deploy": ("site.yml", ()),
    "check": ("site.yml", ("--check", "--diff")),
    "audit": ("audit.yml", ()),
    "rotate": ("rotate_certificates.yml", ()),
}
# action:message:category:module, matched literally: this one import of ansible-core, nothing else.
DSA_IMPORT_WARNING = "ignore:DSA is deprecated:Warning:ansible._internal._ssh._ssh_agent"
# Options the runner owns: given again they would point the run somewhere else.
OWNED = ("-i", "--inventory", "--inventory-file")


class RunnerError(Exception):
    """A problem the user can fix; the message says what and how."""


def checkout_root() -> Path:
    """The checkout this package was installed from (an editable install, bin/setup's)."""
    return Path(__file__).resolve().parents[2]


def toolkit_root(env: dict | None = None) -> Path:
    """The toolkit: $VMS_DEPLOY_HOME, else the checkout holding this package. It must hold ansible.cfg and
    playbooks/ (a wheel installed without the checkout has only the Python package)."""
    env = os.environ if env is None else env
    root = Path(env[HOME_ENV]).expanduser() if env.get(HOME_ENV) else checkout_root()
    if not (root / "ansible.cfg").is_file() or not (root / "playbooks" / "site.yml").is_file():
        origin = f"{HOME_ENV}={env[HOME_ENV]}" if env.get(HOME_ENV) else f"the checkout {root}"
        raise RunnerError(f"{origin} holds no vms-deploy toolkit (ansible.cfg and playbooks/site.yml); fix: set "
                          f"{HOME_ENV} to the vms-deploy checkout (the directory with ansible.cfg, playbooks/, roles/)")
    return root.resolve()


def build_path(kind: str, site: str, env: dict | None = None, root: Path | None = None) -> str:
    """Where a run keeps one kind of site file (plan, pki, audit, vpn, report): $VMS_BUILD_DIR/KIND/SITE when
    the CLI runs it for a site repository, else build/KIND/SITE in the checkout."""
    env = os.environ if env is None else env
    base = Path(env[BUILD_ENV]).expanduser() if env.get(BUILD_ENV) else (root or checkout_root()) / "build"
    return os.path.realpath(base / kind / site)


@dataclass(frozen=True)
class Run:
    argv: list[str]
    env: dict
    cwd: str
    build_dir: Path


def site_dir(inventory: Path) -> Path:
    """The site's directory: the inventory directory itself, or the directory of an inventory file."""
    return inventory if inventory.is_dir() else inventory.parent


def prepare(action: str, inventory: str, build_dir: str | None, extra: list[str], env: dict | None = None,
            playbook_command: str = "ansible-playbook") -> Run:
    """The ansible-playbook command and environment of one action (nothing is run or written here)."""
    env = dict(os.environ if env is None else env)
    if action not in ACTIONS:
        raise RunnerError(f"unknown action {action!r}; use one of {', '.join(ACTIONS)}")
    path = Path(inventory).expanduser()
    if not path.exists():
        raise RunnerError(f"inventory {inventory!r} does not exist; fix: give the site's inventory directory or "
                          "hosts file (vms-deploy new-site NAME makes one)")
    owned = [arg for arg in extra if arg.split("=", 1)[0] in OWNED]
    if owned:
        raise RunnerError(f"{' '.join(owned)}: the inventory is the INVENTORY argument; fix: drop {owned[0]}")
    root = toolkit_root(env)
    path = path.resolve()
    build = Path(build_dir).expanduser().resolve() if build_dir else site_dir(path) / "build"
    playbook, options = ACTIONS[action]
    env.update({
        "ANSIBLE_CONFIG": str(root / "ansible.cfg"),
        BUILD_ENV: str(build),
        # One changing run per site, and each site's facts apart: host names repeat between sites.
        "VMS_LOCK_DIR": str(build / "locks"),
        "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(build / "facts"),
        # ansible-core's own ssh-agent support imports DSA at start-up, which python cryptography deprecates:
        # a warning on every run that is about neither the site nor the user's setup (issue 20, item 9).
        "PYTHONWARNINGS": ",".join(filter(None, (env.get("PYTHONWARNINGS"), DSA_IMPORT_WARNING))),
    })
    argv = [playbook_command, "-i", str(path), str(root / "playbooks" / playbook), *options, *extra]
    # The caller's directory stays the working directory: relative paths in the options are the user's.
    return Run(argv=argv, env=env, cwd=os.getcwd(), build_dir=build)
