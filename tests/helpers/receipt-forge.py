#!/usr/bin/env python3
"""receipt-forge.py — hostile signed receipts (RFC 2634 §2.7, §2.8) for tests/receipt.bats.

  receipt-forge.py IN.eml OUT.eml KEY [--digest-from OTHER.eml] [--id-from OTHER.eml]

IN.eml and OTHER.eml are signed-receipt messages (application/pkcs7-mime;
smime-type=signed-receipt). The receipt in IN is taken apart and signed again with KEY (the
recipient's own key, so the signature is genuine): --digest-from puts OTHER's msgSigDigest
attribute in place of IN's, --id-from OTHER's signedContentIdentifier into the Receipt
content (with the messageDigest attribute recomputed so the receipt's own signature stays
valid). With neither, the receipt is only signed again: the control that shows the
re-signing itself is sound. OUT.eml keeps IN's header.

Standard library only, plus the openssl CLI for the signature; the DER reader and writer
are verify-forge.py's.
"""
import base64
import email
import hashlib
import importlib.util
import os
import subprocess
import sys

_spec = importlib.util.spec_from_file_location(
    "verify_forge", os.path.join(os.path.dirname(os.path.abspath(__file__)), "verify-forge.py"))
vf = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(vf)

OID_MESSAGE_DIGEST = bytes.fromhex("2a864886f70d010904")        # 1.2.840.113549.1.9.4
OID_MSG_SIG_DIGEST = bytes.fromhex("2a864886f70d0109100205")    # id-aa-msgSigDigest
DIGESTS = {
    bytes.fromhex("608648016503040201"): "sha256",
    bytes.fromhex("608648016503040202"): "sha384",
    bytes.fromhex("608648016503040203"): "sha512",
}


def receipt_der(path):
    raw = open(path, "rb").read()
    m = email.message_from_bytes(raw)
    assert m.get_param("smime-type") == "signed-receipt", path
    return raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0], m.get_payload(decode=True)


def parts(ci):
    """(encapContentInfo's OCTET STRING node, the only SignerInfo) of a ContentInfo."""
    sd = vf.signed_data(ci)
    econtent = [c for c in sd.children if c.tag == b"\x30"][0].children[1].children[0]
    infos = sd.children[-1]
    assert infos.tag == b"\x31" and len(infos.children) == 1, "one SignerInfo expected"
    return econtent, infos.children[0]


def attribute(si, oid):
    """The value node (first element of the SET) of signed attribute oid."""
    attrs = [c for c in si.children if c.tag == b"\xa0"][0]
    for a in attrs.children:
        if a.children[0].value == oid:
            return a.children[1].children[0]
    raise SystemExit("no such signed attribute")


def main():
    src, out, key, rest = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    head, der = receipt_der(src)
    ci = vf.parse(der)
    econtent, si = parts(ci)
    for op, other in zip(rest[::2], rest[1::2]):
        oci = vf.parse(receipt_der(other)[1])
        oecontent, osi = parts(oci)
        if op == "--digest-from":
            attribute(si, OID_MSG_SIG_DIGEST).value = attribute(osi, OID_MSG_SIG_DIGEST).value
        elif op == "--id-from":
            r, o = vf.parse(econtent.value), vf.parse(oecontent.value)
            r.children[2] = o.children[2]           # signedContentIdentifier
            econtent.value = r.der()
        else:
            raise SystemExit("unknown operation " + op)
    md = DIGESTS[si.children[2].children[0].value]
    attribute(si, OID_MESSAGE_DIGEST).value = hashlib.new(md, econtent.value).digest()
    attrs = [c for c in si.children if c.tag == b"\xa0"][0]
    signed = vf.Node(b"\x31", children=attrs.children).der()   # RFC 5652 §5.4: SET OF
    sig = subprocess.run(["openssl", "dgst", "-" + md, "-sign", key], input=signed,
                         capture_output=True, check=True).stdout
    assert si.children[-1].tag == b"\x04", "unsigned attributes not expected"
    si.children[-1].value = sig
    body = base64.encodebytes(ci.der())
    open(out, "wb").write(head + b"\n\n" + body)


if __name__ == "__main__":
    main()
