#!/usr/bin/env bash
# Starts and stops the Redis topologies kycbot's tests run against, besides
# the single server on 127.0.0.1:6379, each in a directory of its own, on
# free loopback ports, with nothing persisted:
#
#   scripts/redis-topology.sh start cluster DIR    a Redis Cluster of three masters
#   scripts/redis-topology.sh start sentinel DIR   one master, one replica, three sentinels
#                                                  (master name kycbot-test)
#   scripts/redis-topology.sh start single DIR     one server (with REDIS_SERVER=valkey-server:
#                                                  a Valkey server)
#   scripts/redis-topology.sh stop DIR             stops every process started in DIR
#
# start prints the addresses to give the tests: the cluster's seed nodes,
# the sentinels, or the server (comma-separated), and returns once the
# topology serves (cluster_state:ok; the replica in sync and every sentinel
# knowing the replica and the other two). REDIS_SERVER, REDIS_SENTINEL and
# REDIS_CLI name the binaries (default redis-server, redis-sentinel and
# redis-cli).
#
# The sentinels' timeouts are short so that tests see failovers within
# seconds: down-after-milliseconds 1000, failover-timeout 5000. Production
# keeps the defaults (30 s and 3 min) or near them; see docs/operations.md.
set -euo pipefail

server=${REDIS_SERVER:-redis-server}
sentinel=${REDIS_SENTINEL:-redis-sentinel}
cli=${REDIS_CLI:-redis-cli}
master_name=kycbot-test

die() { echo "redis-topology: $*" >&2; exit 1; }

used_ports=" "
# free_port prints a port of 127.0.0.1 that nothing listens on, nor on
# port+10000 (a cluster node's bus), and that this run has not handed out.
free_port() {
  local p
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 10000))
    case "$used_ports" in *" $p "*) continue ;; esac
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || (exec 3<>"/dev/tcp/127.0.0.1/$((p + 10000))") 2>/dev/null; then
      continue
    fi
    used_ports="$used_ports$p "
    echo "$p"
    return
  done
  die "no free port found in 20000-29999"
}

# node BINARY DIR NAME PORT [extra config lines...]: writes NAME.conf and
# starts BINARY on it.
node() {
  local bin=$1 dir=$2 name=$3 port=$4
  shift 4
  {
    echo "port $port"
    echo "bind 127.0.0.1"
    echo "daemonize yes"
    echo "pidfile $dir/$name.pid"
    echo "logfile $dir/$name.log"
    echo "dir $dir"
    echo "save \"\""
    echo "appendonly no"
    printf '%s\n' "$@"
  } >"$dir/$name.conf"
  "$bin" "$dir/$name.conf" >/dev/null
}

# until_true SECONDS WHAT COMMAND...: runs COMMAND every 0.2 s until it succeeds.
until_true() {
  local secs=$1 what=$2
  shift 2
  for _ in $(seq $((secs * 5))); do
    if "$@" >/dev/null 2>&1; then return; fi
    sleep 0.2
  done
  die "$what within $secs s (logs in $dir)"
}

answers() { "$cli" -p "$1" ping | grep -q PONG; }
cluster_ok() { "$cli" -p "$1" cluster info | grep -q 'cluster_state:ok'; }
replica_synced() { "$cli" -p "$1" info replication | grep -q 'master_link_status:up'; }
sentinel_ready() {
  local info
  info=$("$cli" -p "$1" sentinel master "$master_name" | paste -sd' ') || return 1
  [[ "$info" =~ num-slaves\ 1( |$) && "$info" =~ num-other-sentinels\ 2( |$) ]]
}

start_cluster() {
  local dir=$1 ports=() addrs=() p
  for i in 1 2 3; do
    p=$(free_port)
    node "$server" "$dir" "cluster-$i" "$p" "cluster-enabled yes" "cluster-config-file $dir/cluster-$i.nodes" \
      "cluster-node-timeout 2000"
    ports+=("$p")
    addrs+=("127.0.0.1:$p")
  done
  for p in "${ports[@]}"; do until_true 10 "node $p did not answer" answers "$p"; done
  "$cli" --cluster create "${addrs[@]}" --cluster-replicas 0 --cluster-yes >"$dir/create.log" 2>&1 ||
    die "redis-cli --cluster create failed: $(tail -5 "$dir/create.log")"
  for p in "${ports[@]}"; do until_true 20 "node $p did not reach cluster_state:ok" cluster_ok "$p"; done
  (IFS=,; echo "${addrs[*]}")
}

start_sentinel() {
  local dir=$1 m r s sentinels=()
  m=$(free_port)
  r=$(free_port)
  node "$server" "$dir" master "$m" "repl-diskless-sync-delay 0"
  node "$server" "$dir" replica "$r" "replicaof 127.0.0.1 $m" "repl-diskless-sync-delay 0"
  until_true 10 "the master did not answer" answers "$m"
  until_true 20 "the replica did not sync" replica_synced "$r"
  for i in 1 2 3; do
    s=$(free_port)
    node "$sentinel" "$dir" "sentinel-$i" "$s" "sentinel monitor $master_name 127.0.0.1 $m 2" \
      "sentinel down-after-milliseconds $master_name 1000" "sentinel failover-timeout $master_name 5000" \
      "sentinel parallel-syncs $master_name 1"
    sentinels+=("127.0.0.1:$s")
  done
  for a in "${sentinels[@]}"; do
    until_true 30 "sentinel ${a#*:} did not see the replica and the other sentinels" sentinel_ready "${a#*:}"
  done
  (IFS=,; echo "${sentinels[*]}")
}

start_single() {
  local dir=$1 p
  p=$(free_port)
  node "$server" "$dir" server "$p"
  until_true 10 "$server did not answer" answers "$p"
  echo "127.0.0.1:$p"
}

stop_all() {
  local dir=$1 f pid
  for f in "$dir"/*.pid; do
    [ -e "$f" ] || continue
    pid=$(cat "$f" 2>/dev/null) || continue
    kill "$pid" 2>/dev/null || true
  done
  for f in "$dir"/*.pid; do
    [ -e "$f" ] || continue
    pid=$(cat "$f" 2>/dev/null) || continue
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
}

case "${1:-}" in
start)
  [ $# = 3 ] || die "usage: $0 start cluster|sentinel|single DIR"
  dir=$(cd "$3" && pwd)
  case "$2" in
  cluster) start_cluster "$dir" ;;
  sentinel)
    [ "$server" = redis-server ] || die "sentinel runs on redis-server only"
    start_sentinel "$dir"
    ;;
  single) start_single "$dir" ;;
  *) die "unknown topology $2: cluster, sentinel or single" ;;
  esac
  ;;
stop)
  [ $# = 2 ] || die "usage: $0 stop DIR"
  stop_all "$2"
  ;;
*) die "usage: $0 start cluster|sentinel|single DIR | stop DIR" ;;
esac
