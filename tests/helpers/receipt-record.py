#!/usr/bin/env python3
"""receipt-record.py — write what smime-sign --receipt-request keeps, for a signed message
that secmail did not sign (tests/receipt.bats).

  receipt-record.py SIGNED.eml DIR [FIELD: VALUE ...]

SIGNED.eml is a multipart/signed message whose signature carries a ReceiptRequest (RFC 2634
§2.7), e.g. one made by `openssl cms -sign -receipt_request_from ...`, a request smime-sign
cannot make. The record goes where receipt_store puts it, DIR/<hex signedContentIdentifier>.req:
the header fields given (as the kept To, Cc, Bcc, Subject ...), Receipt-Requested, a blank
line and the base64 of the detached signature (a SignedData without content, as kept).

Standard library only; the DER reader is verify-forge.py's.
"""
import base64
import email
import importlib.util
import os
import sys

_spec = importlib.util.spec_from_file_location(
    "verify_forge", os.path.join(os.path.dirname(os.path.abspath(__file__)), "verify-forge.py"))
vf = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(vf)

OID_RECEIPT_REQUEST = bytes.fromhex("2a864886f70d0109100201")   # id-aa-receiptRequest


def main():
    src, d, fields = sys.argv[1], sys.argv[2], sys.argv[3:]
    m = email.message_from_bytes(open(src, "rb").read())
    der = None
    for part in m.walk():
        if part.get_content_type() in ("application/pkcs7-signature",
                                       "application/x-pkcs7-signature"):
            der = part.get_payload(decode=True)
    assert der is not None, "no detached signature in " + src
    si = vf.signed_data(vf.parse(der)).children[-1].children[0]
    attrs = [c for c in si.children if c.tag == b"\xa0"][0]
    rr = [a for a in attrs.children if a.children[0].value == OID_RECEIPT_REQUEST]
    assert len(rr) == 1, "no receipt request in the signature"
    scid = rr[0].children[1].children[0].children[0].value
    os.makedirs(d, mode=0o700, exist_ok=True)
    path = os.path.join(d, scid.hex() + ".req")
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
        for fld in fields:
            f.write(fld.encode() + b"\n")
        f.write(b"Receipt-Requested: 0\n\n")
        f.write(base64.encodebytes(der))
    print(path)


if __name__ == "__main__":
    main()
