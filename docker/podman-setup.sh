#!/usr/bin/env bash
# As root, on Debian bookworm: what tests/test_container.py needs to build and run the image
# (CI runs it before the tests; docs/development/container-tests.md): podman, runc, debootstrap, and
# podman settings this kind of machine needs.
#
# - runtime runc: crun refuses hosts whose cgroups are a v1/v2 hybrid;
# - default_ulimits: podman raises a container's open-file and process limits beyond what a
#   sandboxed host grants (runc: "error setting rlimits ... operation not permitted"), so ask
#   for less.
# The settings go into a drop-in file of their own; an existing containers.conf is left alone.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
if ! command -v podman >/dev/null || ! command -v runc >/dev/null || ! command -v debootstrap >/dev/null; then
    apt-get update && apt-get install -y podman runc debootstrap
fi

# (values tried on these machines, lowered to the hard limits of this shell where they are lower)
at_most() { if [ "$2" = unlimited ] || [ "$1" -le "$2" ]; then echo "$1"; else echo "$2"; fi; }
nofile=$(at_most 20000 "$(ulimit -Hn)")
nproc=$(at_most 32768 "$(ulimit -Hu)")
mkdir -p /etc/containers/containers.conf.d
cat >/etc/containers/containers.conf.d/50-face-clean.conf <<EOF
# written by face-clean's docker/podman-setup.sh
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
runtime = "runc"
EOF
podman --version
