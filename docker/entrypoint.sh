#!/bin/sh
# Container entrypoint (docker/install.sh puts it beside the face-clean script; the image's
# ENTRYPOINT names it there).
#
# Prepares the volumes, then replaces itself with its arguments (the image's CMD: the watch
# daemon) run as PUID:PGID, so signals such as docker stop's SIGTERM reach face-clean itself.
#
# Before the daemon (`face-clean watch`) starts, it checks what would make the daemon exit at
# once: a photo, quarantine or state folder the user cannot write, rules that do not load,
# model weights the rules need missing (DeepFace's, which the image holds only when built with
# FETCH_WEIGHTS=1) or damaged. Under a restart policy such an exit would only repeat, so it logs
#     face-clean-entrypoint: configuration error: ...
# once, starts nothing and waits for the container to be stopped, then exits with face-clean's
# code for the error (2: folders and rules, 3: weights). Fix the cause, restart the container.
#
#   PUID, PGID   user and group ids to run as (default 1000); ignored when the container is
#                started as a non-root user already (docker run --user)
#   UMASK        optional umask for the files face-clean creates (e.g. 002 for a shared group)
#   FACE_CLEAN_PHOTOS, FACE_CLEAN_CONFIG, FACE_CLEAN_STATE, FACE_CLEAN_QUARANTINE
#                the folders checked and prepared here (default /photos, /config, /state,
#                /quarantine); the image's CMD names the default ones, so change it too
#   FACE_CLEAN_HOME  HOME for the command (default /tmp/face-clean-home, inside the container:
#                caches such as onnxruntime's stay out of the volumes)
#   FACE_CLEAN_PASSWORD_FILE (or FACE_CLEAN_PASSWORD)
#                the review page's password: with one, the daemon also serves the page on
#                0.0.0.0:$FACE_CLEAN_SERVE_PORT (default 8080; `watch --serve`); without one it serves
#                nothing (a page reachable from the network without a password is never started)
#   FACE_CLEAN_PUBLIC_URL, FACE_CLEAN_TRUSTED_PROXY
#                read by the page itself: the address people open behind a reverse proxy, and the
#                proxy's address as the container sees it (podman: 10.88.0.1; docs/nas/reverse-proxy.md)
set -eu

photos=${FACE_CLEAN_PHOTOS:-/photos}
config=${FACE_CLEAN_CONFIG:-/config}
state=${FACE_CLEAN_STATE:-/state}
quarantine=${FACE_CLEAN_QUARANTINE:-/quarantine}
home=${FACE_CLEAN_HOME:-/tmp/face-clean-home}

say() { echo "face-clean-entrypoint: $*" >&2; }

[ "$#" -gt 0 ] || { say "no command given (the image's CMD runs the watch daemon)"; exit 2; }
[ -z "${UMASK:-}" ] || umask "$UMASK"

mkdir -p "$config" "$state" "$quarantine"

# The default rules (the packaged copy of rules.yaml), only for a command that reads
# $config/rules.yaml (the daemon does). An existing file, even a link, is the user's.
for arg in "$@"; do
    case "$arg" in
    "$config/rules.yaml" | "--rules=$config/rules.yaml")
        if [ ! -e "$config/rules.yaml" ] && [ ! -L "$config/rules.yaml" ]; then
            default=$(python3 -I -c 'import pathlib, cleaner; print(pathlib.Path(cleaner.__file__).parent / "rules" / "default_rules.yaml")')
            cp "$default" "$config/rules.yaml"
            say "wrote the default rules to $config/rules.yaml; edit them there"
        fi
        break
        ;;
    esac
done

if [ "$(id -u)" = 0 ]; then
    uid=${PUID:-1000}
    gid=${PGID:-1000}
    for id in "$uid" "$gid"; do
        case "$id" in
        '' | *[!0-9]*) say "PUID and PGID must be numeric ids, got PUID='$uid' PGID='$gid'"; exit 2 ;;
        esac
    done
    as_user() { setpriv --reuid="$uid" --regid="$gid" --clear-groups -- "$@"; }
    # /config and /state are face-clean's own and small: hand everything in them to the user,
    # so a changed PUID still finds its rules, audit log and cache writable. The quarantine may
    # hold many photos (and a NAS share's owner matters), so only its top folder is fixed, if
    # needed. A failed chown (e.g. an NFS export with root squash) is a warning, not the end.
    for dir in "$config" "$state"; do
        find "$dir" \( ! -user "$uid" -o ! -group "$gid" \) -exec chown -h "$uid:$gid" {} + ||
            say "warning: could not give $dir to $uid:$gid"
    done
    as_user test -w "$quarantine" || chown "$uid:$gid" "$quarantine" ||
        say "warning: $quarantine is not writable by $uid:$gid"
    # HOME is the user's to write: a link left there by an earlier start is not followed.
    [ ! -L "$home" ] || rm -f "$home"
    mkdir -p "$home"
    chown -h "$uid:$gid" "$home"
