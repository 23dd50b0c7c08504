#!/bin/sh
# Container entrypoint (installed as /usr/local/bin/face-clean-entrypoint by docker/install.sh).
#
# Prepares the volumes, then replaces itself with its arguments (the image's CMD: the watch
# daemon) run as PUID:PGID, so signals such as docker stop's SIGTERM reach face-clean itself.
#
#   PUID, PGID   user and group ids to run as (default 1000); ignored when the container is
#                started as a non-root user already (docker run --user)
#   UMASK        optional umask for the files face-clean creates (e.g. 002 for a shared group)
#   FACE_CLEAN_CONFIG, FACE_CLEAN_STATE, FACE_CLEAN_QUARANTINE
#                the folders prepared here (default /config, /state, /quarantine); the image's
#                CMD names the default ones, so change it too when you change these
set -eu

config=${FACE_CLEAN_CONFIG:-/config}
state=${FACE_CLEAN_STATE:-/state}
quarantine=${FACE_CLEAN_QUARANTINE:-/quarantine}

say() { echo "face-clean-entrypoint: $*" >&2; }

[ "$#" -gt 0 ] || { say "no command given (the image's CMD runs the watch daemon)"; exit 2; }
[ -z "${UMASK:-}" ] || umask "$UMASK"

mkdir -p "$config" "$state" "$quarantine"

# First start: the default rules (the packaged copy of rules.yaml). An existing file, even a
# link, is the user's and is never replaced.
if [ ! -e "$config/rules.yaml" ] && [ ! -L "$config/rules.yaml" ]; then
    default=$(python3 -I -c 'import pathlib, cleaner; print(pathlib.Path(cleaner.__file__).with_name("default_rules.yaml"))')
    cp "$default" "$config/rules.yaml"
    say "wrote the default rules to $config/rules.yaml; edit them there"
fi

if [ "$(id -u)" != 0 ]; then
    # Started as a non-root user already: nothing to switch, nothing we may chown.
    for dir in "$config" "$state" "$quarantine"; do
        [ -w "$dir" ] || say "warning: $dir is not writable by uid $(id -u)"
    done
    # docker sets HOME=/ for a uid without a passwd entry
    [ -w "${HOME:-/}" ] || export HOME="$state"
    exec "$@"
fi

uid=${PUID:-1000}
gid=${PGID:-1000}
for id in "$uid" "$gid"; do
    case "$id" in
        '' | *[!0-9]*) say "PUID and PGID must be numeric ids, got PUID='$uid' PGID='$gid'"; exit 2 ;;
    esac
done
as_user() { setpriv --reuid="$uid" --regid="$gid" --clear-groups -- "$@"; }

# /config and /state are face-clean's own and small: hand everything in them to the user, so
# a changed PUID still finds its rules, audit log and cache writable. The quarantine may hold
# many photos (and a NAS share's owner matters), so only its top folder is fixed, if needed.
# A failed chown (e.g. an NFS export with root squash) is a warning, not the end.
for dir in "$config" "$state"; do
    find "$dir" \( ! -user "$uid" -o ! -group "$gid" \) -exec chown -h "$uid:$gid" {} + ||
        say "warning: could not give $dir to $uid:$gid"
done
# face-clean trusts its state folder only when no one else can write to it (as OpenSSH its ~/.ssh):
# a UMASK of 002 must not leave it group-writable.
chmod go-w "$state" || say "warning: could not make $state private (chmod go-w)"
as_user test -w "$quarantine" || chown "$uid:$gid" "$quarantine" ||
    say "warning: $quarantine is not writable by $uid:$gid"

# No passwd entry exists for these ids (none is needed), so HOME would still be root's.
export HOME="$state"
exec setpriv --reuid="$uid" --regid="$gid" --clear-groups -- "$@"
