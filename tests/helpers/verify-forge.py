#!/usr/bin/env python3
"""verify-forge.py — build the hostile inputs of tests/verify-attacks.bats (issue 9, issue 10).

Standard library only (plus the openssl CLI where a signature is needed), so it runs on a
fresh Debian. A small DER/BER reader and DER writer is enough to take a SignedData apart.

  certs SIG.der OUT.der [--drop CERT.pem]... [--add CERT.pem]... [--first CERT.pem]...
      rewrite the unsigned certificates set of a SignedData: drop certificates, append
      others, or put some first (the signature stays valid: the set is not signed)
  dsa-noparams CERT.pem CA.pem CA.key OUT.pem
      CERT's DSA public key without its domain parameters (inherited from the issuer,
      RFC 3279 section 2.3.2), re-signed by CA
  signer-serial SIG.der
      the signer's serial number in hex (what body.smime-serial shows)
"""
import base64
import subprocess
import sys


class Node:
    def __init__(self, tag, value=None, children=None):
        self.tag = tag            # the identifier octets, as bytes
        self.value = value        # primitive content
        self.children = children  # constructed: list of Node

    def der(self):
        body = self.value if self.children is None else b"".join(c.der() for c in self.children)
        return self.tag + length(len(body)) + body


def length(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def parse_one(b, i):
    """One TLV at b[i:]: (Node, next index). Indefinite lengths (BER) are read too."""
    start = i
    first = b[i]
    i += 1
    if first & 0x1F == 0x1F:
        while b[i] & 0x80:
            i += 1
        i += 1
    tag = b[start:i]
    n = b[i]
    i += 1
    constructed = bool(first & 0x20)
    if n == 0x80:
        kids = []
        while b[i:i + 2] != b"\0\0":
            k, i = parse_one(b, i)
            kids.append(k)
        return Node(tag, children=kids), i + 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(b[i:i + k], "big")
        i += k
    end = i + n
    if not constructed:
        return Node(tag, value=b[i:end]), end
    kids = []
    while i < end:
        k, i = parse_one(b, i)
        kids.append(k)
    return Node(tag, children=kids), end


def parse(b):
    node, end = parse_one(b, 0)
    assert end == len(b), "trailing bytes"
    return node


def pem_der(path):
    text = open(path).read()
    body = text.split("-----BEGIN CERTIFICATE-----")[1].split("-----END CERTIFICATE-----")[0]
    return base64.b64decode("".join(body.split()))


def write_pem(path, der):
    b = base64.encodebytes(der).decode().replace("\n", "")
    lines = [b[i:i + 64] for i in range(0, len(b), 64)]
    open(path, "w").write("-----BEGIN CERTIFICATE-----\n" + "\n".join(lines)
                          + "\n-----END CERTIFICATE-----\n")


def signed_data(ci):
    """The SignedData SEQUENCE inside a ContentInfo."""
    return ci.children[1].children[0]


def certs_set(sd):
    for c in sd.children:
        if c.tag == b"\xa0":
            return c
    raise SystemExit("no certificates in the SignedData")


def cmd_certs(args):
    src, out, rest = args[0], args[1], args[2:]
    ci = parse(open(src, "rb").read())
    cs = certs_set(signed_data(ci))
    ops = [(rest[i], pem_der(rest[i + 1])) for i in range(0, len(rest), 2)]
    for op, der in ops:
        if op == "--drop":
            before = len(cs.children)
            cs.children = [c for c in cs.children if c.der() != der]
            assert len(cs.children) < before, "certificate to drop not found"
        elif op == "--add":
            cs.children.append(parse(der))
        elif op == "--first":
            cs.children.insert(0, parse(der))
        else:
            raise SystemExit("unknown operation " + op)
    open(out, "wb").write(ci.der())


def cmd_dsa_noparams(args):
    cert, ca_pem, ca_key, out = args
    c = parse(pem_der(cert))
    tbs = c.children[0]
    # TBSCertificate: [0] version, serial, signature, issuer, validity, subject, spki, ...
    spki = tbs.children[6]
    alg = spki.children[0]
    assert alg.children[0].value == bytes.fromhex("2a8648ce380401"), "not a DSA key"
    alg.children = alg.children[:1]          # the OID only: parameters inherited
    # signed again by the CA, with its signature algorithm (sha256WithRSAEncryption here)
    ca = parse(pem_der(ca_pem))
    c.children[1] = ca.children[1]
    tbs.children[2] = ca.children[1]
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", ca_key],
                         input=tbs.der(), capture_output=True, check=True).stdout
    c.children[2] = Node(b"\x03", value=b"\0" + sig)
    write_pem(out, c.der())


def cmd_signer_serial(args):
    ci = parse(open(args[0], "rb").read())
    sd = signed_data(ci)
    si = sd.children[-1].children[0]          # signerInfos SET, the first SignerInfo
    ias = si.children[1]                      # sid: issuerAndSerialNumber
    print(ias.children[1].value.hex().upper().lstrip("0") or "0")


def main():
    cmds = {"certs": cmd_certs, "dsa-noparams": cmd_dsa_noparams,
            "signer-serial": cmd_signer_serial}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        raise SystemExit(__doc__)
    cmds[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
