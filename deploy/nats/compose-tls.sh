#!/bin/sh
# docker-compose's NATS TLS, generated once into the nats-auth volume (run by the nats-tls one-shot container, which
# has openssl): a CA and the server's certificate for the names clients dial (nats, localhost). Existing files stay;
# delete the volume's tls/ directory to issue new ones (then restart nats and the services).
set -eu
dir="${1:-/nats-auth/tls}"
[ -f "$dir/server.crt" ] && exit 0
mkdir -p "$dir"
cd "$dir"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 825 -subj /CN=cortexops-nats-ca \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -keyout ca.key -out ca.crt
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=nats -keyout server.key -out server.csr
printf '%s\n' 'basicConstraints=critical,CA:FALSE' 'keyUsage=critical,digitalSignature,keyEncipherment' \
  'extendedKeyUsage=serverAuth' 'subjectAltName=DNS:nats,DNS:localhost,IP:127.0.0.1' > server.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 -extfile server.ext -out server.crt.tmp
chmod 0600 ca.key server.key
chmod 0644 ca.crt server.crt.tmp
rm -f server.csr server.ext
mv server.crt.tmp server.crt
