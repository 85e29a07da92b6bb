#!/usr/bin/env bash
# Development TLS material (`make certs`): a CA, a server certificate for each process and a client
# certificate for each internal caller, ECDSA P-256, in .run/certs (git-ignored) or DIR.
#   scripts/certs.sh [DIR]
# Idempotent: a file that is still signed by this CA, holds the names it should and is valid for
# 30 more days is kept; anything else is issued again (a new CA re-issues everything). To rotate
# one certificate, delete it and run this again. Never use this CA outside development.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$root/.run/certs}
command -v openssl >/dev/null || { echo "certs: openssl is not installed (scripts/install-system-deps.sh installs it)" >&2; exit 1; }

ca_days=1825  # 5 years
leaf_days=365
renew_seconds=$((30 * 86400))  # re-issue what expires within 30 days
# Server certificates: the process's compose service name besides loopback.
servers=(engine order-service analytics-service gateway)
# Client certificates (<name>-client.crt): who dials whom over mutual TLS.
#   order-service → engine; gateway → order-service, analytics-service;
#   prometheus → every /metrics; operator → grpcurl and scripts/monitor.sh
clients=(order-service gateway prometheus operator)

mkdir -p "$dir"
chmod 700 "$dir"
umask 077
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
issued=0

say() { printf '[certs] %s\n' "$*"; }

new_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# Whether the key file's public key is the certificate's.
key_matches() {
  [ "$(openssl x509 -in "$1" -noout -pubkey 2>/dev/null)" = "$(openssl pkey -in "$2" -pubout 2>/dev/null)" ]
}

# The subjectAltName line openssl prints, to compare with what a certificate should hold.
sans_of() { openssl x509 -in "$1" -noout -ext subjectAltName 2>/dev/null | sed -n '2p' | tr -d ' '; }

ca=$dir/ca.crt
ca_key=$dir/ca.key
if [ -f "$ca" ] && [ -f "$ca_key" ] && openssl x509 -in "$ca" -noout -checkend "$renew_seconds" >/dev/null 2>&1 && key_matches "$ca" "$ca_key"; then
  say "kept ca.crt"
else
  new_key "$ca_key"
  openssl req -x509 -new -key "$ca_key" -sha256 -days "$ca_days" -subj "/O=hft-platform/CN=hft development CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" -out "$ca"
  say "issued ca.crt (valid $ca_days days)"
  issued=$((issued + 1))
fi

# issue NAME FILE_STEM EXTENDED_KEY_USAGE [SUBJECT_ALT_NAMES]
issue() {
  local name=$1 stem=$2 usage=$3 sans=${4:-}
  local crt=$dir/$stem.crt key=$dir/$stem.key
  if [ -f "$crt" ] && [ -f "$key" ] && openssl verify -CAfile "$ca" "$crt" >/dev/null 2>&1 &&
    openssl x509 -in "$crt" -noout -checkend "$renew_seconds" >/dev/null 2>&1 && key_matches "$crt" "$key" &&
    { [ -z "$sans" ] || [ "$(sans_of "$crt")" = "$(printf '%s' "$sans" | sed 's/IP:/IPAddress:/g')" ]; }; then
    say "kept $stem.crt"
    return
  fi
  new_key "$key"
  openssl req -new -key "$key" -subj "/O=hft-platform/CN=$name" -out "$tmp/$stem.csr"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature"
    echo "extendedKeyUsage=$usage"
    echo "authorityKeyIdentifier=keyid"
    [ -z "$sans" ] || echo "subjectAltName=$sans"
  } >"$tmp/$stem.ext"
  openssl x509 -req -in "$tmp/$stem.csr" -CA "$ca" -CAkey "$ca_key" -CAcreateserial -CAserial "$tmp/ca.srl" -sha256 \
    -days "$leaf_days" -extfile "$tmp/$stem.ext" -out "$crt" 2>/dev/null
  chmod 644 "$crt"
  say "issued $stem.crt (valid $leaf_days days)"
  issued=$((issued + 1))
}

for name in "${servers[@]}"; do
  issue "$name" "$name" serverAuth "DNS:localhost,DNS:$name,IP:127.0.0.1"
done
for name in "${clients[@]}"; do
  issue "$name" "$name-client" clientAuth
done
chmod 644 "$ca"

say "$issued issued in $dir"
