#!/usr/bin/env bash
# Make sure a PostgreSQL server answers on 127.0.0.1:5432 with a `planner` role that may create
# databases, installing and starting one (as root, with apt-get and pg_ctlcluster) where missing.
# Prints the SQLAlchemy URL of the server's maintenance database on its last line.
set -euo pipefail

HOST=127.0.0.1
PORT=${PLANNER_PG_PORT:-5432}
ROLE=planner
PASSWORD=planner
URL="postgresql+psycopg://${ROLE}:${PASSWORD}@${HOST}:${PORT}/postgres"

as_postgres() { if [ "$(id -u)" = 0 ]; then su postgres -c "$1"; else sudo -u postgres sh -c "$1"; fi; }

# Logs in with psql, or with the project's own driver where there is no psql client.
can_login() {
  if command -v psql >/dev/null 2>&1; then
    PGPASSWORD=$PASSWORD psql -h "$HOST" -p "$PORT" -U "$ROLE" -d postgres -tAc 'select 1' >/dev/null 2>&1
  elif [ -x .venv/bin/python ]; then
    .venv/bin/python -c "import psycopg; psycopg.connect('host=$HOST port=$PORT user=$ROLE password=$PASSWORD dbname=postgres', connect_timeout=3).close()" >/dev/null 2>&1
  else
    return 1
  fi
}

if can_login; then
  echo "$URL"
  exit 0
fi

if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ -z "$(ls /usr/lib/postgresql 2>/dev/null)" ]; then
  echo "ensure-postgres: installing PostgreSQL with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
fi

VERSION=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if ! pg_lsclusters -h | awk -v v="$VERSION" '$1 == v && $2 == "main"' | grep -q .; then
  pg_createcluster "$VERSION" main --port "$PORT" >&2
fi
if ! pg_lsclusters -h | awk -v v="$VERSION" '$1 == v && $2 == "main" && $4 == "online"' | grep -q .; then
  pg_ctlcluster "$VERSION" main start >&2
fi

for _ in $(seq 1 30); do
  pg_isready -h "$HOST" -p "$PORT" >/dev/null 2>&1 && break
  sleep 1
done

as_postgres "psql -p $PORT -tAc \"SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'\"" | grep -q 1 ||
  as_postgres "psql -p $PORT -c \"CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD'\"" >&2

can_login || { echo "ensure-postgres: cannot log in as $ROLE on $HOST:$PORT" >&2; exit 1; }
echo "$URL"
