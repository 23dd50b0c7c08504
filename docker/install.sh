#!/bin/sh
# The image's build steps, one per build stage of the Dockerfile; tests/test_docker.py runs the
# same steps in a fresh virtual environment. Each installs with the `python` first on PATH.
#
#   install.sh deps SRC [PIP-OPTION...]     the pinned dependencies and the build requirements,
#                                           from SRC/setup.cfg and SRC/pyproject.toml alone (plus
#                                           the extras named in $EXTRAS, comma-separated)
#   install.sh package SRC [PIP-OPTION...]  face-clean itself, without dependencies, and the
#                                           entrypoint beside the face-clean script; into
#                                           $FACE_CLEAN_PREFIX when set (a folder the image copies)
#   install.sh weights                      $DEEPFACE_HOME/.deepface/weights/, readable by any
#                                           uid; with FETCH_WEIGHTS=1, DeepFace's VGG-Face gender
#                                           weights in it (what `gender_model: deepface` needs;
#                                           the built-in models need nothing), downloaded into
#                                           $FACE_CLEAN_WEIGHTS_CACHE when set (a build cache)
#
# Network settings belong to the build, never to the image: a CA bundle given as the build
# secret `ca` (/run/secrets/ca) serves pip and the weight downloads, and PIP_INDEX_URL,
# PIP_EXTRA_INDEX_URL, PIP_TRUSTED_HOST and the proxy variables come in as build arguments of
# the stages that download, which the final image does not inherit.
set -eu

say() { echo "install.sh: $*" >&2; }
step=${1:?usage: install.sh deps|package SRC [PIP-OPTION...] | install.sh weights}
shift

ca=/run/secrets/ca
if [ -f "$ca" ]; then
    export PIP_CERT="$ca" REQUESTS_CA_BUNDLE="$ca" SSL_CERT_FILE="$ca" CURL_CA_BUNDLE="$ca"
fi
# An unset build argument arrives as an empty variable, which pip would take as a value.
for var in PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_TRUSTED_HOST; do
    eval "[ -n \"\${$var:-}\" ] || unset $var"
done
export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1

case "$step" in
deps)
    src=${1:?usage: install.sh deps SRC [PIP-OPTION...]}
    shift
    reqs=$(mktemp)
    python "$(dirname "$0")/requirements.py" "$src" "${EXTRAS:-}" >"$reqs"
    python -m pip install "$@" -r "$reqs"
    rm -f "$reqs"
    ;;

package)
    src=${1:?usage: install.sh package SRC [PIP-OPTION...]}
    shift
    prefix=${FACE_CLEAN_PREFIX:-}
    python -m pip install --no-deps ${prefix:+--prefix "$prefix"} "$@" "$src"
    # The entrypoint goes where pip put the face-clean script: the scripts folder of this
    # python's scheme, under the prefix when one is given.
    bin=$(python -c 'import sys, sysconfig
vars = {"base": sys.argv[1], "platbase": sys.argv[1]} if sys.argv[1] else None
print(sysconfig.get_path("scripts", vars=vars))' "$prefix")
    [ -x "$bin/face-clean" ] || { say "pip put no face-clean script into $bin"; exit 1; }
    install -m 0755 "$src/docker/entrypoint.sh" "$bin/face-clean-entrypoint"
    ;;

weights)
    : "${DEEPFACE_HOME:?set DEEPFACE_HOME: the folder that holds .deepface/weights/}"
    home=$DEEPFACE_HOME
    # deepface creates this folder when it is imported; the container's user may not be
    # allowed to, so it exists even when the weights are mounted at run time.
    mkdir -p "$home/.deepface/weights"
    case "${FETCH_WEIGHTS:-0}" in
    0 | 1) ;;
    *)
        say "FETCH_WEIGHTS must be 0 (fetch nothing, the default) or 1 (DeepFace's gender weights), got '$FETCH_WEIGHTS'"
        exit 2
        ;;
    esac
    if [ "${FETCH_WEIGHTS:-0}" = 1 ]; then
        # The built-in models come with the package; only DeepFace's own gender model (the
        # default rules analyse gender alone) is downloaded. The detector (YuNet by default)
        # ships with face-clean.
        fetched=${FACE_CLEAN_WEIGHTS_CACHE:-$home}
        DEEPFACE_HOME=$fetched face-clean models fetch --gender-model deepface
        # Only the files these rules need from the weights folder (the cache may hold others;
        # files that come with face-clean stay where they are), and their light copies.
        for model in $(DEEPFACE_HOME=$fetched face-clean models status --gender-model deepface |
            awk -v dir="$fetched/.deepface/weights/" '$1 == "present" {
                for (i = 2; i <= NF; i++) if (index($i, dir) == 1) print $i }'); do
            # Image layers may keep whole seconds of a file's mtime only; face-clean names its
            # light copy after the weight file's size and mtime, so make the mtime whole first.
            touch -d "@$(stat -c %Y "$model")" "$model"
            # The light, memory-mapped copy, made now: at run time the (non-root) user cannot
            # write here, and without it the model would be loaded whole (cleaner/analysis/onnx_session.py).
            light=$(python -I -c 'import sys, pathlib, cleaner.analysis.onnx_session as o
print(o.light_copy(pathlib.Path(sys.argv[1])).parent)' "$model")
            if [ "$fetched" != "$home" ]; then
                mkdir -p "$home/.deepface/weights/face-clean-light"
                cp -p "$model" "$home/.deepface/weights/"
                cp -Rp "$light" "$home/.deepface/weights/face-clean-light/"
            fi
        done
        # What the image will hold, checked as face-clean will find it.
        DEEPFACE_HOME=$home face-clean models status --gender-model deepface ||
            { say "the weights folder $home lacks what gender_model: deepface needs"; exit 1; }
    fi
    # Readable by whatever uid PUID names.
    chmod -R a+rX "$home"
    ;;

*)
    say "unknown step '$step': deps, package or weights"
    exit 2
    ;;
esac
