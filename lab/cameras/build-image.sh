#!/usr/bin/env bash
# The camera lab's image (issue 25): the lab base image plus ipycam (a third-party virtual ONVIF camera from
# the package index), its numpy and OpenCV (headless) wheels, and onveef for the auditing recorder. The wheels
# are installed on the host (containers reach the index only through TLS interception, LAB-NOTES) into a
# directory copied into the image. Cached: nothing is done when the image with the same pins exists.
# Usage: lab/cameras/build-image.sh [--force]   (run under the lab lock)
set -euo pipefail
BASE="${VMS_LAB_IMAGE:-vms-deploy/lab-base:bookworm}"
IMAGE="${VMS_CAMERA_IMAGE:-vms-deploy/lab-cameras:bookworm}"
PINS="ipycam==1.3.0 onveef==0.6.0 numpy==2.4.6 opencv-python-headless==5.1.0.95"
here="$(cd "$(dirname "$0")" && pwd)"
KEY="$(printf '%s %s' "$BASE" "$PINS" | sha256sum | cut -c1-16)"
have="$(docker image inspect -f '{{ index .Config.Labels "vms.cameras" }}' "$IMAGE" 2>/dev/null || true)"
if [[ "${1:-}" != "--force" && "$have" == "$KEY" ]]; then
  echo "camera image $IMAGE present (cached)"
  exit 0
fi
"$here/../build-image.sh"
ctx="$(mktemp -d /tmp/vms-lab-cameras.XXXXXX)"
trap 'rm -rf "$ctx"' EXIT
PIP="${PIP:-python3 -m pip}"
# ipycam without its opencv-python dependency: the headless build needs no X or OpenGL libraries.
$PIP install -q --only-binary=:all: --python-version 3.11 --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 \
  --platform manylinux_2_17_x86_64 --target "$ctx/site" --no-deps ipycam==1.3.0
$PIP install -q --only-binary=:all: --python-version 3.11 --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 \
  --platform manylinux_2_17_x86_64 --target "$ctx/site" onveef==0.6.0 numpy==2.4.6 opencv-python-headless==5.1.0.95
rm -rf "$ctx/site/bin"
cat > "$ctx/Dockerfile" <<DOCKER
FROM $BASE
COPY site /usr/local/lib/python3.11/dist-packages/
LABEL vms.cameras=$KEY
CMD ["sleep", "infinity"]
DOCKER
docker build -q -t "$IMAGE" "$ctx" >/dev/null
docker run --rm "$IMAGE" python3 -c "import ipycam, onveef, cv2, numpy; print('ipycam', ipycam.__version__ if hasattr(ipycam, '__version__') else '?')"
echo "built $IMAGE"
