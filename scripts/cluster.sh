#!/usr/bin/env bash
# A SpacesApp cluster on this machine, to try it: PostgreSQL, Redis, two `spaces` nodes sharing an uploads folder
# and a session key, and nginx (deploy/nginx.conf) in front of them. Everything lives in a temporary folder and
# stops on Ctrl-C (or SIGTERM); nothing is installed or left behind.
#
#   scripts/cluster.sh [--port 8080] [--bin .build/release] [--up-only]
#
# --port: nginx's port (default 8080; 0 picks a free one). --up-only: stop everything and exit 0 as soon as all
# of it answers (for tests and CI). Needs Debian's postgresql (15), redis-server and nginx (`make postgresql nginx
# deps`). PostgreSQL refuses to run as root, so when we are root its programs run as the `postgres` user.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PORT=8080
BIN_DIR="$ROOT/.build/release"
UP_ONLY=0
while [ $# -gt 0 ]; do
    case "$1" in
        --port) PORT=${2:?--port needs a value}; shift 2 ;;
        --bin) BIN_DIR=${2:?--bin needs a value}; shift 2 ;;
        --up-only) UP_ONLY=1; shift ;;
        -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "cluster.sh: unknown argument $1 (--help lists them)" >&2; exit 2 ;;
    esac
done

PG_BIN=/usr/lib/postgresql/15/bin
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
for need in "$BIN_DIR/spaces" "$PG_BIN/initdb" "$NGINX" "$(command -v redis-server || echo redis-server)"; do
    [ -x "$need" ] || { echo "cluster.sh: $need is missing (make release postgresql nginx deps)" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/spaces-cluster-XXXXXX)
chmod 711 "$WORK"  # the postgres user must reach its folder inside
PIDS=()

stop_all() {
    trap - INT TERM EXIT
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    if [ -f "$WORK/pg/data/postmaster.pid" ]; then
        as_postgres "$PG_BIN/pg_ctl" -D "$WORK/pg/data" stop -m fast -w -t 30 >/dev/null 2>&1 || true
    fi
    rm -rf "$WORK"
}
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM
trap 'stop_all' EXIT

as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits (at most 30 s) until 127.0.0.1:$1 accepts connections; $2 names it in the error.
wait_port() {
    local deadline=$((SECONDS + 30))
    until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
        [ $SECONDS -lt $deadline ] || { echo "cluster.sh: $2 did not start (logs in $WORK)" >&2; exit 1; }
        sleep 0.1
    done
}

random_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

# PostgreSQL: a cluster of its own, password authentication over TCP.
PG_PORT=$(free_port)
PG_PASSWORD=$(random_hex 12)
mkdir -p "$WORK/pg"
printf '%s' "$PG_PASSWORD" > "$WORK/pg/pwfile"
[ "$(id -u)" -ne 0 ] || chown -R postgres:postgres "$WORK/pg"
as_postgres "$PG_BIN/initdb" -D "$WORK/pg/data" -U postgres -E UTF8 --auth-local=trust --auth-host=scram-sha-256 \
    --pwfile="$WORK/pg/pwfile" --no-sync >"$WORK/pg/initdb.log" 2>&1 \
    || { echo "cluster.sh: initdb failed:" >&2; tail -5 "$WORK/pg/initdb.log" >&2; exit 1; }
as_postgres "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -l "$WORK/pg/server.log" -w -t 30 \
    -o "-p $PG_PORT -k $WORK/pg -c listen_addresses=127.0.0.1" start >/dev/null
as_postgres "$PG_BIN/createdb" -h "$WORK/pg" -p "$PG_PORT" -U postgres spaces
DATABASE="postgres://postgres:$PG_PASSWORD@127.0.0.1:$PG_PORT/spaces"

# Redis: no persistence (it carries only live page updates between nodes).
REDIS_PORT=$(free_port)
mkdir -p "$WORK/redis"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$WORK/redis" \
    --logfile "$WORK/redis/redis.log" &
PIDS+=($!)
wait_port "$REDIS_PORT" redis-server

# Two nodes: a data folder each; uploads and the session key shared, as a shared file system would be.
ADMIN_PASSWORD=$(random_hex 9)
mkdir -p "$WORK/shared"
NODE_PORTS=()
for node in 1 2; do
    port=$(free_port)
    NODE_PORTS+=("$port")
    SPACES_ADMIN_PASSWORD="$ADMIN_PASSWORD" "$BIN_DIR/spaces" --host 127.0.0.1 --port "$port" \
        --data-dir "$WORK/node$node" --database "$DATABASE" --redis "redis://127.0.0.1:$REDIS_PORT" \
        --uploads-dir "$WORK/shared/uploads" --session-key "$WORK/shared/session.key" --trust-proxy \
        >"$WORK/node$node.log" 2>&1 &
    PIDS+=($!)
done
# A node is ready once it printed its "listening" line (it binds its port earlier, while it sets up the admin).
for node in 1 2; do
    deadline=$((SECONDS + 60))
    until grep -q "listening on port" "$WORK/node$node.log"; do
        if ! kill -0 "${PIDS[$node]}" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
            echo "cluster.sh: node $node did not start:" >&2
            tail -5 "$WORK/node$node.log" >&2
            exit 1
        fi
        sleep 0.1
    done
done

# nginx with deploy/nginx.conf: the upstream's servers and the listen port filled in.
[ "$PORT" != 0 ] || PORT=$(free_port)
mkdir -p "$WORK/nginx"
{
    sed -e '/^    server 127\.0\.0\.1:[0-9]*;$/d' -e "s/listen 8080;/listen $PORT;/" \
        -e "s/^upstream spaces_nodes {\$/upstream spaces_nodes {\n    server 127.0.0.1:${NODE_PORTS[0]};\n    server 127.0.0.1:${NODE_PORTS[1]};/" \
        "$ROOT/deploy/nginx.conf"
} >"$WORK/nginx/site.conf"
cat >"$WORK/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    include $WORK/nginx/site.conf;
}
EOF
"$NGINX" -e "$WORK/nginx/error.log" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" &
PIDS+=($!)
wait_port "$PORT" nginx

echo "SpacesApp cluster up: http://127.0.0.1:$PORT"
echo "  admin login: admin / $ADMIN_PASSWORD"
echo "  nodes: 127.0.0.1:${NODE_PORTS[0]} and 127.0.0.1:${NODE_PORTS[1]} (logs: $WORK/node1.log, $WORK/node2.log)"
echo "  PostgreSQL: $DATABASE"
echo "  Redis: redis://127.0.0.1:$REDIS_PORT"
[ "$UP_ONLY" -eq 0 ] || exit 0
echo "Ctrl-C stops everything."
# Until Ctrl-C, or until a part dies on its own (then everything stops, non-zero).
while true; do
    for pid in "${PIDS[@]}"; do
        kill -0 "$pid" 2>/dev/null || { echo "cluster.sh: process $pid exited; stopping (logs were in $WORK)" >&2; exit 1; }
    done
    sleep 1
done
