"""The container lab's own Python: NOT part of the vms-deploy product and not in its wheel.

`vms_lab.flows` works out the connections each lab vantage tries (playbooks/verify.yml, the Molecule
verifier in tests/verify/flows); `vms_lab.standin` lists the ports a stand-in listener takes on a
lab host. Both read the product's plan and its one evaluator and invariants (`vms_deploy`); nothing
in `vms_deploy`, `plugins/` or the product's roles imports this package (tests/unit/test_lab_apart.py).
Ansible finds it through lab/plugins/filter/vms_lab_flows.py, pytest through pyproject's `pythonpath`.
"""