else
    # Started as a non-root user already (docker run --user): nothing to switch or chown.
    uid=$(id -u)
    gid=$(id -g)
    as_user() { "$@"; }
    mkdir -p "$home" 2>/dev/null && [ -w "$home" ] || home=$(mktemp -d)
fi
# face-clean trusts its state folder only when no one else can write to it (as OpenSSH its ~/.ssh):
# a UMASK of 002 must not leave it group-writable.
chmod go-w "$state" || say "warning: could not make $state private (chmod go-w)"
# No passwd entry exists for these ids (none is needed), so HOME would still be root's (or /).
export HOME="$home"
# A group-writable photos volume keeps face-clean's own state (lock, restore journal, remembered
# options) outside it, in $XDG_STATE_HOME (docs/safety/group-share.md): on the state volume, so it
# survives a restart, not in HOME.
export XDG_STATE_HOME="${XDG_STATE_HOME:-$state/xdg}"

# Waits, logging why, until the container is stopped; then exits with code $1.
park() {
    code=$1
    shift
    say "configuration error: $*"
    say "the daemon is not started: it would stop at once (exit $code), and a restart policy would" \
        "only start it again and again. Fix the above, then restart the container."
    trap 'kill "$sleeper" 2>/dev/null; exit "$code"' TERM INT
    while :; do
        sleep 3600 &
        sleeper=$!
        wait "$sleeper" || :
    done
}

# `face-clean models status` with the rule options of the command "$@" (face-clean watch ...):
# it loads the rules and lists the weight files they need, as watch does first.
models_status() {
    shift 2
    left=$#
    while [ "$left" -gt 0 ]; do
        arg=$1
        shift
        left=$((left - 1))
        case "$arg" in
        --keep | --rules | --engine | --detector | --gender-model | --age-model | --min-confidence)
            [ "$left" -gt 0 ] || break
            set -- "$@" "$arg" "$1"
            shift
            left=$((left - 1))
            ;;
        --keep=* | --rules=* | --engine=* | --detector=* | --gender-model=* | --age-model=* | --min-confidence=*)
            set -- "$@" "$arg"
            ;;
        esac
    done
    as_user face-clean models status "$@" 2>&1
}

# The folder must be one the user may write to, or the daemon stops at once (exit 2).
writable() {
    # shellcheck disable=SC2016  # $1 is expanded by the inner sh
    as_user sh -c 'test -d "$1" && test -w "$1" && test -x "$1"' sh "$1" ||
        park 2 "$1 is not a folder that uid $uid gid $gid may write to (face-clean moves photos" \
            "out of $photos into $quarantine and keeps its records in $state): give that user" \
            "write access to the host folder mounted at $1, or set PUID/PGID to its owner"
}

if [ "$#" -ge 2 ] && [ "${1##*/}" = face-clean ] && [ "$2" = watch ]; then
    case " $* " in
    *" --serve "* | *" --serve="*) ;;
    *)
        if [ -n "${FACE_CLEAN_PASSWORD_FILE:-}" ] && [ ! -e "$FACE_CLEAN_PASSWORD_FILE" ]; then
            say "the review page is off: no password file at $FACE_CLEAN_PASSWORD_FILE (FACE_CLEAN_PASSWORD_FILE)"
        elif [ -n "${FACE_CLEAN_PASSWORD_FILE:-}" ] || [ -n "${FACE_CLEAN_PASSWORD:-}" ]; then
            if [ -n "${FACE_CLEAN_PASSWORD_FILE:-}" ] && ! as_user test -r "$FACE_CLEAN_PASSWORD_FILE"; then
                park 2 "FACE_CLEAN_PASSWORD_FILE=$FACE_CLEAN_PASSWORD_FILE is not a file uid $uid gid $gid" \
                    "may read: put the review page's password there (one line), or unset it"
            fi
            set -- "$@" --serve "0.0.0.0:${FACE_CLEAN_SERVE_PORT:-8080}"
        else
            say "the review page is off: set FACE_CLEAN_PASSWORD_FILE (a file holding its password) to serve it"
        fi
        ;;
    esac
    case " $* " in
    *" --dry-run "*) ;;
    *) writable "$photos" && writable "$quarantine" ;;
    esac
    writable "$state"
    code=0
    status=$(models_status "$@") || code=$?
    case "$code" in
    0) ;;
    2) park 2 "the rules cannot be used:
$status" ;;
    3) park 3 "model weights the rules need are missing or damaged: mount a folder that holds" \
        "DeepFace's .deepface/weights/ at ${DEEPFACE_HOME:-\$DEEPFACE_HOME} (\`face-clean models fetch\`" \
        "fills one), or choose the built-in models (gender_model: builtin). \`face-clean models status\`:
$status" ;;
    *) say "warning: \`face-clean models status\` ended with exit $code: $status" ;;
    esac
fi

[ "$(id -u)" = 0 ] || exec "$@"
exec setpriv --reuid="$uid" --regid="$gid" --clear-groups -- "$@"
