#!/usr/bin/env bash
# Build the execution environment's base image from Debian packages: there is no container registry
# to pull quay.io/centos or ansible's own EE images from, so the base is made the way the lab image is
# (lab/build-image.sh): debootstrap + docker import.
# Cached: does nothing when an image built from the same inputs exists.
#   ee/build-base.sh [--force]
set -euo pipefail
IMAGE="${VMS_EE_BASE_IMAGE:-vms-deploy/ee-base:bookworm}"
SUITE="${VMS_EE_SUITE:-bookworm}"
# Python 3.11 (bookworm) is what ansible-core 2.19 needs; pip comes from Debian (ansible-builder's
# own pip step uses ensurepip, which Debian leaves out). OpenSSH for Linux hosts, Graphviz for the
# report's picture, git for `vms-deploy diff --rev-a`, libkrb5 for pywinrm's Kerberos transport.
PACKAGES="python3,python3-pip,ca-certificates,openssh-client,sshpass,git,graphviz,libkrb5-3,bash,procps"
# The build machine's CA bundle: package-index traffic from containers may pass a TLS-intercepting
# proxy that only the host trusts (../shared/LAB-NOTES.md). pip inside the image build uses it through
# PIP_CERT; nothing else in the image reads it.
HOST_CA="${VMS_EE_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
[[ -r "$HOST_CA" ]] || { echo "ee/build-base.sh: CA bundle $HOST_CA not readable; set VMS_EE_CA_BUNDLE" >&2; exit 2; }

# Cache key: everything that goes into the image (suite, packages, CA bundle, this script).
KEY="$( { printf '%s %s\n' "$SUITE" "$PACKAGES"; cat "$HOST_CA" "$0"; } | sha256sum | cut -c1-16)"
have="$(docker image inspect -f '{{ index .Config.Labels "vms.ee-base" }}' "$IMAGE" 2>/dev/null || true)"
if [[ "${1:-}" != "--force" && "$have" == "$KEY" ]]; then
  echo "EE base image $IMAGE present (cached, $KEY)"
  exit 0
fi
command -v debootstrap >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap; }
root="$(mktemp -d /tmp/vms-ee-rootfs.XXXXXX)"
trap 'rm -rf "$root"' EXIT
echo "building $IMAGE with debootstrap ($SUITE) ..."
debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$root" >/tmp/vms-ee-debootstrap.log 2>&1 \
  || { tail -20 /tmp/vms-ee-debootstrap.log; exit 1; }
install -D -m 0644 "$HOST_CA" "$root/usr/local/share/vms-deploy/build-ca-bundle.crt"
# ansible-builder runs `$PKGMGR clean all` after its steps; Debian's apt-get takes no argument there.
# System packages are all in this image already, so the shim only cleans and refuses installs loudly.
cat >"$root/usr/local/bin/ee-pkgmgr" <<'SHIM'
#!/bin/sh
# ansible-builder's package manager hook on a Debian base (ee/build-base.sh).
case "$1" in
  clean) exec apt-get clean ;;
  install) shift; apt-get update -q && exec apt-get install -y -q --no-install-recommends "$@" ;;
  *) echo "ee-pkgmgr: unsupported command $*" >&2; exit 2 ;;
esac
SHIM
chmod 0755 "$root/usr/local/bin/ee-pkgmgr"
chroot "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/*
tar -C "$root" -c . | docker import \
  -c 'ENV PIP_CERT=/usr/local/share/vms-deploy/build-ca-bundle.crt' \
  -c 'ENV LANG=C.UTF-8' \
  -c 'CMD ["bash"]' -c "LABEL vms.ee-base=$KEY" - "$IMAGE" >/dev/null
echo "built $IMAGE ($KEY)"
