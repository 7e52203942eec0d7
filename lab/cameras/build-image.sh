#!/usr/bin/env bash
# The camera lab's image (issue 25): the lab base image plus ipycam (a third-party virtual ONVIF camera from
# the package index), its numpy and OpenCV (headless) wheels, and onveef for the auditing recorder. The wheels
# are installed on the host (containers reach the index only through TLS interception, LAB-NOTES) into a
# directory copied into the image. Cached: nothing is done when the image with the same pins exists.
# Usage: lab/cameras/build-image.sh [--force]   (run under the lab lock)
#        lab/cameras/build-image.sh --wheels-only  (the host-side pip step alone, no Docker)
set -euo pipefail
BASE="${VMS_LAB_IMAGE:-vms-deploy/lab-base:bookworm}"
IMAGE="${VMS_CAMERA_IMAGE:-vms-deploy/lab-cameras:bookworm}"
PINS="ipycam==1.3.0 onveef==0.6.0 numpy==2.4.6 opencv-python-headless==5.1.0.95"
here="$(cd "$(dirname "$0")" && pwd)"
KEY="$(printf '%s %s' "$BASE" "$PINS" | sha256sum | cut -c1-16)"
SITE="${VMS_CAMERA_WHEELS:-/tmp/vms-lab-cameras-site-$KEY}"  # the installed wheels, kept between builds
PIP="${PIP:-python3 -m pip}"
PLATFORM=(--only-binary=:all: --python-version 3.11 --platform manylinux_2_28_x86_64
          --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64)

wheels() {  # no Docker: may run outside the lab lock (--wheels-only)
  [[ -f "$SITE/.done" ]] && return 0
  rm -rf "$SITE"
  # ipycam without its opencv-python dependency: the headless build needs no X or OpenGL libraries.
  $PIP install -q "${PLATFORM[@]}" --target "$SITE" --no-deps ipycam==1.3.0
  $PIP install -q "${PLATFORM[@]}" --target "$SITE" onveef==0.6.0 numpy==2.4.6 opencv-python-headless==5.1.0.95
  rm -rf "$SITE/bin"
  touch "$SITE/.done"
}

if [[ "${1:-}" == "--wheels-only" ]]; then
  wheels
  exit 0
fi
have="$(docker image inspect -f '{{ index .Config.Labels "vms.cameras" }}' "$IMAGE" 2>/dev/null || true)"
if [[ "${1:-}" != "--force" && "$have" == "$KEY" ]]; then
  echo "camera image $IMAGE present (cached)"
  exit 0
fi
wheels
"$here/../build-image.sh"
ctx="$(mktemp -d /tmp/vms-lab-cameras.XXXXXX)"
trap 'rm -rf "$ctx"' EXIT
cp -a "$SITE" "$ctx/site"
rm -f "$ctx/site/.done"
cat > "$ctx/Dockerfile" <<DOCKER
FROM $BASE
COPY site /usr/local/lib/python3.11/dist-packages/
LABEL vms.cameras=$KEY
CMD ["sleep", "infinity"]
DOCKER
docker build -q -t "$IMAGE" "$ctx" >/dev/null
docker run --rm "$IMAGE" python3 -c "import ipycam, onveef, cv2, numpy; print('ipycam, onveef, cv2', cv2.__version__)"
echo "built $IMAGE"
