# face-clean for a NAS: the watch daemon over /photos, as PUID:PGID. See docker/README-section.md
# (the README's "Docker (NAS)" section).
#
#   docker build -t face-clean .                            weights baked in (needs the internet)
#   docker build -t face-clean --build-arg FETCH_WEIGHTS=0 .   no weights; mount them at run time
#
# The base image has util-linux's setpriv (the entrypoint's user switch) and tzdata (for TZ).
FROM python:3.12.12-slim-bookworm

# 1: run `face-clean models fetch` at build time; 0: mount a folder holding .deepface/weights/
# at /opt/face-clean/models instead.
ARG FETCH_WEIGHTS=1

# deepface reads and writes its weights under $DEEPFACE_HOME/.deepface/weights/; here they sit
# outside any volume, readable by any uid.
ENV DEEPFACE_HOME=/opt/face-clean/models \
    PYTHONUNBUFFERED=1

# Only what .dockerignore lets through: the package, its metadata and docker/.
COPY . /usr/src/face-clean
RUN /usr/src/face-clean/docker/install.sh /usr/src/face-clean

# Photos to clean; what the rules moved out (review/ is inside it); rules.yaml; the audit log,
# the analysis cache (state.db) and the heartbeat.
VOLUME ["/photos", "/quarantine", "/config", "/state"]

# The daemon touches the heartbeat file while it is alive and watching.
HEALTHCHECK --interval=60s --timeout=30s --start-period=10m --retries=3 \
    CMD ["face-clean", "health", "/state/heartbeat", "--max-age", "120"]

# Starts as root only to prepare the volumes and switch to PUID:PGID (setpriv); it execs the
# CMD, so `docker run IMAGE face-clean run /photos --keep Man` runs that instead.
ENTRYPOINT ["/usr/local/bin/face-clean-entrypoint"]
CMD ["face-clean", "watch", "/photos", "--rules", "/config/rules.yaml", "--quarantine", "/quarantine", \
     "--review-dir", "/quarantine/review", "--audit-log", "/state/audit.jsonl", "--heartbeat", "/state/heartbeat"]
