#!/usr/bin/env bash
# One-time setup of docker-compose.yml's PKI and secrets, run from the repository root:
#   deploy/make-pki.sh
# Makes deploy/pki/ (a CA, server certificates for kafka and elasticsearch, the Kafka admin's client
# certificate) and deploy/secrets/ (one random password per account). Both stay on this host: they are
# in .gitignore. Re-running keeps what exists; delete a file to make it again. A site with its own CA
# puts its files under the same names instead.
set -euo pipefail
cd "$(dirname "$0")"
umask 077
mkdir -p pki secrets

days=825   # the longest validity browsers and most tools still accept for a server certificate

if [ ! -f pki/ca.pem ]; then
  openssl req -x509 -newkey rsa:3072 -nodes -keyout pki/ca.key -out pki/ca.pem -days 3650 \
    -subj "/CN=canhgac deployment CA" -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
fi

# cert NAME SUBJECT-ALT-NAMES USAGE: a key and a certificate signed by the CA.
cert() {
  local name=$1 san=$2 usage=$3
  [ -f "pki/$name.pem" ] && return
  openssl req -newkey rsa:2048 -nodes -keyout "pki/$name.key" -out "pki/$name.csr" -subj "/CN=$name"
  printf 'subjectAltName=%s\nextendedKeyUsage=%s\n' "$san" "$usage" > "pki/$name.ext"
  openssl x509 -req -in "pki/$name.csr" -CA pki/ca.pem -CAkey pki/ca.key -CAcreateserial -out "pki/$name.pem" -days "$days" -extfile "pki/$name.ext"
  rm -f "pki/$name.csr" "pki/$name.ext"
  # Kafka reads its key and certificate from one PEM file.
  cat "pki/$name.key" "pki/$name.pem" > "pki/$name-keystore.pem"
}

cert kafka "DNS:kafka,DNS:localhost" "serverAuth,clientAuth"
cert kafka-admin "DNS:kafka-admin" "clientAuth"
cert elasticsearch "DNS:elasticsearch,DNS:localhost" "serverAuth"

for secret in elastic kafka-collector kafka-correlator kafka-console es-correlator es-console; do
  [ -f "secrets/$secret" ] || openssl rand -hex 24 > "secrets/$secret"
done

# The containers run as their own users, which must read the mounted files: the folders (0700) keep
# other users of this host out, the files are readable inside the containers.
chmod 0700 pki secrets
chmod 0644 pki/* secrets/*
echo "deploy/pki and deploy/secrets are ready; CA fingerprint (SHA-256):"
openssl x509 -in pki/ca.pem -noout -fingerprint -sha256 | cut -d= -f2
