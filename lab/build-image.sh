#!/usr/bin/env bash
# Build the lab base image from Debian packages (no registry is reachable).
# Cached: does nothing when the image exists. Usage: lab/build-image.sh [--force]
set -euo pipefail
IMAGE="${VMS_LAB_IMAGE:-vms-deploy/lab-base:bookworm}"
SUITE="${VMS_LAB_SUITE:-bookworm}"
# Everything any lab role needs, so no container ever installs packages at run time.
PACKAGES="python3,python3-apt,nftables,iproute2,iputils-ping,netcat-openbsd,openssl,ca-certificates,curl,\
nginx,libnginx-mod-stream,wireguard-tools,wireguard-go,openssh-server,sudo,procps,socat,conntrack"

# The cache key is the package list: an image built from another list is rebuilt.
KEY="$(printf '%s %s' "$SUITE" "$PACKAGES" | sha256sum | cut -c1-16)"
have="$(docker image inspect -f '{{ index .Config.Labels "vms.packages" }}' "$IMAGE" 2>/dev/null || true)"
if [[ "${1:-}" != "--force" && "$have" == "$KEY" ]]; then
  echo "lab image $IMAGE present (cached)"
  exit 0
fi
command -v debootstrap >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap; }
root="$(mktemp -d /tmp/vms-lab-rootfs.XXXXXX)"
trap 'rm -rf "$root"' EXIT
echo "building $IMAGE with debootstrap ($SUITE) ..."
debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$root" >/tmp/vms-lab-debootstrap.log 2>&1 \
  || { tail -20 /tmp/vms-lab-debootstrap.log; exit 1; }
# Services are started by the lab roles, not by package post-install scripts.
rm -f "$root"/etc/nginx/sites-enabled/default
chroot "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/*
tar -C "$root" -c . | docker import -c 'CMD ["sleep", "infinity"]' -c "LABEL vms.packages=$KEY" - "$IMAGE" >/dev/null
echo "built $IMAGE"
