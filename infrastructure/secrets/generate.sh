#!/bin/sh
# Makes the files the compose files read as secrets, once, without overwriting any:
# the Ed25519 keys (internal tokens between DataLab processes; access-token signing) and,
# for docker-compose.prod.yml, a self-signed TLS pair to replace with a real certificate.
set -eu
cd "$(dirname "$0")"
umask 077
key() { [ -f "$1" ] || openssl genpkey -algorithm ed25519 -out "$1"; }
key datalab-internal-key.pem
key auth-signing-key.pem
if [ ! -f tls.crt ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=${DATALAB_HOSTNAME:-localhost}" \
    -keyout tls.key -out tls.crt 2>/dev/null
fi
[ -f grafana-admin-password ] || openssl rand -hex 16 > grafana-admin-password
# The containers run as uid 1000 (DataLab) or their own users: the files must be readable by
# them. This folder itself stays private to you (umask 077 above, mode 700 below).
chmod 644 ./*.pem tls.crt tls.key grafana-admin-password
chmod 700 .
echo "secrets ready in $(pwd)"
