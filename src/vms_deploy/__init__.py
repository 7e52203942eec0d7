"""vms-deploy: one site model, one policy compiler, many renderers.

The public entry points are `vms_deploy.pipeline.compile_plan` (inventory data -> plan dict),
`vms_deploy.validate.validate` (inventory data -> list of InputError) and
`vms_deploy.inventory.load_inventory` (inventory path -> data). See docs/architecture.md.
"""

__version__ = "0.1.0"
PLAN_SCHEMA = 1
