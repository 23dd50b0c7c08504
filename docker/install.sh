#!/bin/sh
# Build-time install, run by the Dockerfile (RUN docker/install.sh SRC) and by tests/test_docker.py
# in a fresh virtual environment, so both go through the same steps.
#
#   docker/install.sh SRC [PIP-OPTION...]
#
# Installs SRC with the `python` first on PATH, as the README does (`pip install .`: the onnx
# engine, no tensorflow), puts the entrypoint beside the face-clean script, and, when
# FETCH_WEIGHTS=1, downloads the weights the default rules need into $DEEPFACE_HOME.
set -eu

src=${1:?usage: install.sh SRC [PIP-OPTION...]}
shift

PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1 python -m pip install --no-cache-dir "$@" "$src"

bin=$(python -c 'import sysconfig; print(sysconfig.get_path("scripts"))')
install -m 0755 "$src/docker/entrypoint.sh" "$bin/face-clean-entrypoint"

: "${DEEPFACE_HOME:?set DEEPFACE_HOME: the folder that holds .deepface/weights/}"
weights="$DEEPFACE_HOME/.deepface/weights"
# deepface creates this folder when it is imported; the container's user may not be allowed
# to, so it exists even when the weights are mounted at run time (FETCH_WEIGHTS=0).
mkdir -p "$weights"

if [ "${FETCH_WEIGHTS:-1}" = 1 ]; then
    face-clean models fetch
    for model in "$weights"/*.onnx; do
        [ -f "$model" ] || continue
        # Docker layers may keep whole seconds of a file's mtime only; face-clean names its
        # light copy after the weight file's size and mtime, so make the mtime whole first.
        touch -d "@$(stat -c %Y "$model")" "$model"
        # Make the light, memory-mapped copy now: at run time the (non-root) user cannot
        # write here, and without the copy the model would be loaded whole (cleaner/onnx_session.py).
        python -I -c 'import sys, pathlib, cleaner.onnx_session as o; o.light_copy(pathlib.Path(sys.argv[1]))' "$model"
    done
fi
# Readable by whatever uid PUID names.
chmod -R a+rX "$DEEPFACE_HOME"
