#!/usr/bin/env bash
# Build the vms-deploy execution environment (execution-environment.yml) with ansible-builder on the
# locally built Debian base image (ee/build-base.sh). Cached twice over: nothing runs when an image
# built from the same inputs exists, and Docker's layer cache keeps the Python layers when only the
# vms_deploy sources changed.
#   ee/build.sh [--force]      prints the image name last; VMS_EE_IMAGE overrides it; --force rebuilds
#                              the EE even when its inputs did not change (Docker's layer cache still applies)
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE="${VMS_EE_IMAGE:-vms-deploy-ee:0.1.0}"
CONTEXT="build/ee-context"
force="${1:-}"
[[ -z "$force" || "$force" == "--force" ]] || { echo "ee/build.sh: unknown option $force (use --force)" >&2; exit 2; }
command -v ansible-builder >/dev/null || { [[ -f .venv/bin/activate ]] && . .venv/bin/activate; }
command -v ansible-builder >/dev/null || { echo "ee/build.sh: ansible-builder not found: run bin/setup" >&2; exit 2; }

ee/build-base.sh  # `ee/build-base.sh --force` rebuilds the base; --force here rebuilds the EE only
base_id="$(docker image inspect -f '{{ .Id }}' vms-deploy/ee-base:bookworm)"
# Cache key: the base image and every file the image keeps (sources without bytecode; the roles'
# argument specs the validator reads are among them, in src/vms_deploy/specs).
KEY="$( { echo "$base_id"; ansible-builder --version;
          cat execution-environment.yml ee/requirements.txt ee/build-constraints.txt pyproject.toml LICENSE;
          { find src -type f ! -name '*.pyc' ! -path '*/__pycache__/*' ! -path '*.egg-info/*' -print0; } | sort -z \
            | xargs -0 sha256sum; } | sha256sum | cut -c1-16)"
have="$(docker image inspect -f '{{ index .Config.Labels "vms.ee-inputs" }}' "$IMAGE" 2>/dev/null || true)"
if [[ -z "$force" && "$have" == "$KEY" ]]; then
  echo "execution environment $IMAGE present (cached, $KEY)"
  echo "$IMAGE"
  exit 0
fi
echo "building execution environment $IMAGE ($KEY) ..."
rm -rf "$CONTEXT"
start=$SECONDS
ansible-builder build --container-runtime docker -f execution-environment.yml -c "$CONTEXT" -t "$IMAGE" \
  -v 1 >/tmp/vms-ee-build.log 2>&1 \
  || { tail -40 /tmp/vms-ee-build.log; echo "ee/build.sh: ansible-builder failed; full log /tmp/vms-ee-build.log" >&2; exit 1; }
# Stamp the inputs' key on the image (an empty layer) so the next run can skip the build. Not with
# `docker build --label`: the legacy builder puts that label on every step and so loses its layer cache.
echo "FROM $IMAGE" | docker build -q --label "vms.ee-inputs=$KEY" -t "$IMAGE" - >/dev/null
echo "built $IMAGE in $((SECONDS - start)) s (log /tmp/vms-ee-build.log)"
echo "$IMAGE"
