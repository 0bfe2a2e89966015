#!/usr/bin/env bash
# `make docker-check`: build the real Dockerfile and run the image as the README documents it.
#
# 1. Docker: installs Debian's docker.io when dockerd is missing (apt-get update first) and starts
#    dockerd when none answers (log: $WORK/dockerd.log); stops the dockerd it started at the end.
# 2. Base: no image registry is reachable, so a LOCAL stand-in for the CUDA PyTorch base is built:
#    a debootstrapped Debian (`docker import`) plus scripts/docker/base.Dockerfile (a venv with the
#    pinned torch CPU wheel, taken by the host's pip). Cached: reused while its tag exists.
# 3. App: `docker build --build-arg BASE_IMAGE=<local base>` of the repo's Dockerfile.
# 4. Run as documented (port on 127.0.0.1, a host folder on /app/runs, a data folder read-only on
#    /app/data, read-only root), wait for Docker's `healthy`, fetch /_stcore/health and the page,
#    run a 1-epoch `mro search` inside as the image's user, find its run, checkpoint and store on
#    the host, check uid 10001 and that nothing outside the volumes is writable.
# 5. Removes its container and app image by name (the cached base stays).
# Skips (exit 0, printed reason) only where Docker cannot run at all. Ends with a
# `docker-check: N passed, M failed` line.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

NAME=mro-docker-check                 # our container and app image (removed at the end)
BASE_REPO=mro-base                    # cached local base images: mro-base:local-<key>
ROOTFS_IMAGE=mro-rootfs:build-$$      # intermediate, removed once the base is built
WORK=$(mktemp -d /var/tmp/mro-docker-check.XXXXXX)
HEALTH_TIMEOUT=${DOCKER_CHECK_HEALTH_TIMEOUT:-240}
export DOCKER_BUILDKIT=0              # the classic builder: works with Debian's engine, no buildx
PASSED=0
FAILED=0
STARTED_DOCKERD=""
T0=$(date +%s)

