#!/usr/bin/env bash
# Runs every check kycbot's CI runs, on a fresh machine too: it installs and
# starts what the tests need when it is missing (Redis, python-telegram-bot
# for the cross-check against an independent decryptor, Chromium for the
# request page), then checks formatting, vets, checks that go.mod is tidy, and
# runs the whole test suite with the race detector.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '==> %s\n' "$*"; }

apt_updated=""
apt_install() {
  if [ "$(id -u)" != 0 ]; then
    echo "scripts/test.sh: $* missing and not root; install it (apt-get install $*) and re-run" >&2
    exit 1
  fi
  if [ -z "$apt_updated" ]; then
    # Finish an install an earlier run was stopped in the middle of.
    DEBIAN_FRONTEND=noninteractive dpkg --configure -a >/dev/null 2>&1 || true
    step "apt-get update"
    apt-get update -qq
    apt_updated=1
  fi
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

step "go mod tidy"
if ! go mod tidy -diff; then
  echo "go.mod/go.sum are not tidy: run go mod tidy and commit the result" >&2
  exit 1
fi

step "go test -race"
go test -race -timeout 15m ./...
