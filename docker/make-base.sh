#!/bin/sh
# A Debian bookworm base image with Python, for building face-clean's image where Docker Hub
# (and so `FROM python:...`) cannot be reached: only a Debian mirror is needed.
#
#   docker/make-base.sh            prints the base's tag, building it first unless it exists
#   ENGINE=docker docker/make-base.sh
#   then: podman build --build-arg BASE_IMAGE=$(docker/make-base.sh) ...
#
# The image is what the official python image offers face-clean's build: `python` and `pip` in
# /usr/local/bin (a venv of Debian's python3 made at /usr/local), ca-certificates, tzdata,
# util-linux's setpriv. Its tag carries a hash of this script, so a changed script makes a new
# base and an unchanged one is reused (CI builds it once per machine). Debian's point release
# only: for security updates, rebuild it with FACE_CLEAN_BASE_REBUILD=1 or use the official image.
#
#   MIRROR   the Debian mirror (default: the one apt uses here, else deb.debian.org)
#   ENGINE   podman (default) or docker
set -eu

engine=${ENGINE:-podman}
say() { echo "make-base: $*" >&2; }

# The mirror apt already uses for bookworm: deb822 sources ("URIs:" then "Suites: bookworm")
# or one-line ones ("deb URL bookworm main").
apt_mirror() {
    for file in /etc/apt/sources.list.d/*.sources; do
        [ -f "$file" ] || continue
        awk '/^URIs:/ {uri = $2} /^Suites:/ && / bookworm( |$)/ && uri {print uri; exit} /^$/ {uri = ""}' "$file"
    done
    cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
        awk '$1 == "deb" && $3 == "bookworm" {print $2}'
}
mirror=${MIRROR:-$(apt_mirror | head -n 1)}
mirror=${mirror:-http://deb.debian.org/debian}

self=$(sha256sum "$0" | cut -c1-12)
tag=localhost/face-clean-base:bookworm-$self
if [ -z "${FACE_CLEAN_BASE_REBUILD:-}" ] && "$engine" image inspect "$tag" >/dev/null 2>&1; then
    say "reusing $tag"
    echo "$tag"
    exit 0
fi

command -v debootstrap >/dev/null || { say "debootstrap is missing (apt-get install debootstrap)"; exit 2; }
rootfs=$(mktemp -d /var/tmp/face-clean-base.XXXXXX)
trap 'rm -rf "$rootfs" "$rootfs.log"' EXIT
say "debootstrap bookworm from $mirror (about a minute or two)"
debootstrap --variant=minbase --include=ca-certificates,tzdata,python3,python3-venv \
    bookworm "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || { tail -n 20 "$rootfs.log" >&2; rm -f "$rootfs.log"; exit 1; }
rm -f "$rootfs.log"
# python, pip and console scripts in /usr/local/bin, as in the official image
chroot "$rootfs" python3 -m venv /usr/local
echo "deb $mirror bookworm main" >"$rootfs/etc/apt/sources.list"
# What an image does not need: downloaded packages, package lists, documentation.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* \
    "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* "$rootfs"/var/log/*.log \
    "$rootfs"/var/cache/debconf/*-old

tar -C "$rootfs" --numeric-owner -c . | "$engine" import \
    --change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["python3"]' \
    - "$tag" >"$rootfs.log" 2>&1 || { cat "$rootfs.log" >&2; rm -f "$rootfs.log"; exit 1; }
rm -f "$rootfs.log"
say "built $tag"
# Bases made by earlier versions of this script are of no more use (one in use stays).
"$engine" images --format '{{.Repository}}:{{.Tag}}' | grep '^localhost/face-clean-base:bookworm-' |
    grep -v -x "$tag" | xargs -r "$engine" rmi >/dev/null 2>&1 || :
echo "$tag"