log() { printf '[docker-check %4ss] %s\n' "$(($(date +%s) - T0))" "$*"; }
pass() { PASSED=$((PASSED + 1)); log "PASS $*"; }
fail() { FAILED=$((FAILED + 1)); log "FAIL $*"; }
check() {  # check "what" command...  -- counts a pass or a failure, never aborts
  local what=$1; shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
skip() {
  log "SKIPPED: $*"
  echo "docker-check: 0 passed, 0 failed, 1 skipped"
  exit 0
}

cleanup() {
  local rc=$?
  if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
    docker rm -f "$NAME" >/dev/null 2>&1 || true
    docker rmi -f "$NAME:latest" "$ROOTFS_IMAGE" >/dev/null 2>&1 || true
  fi
  if [ -n "$STARTED_DOCKERD" ]; then
    kill "$STARTED_DOCKERD" 2>/dev/null || true
    for _ in $(seq 30); do kill -0 "$STARTED_DOCKERD" 2>/dev/null || break; sleep 1; done
  fi
  if [ -n "${KEEP_WORK:-}" ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT

# ---------------------------------------------------------------- 1. a Docker engine that answers
if ! command -v dockerd >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing Debian's docker.io"
    apt-get update -qq >"$WORK/apt.log" 2>&1 \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >>"$WORK/apt.log" 2>&1 \
      || { tail -5 "$WORK/apt.log"; skip "docker.io could not be installed (see above)"; }
  else
    skip "no dockerd and no way to install it (needs root and apt-get)"
  fi
fi
command -v docker >/dev/null 2>&1 || skip "no docker client on PATH"
if ! docker info >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || skip "no Docker engine answers and starting dockerd needs root"
  log "starting dockerd (log: $WORK/dockerd.log)"
  dockerd >"$WORK/dockerd.log" 2>&1 &
  STARTED_DOCKERD=$!
  for _ in $(seq 60); do
    docker info >/dev/null 2>&1 && break
    kill -0 "$STARTED_DOCKERD" 2>/dev/null || break
    sleep 1
  done
  if ! docker info >/dev/null 2>&1; then
    tail -5 "$WORK/dockerd.log"
    STARTED_DOCKERD=""
    skip "dockerd did not start (see its log above)"
  fi
fi
log "engine: $(docker version --format '{{.Server.Version}}')"

# ---------------------------------------------------------------- 2. the cached local base image
TORCH_VERSION=$(sed -n 's/^torch==\([^ ;#]*\).*/\1/p' requirements.txt)
[ -n "$TORCH_VERSION" ] || { log "requirements.txt pins no torch==X"; exit 1; }
CODENAME=${MRO_DEBIAN_SUITE:-$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")}
mirror_from_host() {  # the host's own Debian mirror: deb822 sources first, then sources.list
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && awk '/^URIs:/ {print $2; exit}' "$f" && return
  done
  awk '/^deb[[:space:]]/ && $2 ~ /^https?:/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null
}
MIRROR=${MRO_DEBIAN_MIRROR:-$(mirror_from_host)}
[ -n "$MIRROR" ] || { log "no Debian mirror in the host's apt sources; set MRO_DEBIAN_MIRROR"; exit 1; }

CTX=$WORK/base-ctx
mkdir -p "$CTX/wheels" "$CTX/certs"
python3 scripts/docker/pip_conf.py "$CTX/pip.conf" "$CTX/certs"
BASE_KEY=$( { cat scripts/docker/base.Dockerfile "$CTX/pip.conf"; cat "$CTX"/certs/* 2>/dev/null;
              echo "$TORCH_VERSION $CODENAME $MIRROR"; } | sha256sum | cut -c1-12)
BASE_IMAGE=$BASE_REPO:local-$BASE_KEY

if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  log "base $BASE_IMAGE cached: reused"
else
  log "building base $BASE_IMAGE: debootstrap $CODENAME from $MIRROR"
  if ! command -v debootstrap >/dev/null 2>&1; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap; } \
      >>"$WORK/apt.log" 2>&1
  fi
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    "$CODENAME" "$WORK/rootfs" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
    || { tail -20 "$WORK/debootstrap.log"; log "debootstrap failed"; exit 1; }
  rm -rf "$WORK"/rootfs/var/cache/apt/archives/*.deb "$WORK"/rootfs/var/lib/apt/lists/*
  tar -C "$WORK/rootfs" -c . | docker import - "$ROOTFS_IMAGE" >/dev/null
  rm -rf "$WORK/rootfs"
  if ! docker run --rm "$ROOTFS_IMAGE" true; then
    skip "the engine cannot start a container (docker run of a plain Debian failed)"
  fi
  # The wheel must fit the base's Python: ask the base, then let the host's pip fetch for it
  # (it takes the torch CPU wheel from wherever this host's pip config finds it).
  PYVER=$(docker run --rm "$ROOTFS_IMAGE" python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  log "base Python $PYVER; fetching torch==$TORCH_VERSION and its dependencies for it"
  python3 -m pip download --quiet --only-binary=:all: --python-version "$PYVER" \
    -d "$CTX/wheels" "torch==$TORCH_VERSION" >"$WORK/pip-download.log" 2>&1 \
    || { tail -20 "$WORK/pip-download.log"; log "no torch==$TORCH_VERSION wheel for Python $PYVER"; exit 1; }
  log "torch wheel: $(cd "$CTX/wheels" && ls torch-*.whl)"
  docker build --quiet -f scripts/docker/base.Dockerfile --build-arg "ROOTFS_IMAGE=$ROOTFS_IMAGE" \
    --build-arg "TORCH_VERSION=$TORCH_VERSION" -t "$BASE_IMAGE" "$CTX" >"$WORK/base-build.log" 2>&1 \
    || { tail -30 "$WORK/base-build.log"; log "base image build failed"; exit 1; }
  docker rmi "$ROOTFS_IMAGE" >/dev/null 2>&1 || true
fi
check "base image has torch $TORCH_VERSION" \
  docker run --rm "$BASE_IMAGE" python -W ignore -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '$TORCH_VERSION')"

# ---------------------------------------------------------------- 3. the app image, real Dockerfile
log "docker build --build-arg BASE_IMAGE=$BASE_IMAGE -t $NAME ."
if docker build --build-arg "BASE_IMAGE=$BASE_IMAGE" -t "$NAME:latest" . >"$WORK/build.log" 2>&1; then
  pass "docker build of ./Dockerfile"
else
  tail -40 "$WORK/build.log"; fail "docker build of ./Dockerfile"
  echo "docker-check: $PASSED passed, $FAILED failed"; exit 1
fi

# ---------------------------------------------------------------- 4. run it as documented
RUNS=$WORK/runs DATA=$WORK/data
mkdir -p "$RUNS" "$DATA/MOSEI"
echo "read-only feature file" >"$DATA/MOSEI/placeholder.txt"
chown 10001:10001 "$RUNS" 2>/dev/null || chmod 0777 "$RUNS"  # the image's user writes the runs volume (README)
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# README's command, less `--gpus all` (no GPU here) and on a free port instead of 8501:
docker run -d --name "$NAME" --read-only --tmpfs /tmp -p "127.0.0.1:$PORT:8501" \
  -v "$RUNS:/app/runs" -v "$DATA:/app/data:ro" "$NAME:latest" >/dev/null
log "container started on 127.0.0.1:$PORT; waiting for Docker's health status"
status=starting
for _ in $(seq "$HEALTH_TIMEOUT"); do
  status=$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$NAME" 2>/dev/null || echo gone)
  [ "$(docker inspect -f '{{.State.Running}}' "$NAME" 2>/dev/null)" = true ] || { status=exited; break; }
  [ "$status" = healthy ] || [ "$status" = unhealthy ] && break
  sleep 1
done
if [ "$status" = healthy ]; then pass "Docker reports the container healthy"; else
  docker logs --tail 40 "$NAME" 2>&1 || true; fail "container health is '$status', not healthy"; fi

fetch() {  # fetch URL -> body on stdout (python: curl is not on every machine)
  python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())' "$1"
}
check "GET /_stcore/health reads ok" test "$(fetch "http://127.0.0.1:$PORT/_stcore/health" 2>/dev/null)" = ok
page_ok() { fetch "http://127.0.0.1:$PORT/" 2>/dev/null | grep -q 'id="root"'; }
check "GET / serves the Streamlit page" page_ok
published=$(docker port "$NAME" 8501/tcp)
check "port published on 127.0.0.1 only ($published)" test "$published" = "127.0.0.1:$PORT"

log "mro search, 1 epoch, inside the container"
if docker exec "$NAME" mro search --dataset synthetic --epochs 1 --warmup 1 --n-train 64 --n-valid 32 --n-test 32 \
    --name docker-check --no-progress --json >"$WORK/search.json" 2>"$WORK/search.err"; then
  pass "1-epoch mro search in the container"
else
  tail -20 "$WORK/search.err"; fail "1-epoch mro search in the container"
fi
RUN_ID=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["run_id"])' "$WORK/search.json" 2>/dev/null || echo none)
check "run folder on the host ($RUN_ID)" test -d "$RUNS/$RUN_ID"
check "checkpoint on the host, written by uid 10001" \
  test "$(stat -c %u "$RUNS/$RUN_ID/search.pt" 2>/dev/null)" = 10001
check "run store on the host says the run is done" python3 - "$RUNS/mro.sqlite" "$RUN_ID" <<'EOF'
import sqlite3, sys
try:
    row = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True).execute(
        "SELECT status, checkpoint FROM runs WHERE id = ?", (sys.argv[2],)).fetchone()
except sqlite3.Error as e:
    sys.exit(f"{sys.argv[1]}: {e}")
# the store keeps a checkpoint inside its workspace relative to it (portable workspaces, issue 20)
ok = (f"{sys.argv[2]}/search.pt", f"/app/runs/{sys.argv[2]}/search.pt")
if not (row and row[0] == "done" and row[1] in ok):
    sys.exit(f"run {sys.argv[2]}: status/checkpoint {row} (want done and one of {ok})")
EOF

check "the dashboard process (pid 1) runs as uid 10001" \
  test "$(docker exec "$NAME" awk '/^Uid:/ {print $2}' /proc/1/status)" = 10001
check "docker exec runs as uid 10001" test "$(docker exec "$NAME" id -u)" = 10001
# Only /app/runs (the volume) and /tmp (tmpfs, memory) are writable; the data volume is read-only.
check "nothing outside the volumes is writable" docker exec -i "$NAME" python - <<'EOF'
import os, sys, sysconfig, tempfile
denied = ["/", "/app", "/app/mro_core", "/app/checkpoints", "/app/data", "/app/data/MOSEI", "/etc",
          "/usr", "/opt", sysconfig.get_paths()["purelib"], os.path.expanduser("~")]
bad = []
for d in denied:
    try:
        with tempfile.NamedTemporaryFile(dir=d):
            bad.append(d)
    except OSError:
        pass
for f in ["/app/checkpoints/demo.pt", "/app/data/MOSEI/placeholder.txt"]:
    try:
        open(f, "ab").close()
        bad.append(f)
    except OSError:
        pass
with tempfile.NamedTemporaryFile(dir="/app/runs"):
    pass  # the runs volume must stay writable
print("writable outside the volumes:", bad or "none")
sys.exit(1 if bad else 0)
EOF
check "the data volume is readable in the container" \
  docker exec "$NAME" grep -q "read-only feature file" /app/data/MOSEI/placeholder.txt

# ---------------------------------------------------------------- 5. clean up (trap does the rest)
docker rm -f "$NAME" >/dev/null
docker rmi "$NAME:latest" >/dev/null
check "its container and image are gone" bash -c \
  "! docker container inspect $NAME >/dev/null 2>&1 && ! docker image inspect $NAME:latest >/dev/null 2>&1"
log "wall time $(($(date +%s) - T0)) s"
echo "docker-check: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
