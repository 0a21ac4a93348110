#!/usr/bin/env python3
"""tests/helpers/pq-hostile.py KIND IN OUT — hostile variants of post-quantum S/MIME input.

IN is a message whose body is a DER/BER CMS structure (base64) or a multipart/signed message;
OUT gets the same message with the structure altered. A tiny DER reader/writer (definite
lengths: give it `openssl cms -cmsout -outform DER` output) finds the element to break:
  kemct-short     the KEMRecipientInfo's kemct (ML-KEM ciphertext) one octet shorter
  kemct-long      ... one octet longer
  keklength       kekLength 16 where the wrap is id-aes256-wrap (RFC 9629 §3: must match)
  kdf-unknown     the KDF OID replaced by an unknown one (1.3.6.1.4.1.99999.1)
  mldsa-sig       (multipart/signed) one bit of the last SignerInfo's signature flipped
"""
import base64
import email
import email.policy
import re
import sys


def parse(b, i=0, end=None):
    """A list of (tag, value or children, constructed) from b[i:end]."""
    end = len(b) if end is None else end
    out = []
    while i < end:
        tag = b[i]
        i += 1
        n = b[i]
        i += 1
        if n & 0x80:
            k = n & 0x7F
            if k == 0:
                raise ValueError("indefinite length: give DER")
            n = int.from_bytes(b[i:i + k], "big")
            i += k
        v = b[i:i + n]
        out.append([tag, parse(b, i, i + n) if tag & 0x20 else v])
        i += n
    return out


def length(n):
    if n < 0x80:
        return bytes([n])
    s = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(s)]) + s


def enc(nodes):
    out = b""
    for tag, v in nodes:
        body = enc(v) if isinstance(v, list) else v
        out += bytes([tag]) + length(len(body)) + body
    return out


def oid(s):
    p = [int(x) for x in s.split(".")]
    b = bytes([40 * p[0] + p[1]])
    for x in p[2:]:
        t = [x & 0x7F]
        x >>= 7
        while x:
            t.insert(0, 0x80 | (x & 0x7F))
            x >>= 7
        b += bytes(t)
    return b


ORI_KEM = oid("1.2.840.113549.1.9.16.13.3")


def kemri(tree):
    """The KEMRecipientInfo SEQUENCE's children: ContentInfo/[0]/Enveloped/SET/[4]/SEQ."""
    env = tree[0][1][1][1][0][1]
    for ri in env[1][1]:
        if ri[0] == 0xA4 and ri[1][0][1] == ORI_KEM:
            return ri[1][1][1]
    raise SystemExit("no KEMRecipientInfo")


def main():
    kind, src, dst = sys.argv[1:4]
    raw = open(src, "rb").read()
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    if kind == "mldsa-sig":
        b = msg.get_param("boundary").encode()
        m = re.search(rb"(\n--" + re.escape(b) + rb"\n[^\n]*pkcs7-signature.*?\n\n)(.*?)(\n--"
                      + re.escape(b) + rb"--)", raw, re.S)
        der = bytearray(base64.b64decode(m.group(2)))
        # the last SignerInfo's signature ends the DER of a detached SignedData without
        # unsigned attributes: flip a bit well inside it
        der[len(der) - 40] ^= 0x01
        body = base64.encodebytes(bytes(der))
        open(dst, "wb").write(raw[:m.start(2)] + body.rstrip(b"\n") + raw[m.end(2):])
        return
    der = base64.b64decode(msg.get_payload())
    tree = parse(der)
    k = kemri(tree)	# version, rid, kem, kemct, kdf, kekLength, [ukm], wrap, encryptedKey
    if kind == "kemct-short":
        k[3][1] = k[3][1][:-1]
    elif kind == "kemct-long":
        k[3][1] = k[3][1] + b"\x00"
    elif kind == "keklength":
        k[5][1] = b"\x10"
    elif kind == "kdf-unknown":
        k[4][1][0][1] = oid("1.3.6.1.4.1.99999.1")
    else:
        raise SystemExit("unknown kind " + kind)
    msg.set_payload(base64.encodebytes(enc(tree)).decode())
    open(dst, "wb").write(msg.as_bytes())


main()
