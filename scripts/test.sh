#!/usr/bin/env bash
# Runs every check kycbot's CI runs, on a fresh machine too: it installs and
# starts what the tests need when it is missing (Redis, python-telegram-bot
# for the cross-check against an independent decryptor, Chromium for the
# request page, OpenSSL 3's libcrypto for passport's RSA), then checks
# formatting, vets, builds and tests passport without cgo (Go's RSA),
# checks that go.mod is tidy, runs the whole test suite with the race
# detector on a single Redis server (and the Bot API framework adapters,
# modules of their own), and beside it the store's tests on a Redis
# Cluster and on Sentinel, then the end-to-end multi-instance test on each
# (and the store's tests on Valkey, where the system's apt sources have
# it); it starts them on free ports and stops them
# (scripts/redis-topology.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '==> [%s] %s\n' "$(date +%T)" "$*"; }

apt_updated=""
apt_update() {
  if [ -z "$apt_updated" ]; then
    # Finish an install an earlier run was stopped in the middle of.
    DEBIAN_FRONTEND=noninteractive dpkg --configure -a >/dev/null 2>&1 || true
    step "apt-get update"
    apt-get update -qq
    apt_updated=1
  fi
}
apt_install() {
  if [ "$(id -u)" != 0 ]; then
    echo "scripts/test.sh: $* missing and not root; install it (apt-get install $*) and re-run" >&2
    exit 1
  fi
  apt_update
  step "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# Redis on 127.0.0.1:6379 (store and end-to-end tests).
redis_up() { command -v redis-cli >/dev/null && redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }
if ! redis_up; then
  command -v redis-server >/dev/null || apt_install redis-server
  step "starting redis-server on 127.0.0.1:6379"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  for _ in $(seq 50); do redis_up && break; sleep 0.1; done
  redis_up || { echo "scripts/test.sh: redis-server did not answer on 127.0.0.1:6379" >&2; exit 1; }
fi

# python-telegram-bot, the independent decryptor the interop test compares with.
ptb_python="${KYCBOT_PTB_PYTHON:-/usr/bin/python3}"
if ! "$ptb_python" -c 'import telegram.passport' >/dev/null 2>&1; then
  apt_install python3-python-telegram-bot
fi

# OpenSSL 3's libcrypto.so.3, which passport loads at run time for RSA (its
# tests fail in a cgo build without it); Debian has it by default.
if ! ldconfig -p 2>/dev/null | grep -q 'libcrypto\.so\.3 '; then
  apt_install libssl3
fi

# Debian's chromium, the headless browser that loads the request page
# (web: TestPageInChromium fails under CI when it is missing).
if [ ! -x /usr/bin/chromium ]; then
  apt_install chromium
fi

step "gofmt"
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
  echo "gofmt would change these files (run gofmt -w):" >&2
  echo "$unformatted" >&2
  exit 1
fi

step "go vet"
go vet ./...

# Without cgo (or off Linux) passport decrypts RSA with Go's crypto/rsa
# instead of the system's OpenSSL: that build and its tests too.
step "CGO_ENABLED=0: go build, go vet and the passport tests (crypto/rsa)"
CGO_ENABLED=0 go build ./...
CGO_ENABLED=0 go vet ./passport/...
CGO_ENABLED=0 go test -count=1 ./passport/...

step "go mod tidy"
if ! go mod tidy -diff; then
  echo "go.mod/go.sum are not tidy: run go mod tidy and commit the result" >&2
  exit 1
fi

# The other topologies: the store's tests and the multi-instance test,
# which there checks that the keys spread over the cluster's masters, or
# fails the Sentinel master over twice while users are verified.
if ! command -v redis-sentinel >/dev/null; then
  apt_install redis-sentinel
  # The package may start a sentinel of its own (26379): not ours.
  (systemctl stop redis-sentinel || service redis-sentinel stop) >/dev/null 2>&1 || true
fi
topo_dirs=()
stop_topologies() {
  for d in ${topo_dirs[@]+"${topo_dirs[@]}"}; do
    bash scripts/redis-topology.sh stop "$d" || true
    rm -rf "$d"
  done
}
trap stop_topologies EXIT
# start_topology NAME KIND [VAR=VALUE...]: starts a topology and sets the
# variable NAME to its addresses (not in a subshell: stop_topologies must
# know its directory).
start_topology() {
  local d addrs
  d=$(mktemp -d /tmp/kycbot-redis-XXXXXX)
  topo_dirs+=("$d")
  addrs=$(env "${@:3}" bash scripts/redis-topology.sh start "$2" "$d")
  printf -v "$1" '%s' "$addrs"
}
# topology_test NAME VAR=VALUE PACKAGE PATTERN TEST...: runs the tests of
# PACKAGE that match PATTERN with VAR set, and checks that each TEST ran
# and passed (they skip on another topology).
topology_test() {
  local name=$1 setting=$2 pkg=$3 pattern=$4 log
  shift 4
  log=$(mktemp)
  step "go test -race $pkg on $name"
  if ! env "$setting" go test -race -count=1 -timeout 10m -v -run "$pattern" "$pkg" >"$log" 2>&1; then
    # The end of -v output may not reach the failing test: its output
    # (the lines since its last === line), panics and races follow it,
    # next to the last line.
    grep -v '^redis: ' "$log" | tail -200 >&2 || true
    echo "scripts/test.sh: what failed:" >&2
    grep -v '^redis: ' "$log" | awk '
      /^=== /{buf=""; next}
      /^[[:space:]]*--- FAIL/{printf "%s%s\n", buf, $0; buf=""; next}
      /^panic: |^WARNING: DATA RACE/{n=60}
      n>0{print; n--; next}
      {buf=buf $0 "\n"}' >&2 || true
    echo "scripts/test.sh: the tests of $pkg failed on $name (above; all of the output: $log)" >&2
    exit 1
  fi
  for t in "$@"; do
    if ! grep -q -- "^--- PASS: $t " "$log"; then
      echo "scripts/test.sh: $t did not run on $name" >&2
      exit 1
    fi
  done
  grep -E '^ok|(keys per|master .* -> |users, .* lost)' "$log" | sed 's/^ *//' || true
  rm -f "$log"
}

step "starting a Redis Cluster and a Sentinel setup"
start_topology cluster cluster
start_topology sentinels sentinel
# The store's tests on both (they are light) run beside the full suite;
# the multi-instance test on each comes after it, in turn.
topology_test "a Redis Cluster ($cluster)" "KYCBOT_TEST_REDIS_CLUSTER=$cluster" ./store/ . TestTopologyCluster TestWithReplicas &
store_on_cluster=$!
topology_test "Sentinel ($sentinels)" "KYCBOT_TEST_REDIS_SENTINEL=$sentinels" ./store/ . TestTopologySentinelFailover TestWithReplicas &
store_on_sentinel=$!

step "go test -race (single Redis server): every package but tests/"
go test -race -timeout 20m $(go list ./... | grep -v '/tests$')

# The end-to-end package (tests/): real bots against the sandbox, most of
# its tests waiting on Telegram's and the users' pace, so they run three at
# a time (about 5 minutes on a 2-core machine; the timeout leaves room for
# a loaded one). Alone: beside the other packages it starved the machine.
step "go test -race ./tests/ (single Redis server)"
go test -race -timeout 35m -parallel 3 ./tests/

# The Bot API framework adapters are modules of their own (./... above does
# not reach them): vet, tidiness and their tests (a telego and a
# go-telegram/bot host bot against the sandbox's Bot API front). The two
# run at once: each mostly waits on its simulated users (under one core).
adapter_pids=()
adapter_logs=()
for adapter in bot/botapi/kyctelego bot/botapi/kyctgbot; do
  step "go vet, go mod tidy and go test -race in $adapter"
  log=$(mktemp)
  adapter_logs+=("$log")
  (cd "$adapter" && go vet ./... && go mod tidy -diff && go test -race -timeout 15m ./...) >"$log" 2>&1 &
  adapter_pids+=($!)
done
adapters_failed=""
for i in "${!adapter_pids[@]}"; do
  if ! wait "${adapter_pids[$i]}"; then
    adapters_failed=1
  fi
  cat "${adapter_logs[$i]}"
  rm -f "${adapter_logs[$i]}"
done
if [ -n "$adapters_failed" ]; then
  echo "scripts/test.sh: an adapter's checks failed (above)" >&2
  exit 1
fi

wait "$store_on_cluster"
wait "$store_on_sentinel"
topology_test "a Redis Cluster ($cluster)" "KYCBOT_TEST_REDIS_CLUSTER=$cluster" ./tests/ '^TestInstancesAsProcesses$' TestInstancesAsProcesses
topology_test "Sentinel ($sentinels)" "KYCBOT_TEST_REDIS_SENTINEL=$sentinels" ./tests/ '^TestInstancesAsProcesses$' TestInstancesAsProcesses

# Valkey, where the apt sources have it (Debian 12 does not; 13 does).
if ! command -v valkey-server >/dev/null && [ "$(id -u)" = 0 ]; then
  if ! ls /var/lib/apt/lists/*Packages* >/dev/null 2>&1; then
    apt_update
  fi
  if apt-cache policy valkey-server 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    apt_install valkey-server
    (systemctl stop valkey-server || service valkey-server stop) >/dev/null 2>&1 || true
  fi
fi
if command -v valkey-server >/dev/null; then
  start_topology valkey single REDIS_SERVER=valkey-server REDIS_CLI="$(command -v valkey-cli || echo redis-cli)"
  topology_test "Valkey ($valkey)" "KYCBOT_TEST_REDIS=$valkey" ./store/ . TestWithReplicas
else
  step "valkey-server: not in this system's apt sources; the store's tests ran on Redis only"
fi
