#!/bin/sh
# mailsend-pki.sh DIR — a throwaway test PKI made with the openssl CLI:
#   ca.pem/ca.key          the test CA
#   server.pem/server.key  localhost + 127.0.0.1, signed by the CA
#   wrong.pem/wrong.key    mail.example.net only, signed by the CA (wrong host)
#   self.pem/self.key      self-signed localhost (untrusted)
#   client.pem/client.key  a TLS client certificate for "alice" (clientAuth), signed by the CA
set -eu
d=$1
mkdir -p "$d"
cd "$d"
o() { openssl "$@" 2>/dev/null; }
o req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
	-days 3650 -subj "/CN=secmail test CA" \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
leaf() {	# leaf NAME SAN [EKU [CN]]
	o req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.csr" \
		-subj "/CN=${4:-$1}"
	printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=%s\n' "$2" "${3:-serverAuth}" >"$1.ext"
	o x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
		-extfile "$1.ext" -out "$1.pem"
}
leaf server "DNS:localhost,IP:127.0.0.1"
leaf wrong "DNS:mail.example.net"
leaf client "email:alice@example.org" clientAuth alice
o req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout self.key -out self.pem \
	-days 3650 -subj "/CN=localhost" -addext subjectAltName=DNS:localhost,IP:127.0.0.1
chmod 644 ./*.pem ./*.key
chmod 600 client.key	# a client key is a secret: mailsend refuses one others can read
