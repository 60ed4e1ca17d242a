#!/bin/sh
# Run a command on this machine as if it had no PostgreSQL: in a new network
# namespace (only its own loopback: nothing listens on 127.0.0.1:5432) and a new
# mount namespace where the server's socket directory is an empty tmpfs (libpq's
# default socket /var/run/postgresql/.s.PGSQL.5432 is gone too). The host's
# server keeps running; nothing outside the command changes.
#   .ci/without-postgres.sh npm --prefix containers/catalog-api test
# The command has no network beyond loopback: install packages before.
# Run it as root (CI does). A non-root caller gets a user namespace and runs as
# its uid 0: enough for this isolation, but PostgreSQL refuses to run as root and
# that namespace has no other user, so the embedded server cannot start there.
set -eu
[ "$#" -gt 0 ] || { echo "usage: $0 command [args...]" >&2; exit 2; }
as_root=
[ "$(id -u)" -eq 0 ] || as_root='--user --map-root-user'
# shellcheck disable=SC2086 # $as_root is two words or none
exec unshare $as_root --net --mount --propagation private -- sh -c '
  set -e
  ip link set lo up
  for dir in /var/run/postgresql /run/postgresql; do
    # /var/run is usually a link to /run: mount once.
    if [ -d "$dir" ] && ! mountpoint -q "$dir"; then mount -t tmpfs tmpfs "$dir"; fi
  done
  # Builds that put the socket in /tmp: shadow the socket file only (the rest of /tmp stays).
  if [ -S /tmp/.s.PGSQL.5432 ]; then mount --bind /dev/null /tmp/.s.PGSQL.5432; fi
  exec "$@"
' without-postgres "$@"
