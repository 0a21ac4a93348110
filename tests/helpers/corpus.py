#!/usr/bin/env python3
"""corpus.py PKI OUT AUTHSERV — the delivery-path message corpus (tests/delivery.bats,
tests/gateway.bats): every kind of message a procmail/maildrop recipe or the gateway meets,
made with the test PKI (tests/helpers/pki), addressed to bob@example.org, one OUT/NAME.eml
each. The secmail tools on PATH sign and encrypt; openssl makes the foreign (s-nail style)
message and finds the plaintext offsets; the hostile variants are derived here byte by byte.

Names (the verdict each should get is stated by the tests, not here):
  plain             unsigned, unencrypted
  signed-good       clear-signed by alice
  signed-bad        the same, body changed "Pay 100 EUR" -> "Pay 900 EUR" after signing
  signed-untrusted  clear-signed by rogue (a CA nobody trusts)
  signed-mismatch   From: alice, signed by mallory (a certificate for another address)
  opaque            opaque signed-data by alice
  signenc-gcm       signed by alice, then encrypted for bob with AES-256-GCM
  signenc-cbc       the same with AES-256-CBC
  enc-gcm, enc-cbc  encrypted only (not signed) for bob
  enc-other         encrypted for carol only (bob cannot read it)
  truncated         signenc-gcm with the second half of its base64 body cut off
  tampered-gcm      signenc-gcm with one ciphertext byte flipped (the tag cannot match)
  tampered-cbc      signenc-cbc with the padding broken (the last block cannot decrypt)
  cbc-altered       signenc-cbc with the ciphertext changed so that the signed text reads
                    "Pay 900 EUR" (CBC malleability; only the inner signature can tell)
  certs-only        a certs-only message by alice
  empty             zero bytes
  not-a-message     no header at all: text, a NUL, a long line, binary bytes
  forged-ar         signed-bad with forged pass fields claiming our authserv-id, in the
                    three RFC 8601 spellings (plain, after a comment, quoted), and a forged
                    Secmail-Decryption record
  forged-plain      plain with the same forged fields
  forged-enc        signenc-gcm with a forged "decrypted" record and pass field
  snail             signed and encrypted by openssl smime as s-nail does it:
                    application/x-pkcs7-mime without smime-type
"""
import base64
import os
import subprocess
import sys

PKI, OUT, AUTHSERV = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(OUT, exist_ok=True)


def run(argv, data):
    p = subprocess.run(argv, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        sys.exit("corpus: %s failed (%d): %s" % (argv[0], p.returncode, p.stderr.decode()))
    return p.stdout


def pki(name):
    return os.path.join(PKI, name)


def save(name, data):
    with open(os.path.join(OUT, name + ".eml"), "wb") as f:
        f.write(data)


def base(frm="Alice <alice@example.org>", to="Bob <bob@example.org>", tag="c"):
    return ("From: %s\nTo: %s\nSubject: invoice %s\nDate: Sun, 29 Nov 2026 04:00:00 +0000\n"
            "Message-ID: <%s@example.org>\nMIME-Version: 1.0\n"
            "Content-Type: text/plain; charset=us-ascii\n\n"
            "Hello Bob,\n\nas agreed on the phone, here are the details for the invoice.\n\n"
            "Pay 100 EUR to account 12345.\n\nAlice\n" % (frm, to, tag, tag)).encode()


def sign(msg, who="alice", *extra):
    return run(["smime-sign", "--cert", pki(who + ".pem"), "--key", pki(who + ".key"),
                "--chain", pki("chain.pem")] + list(extra), msg)


def encrypt(msg, cipher, to="bob"):
    return run(["smime-encrypt", "--no-self", "--cipher", cipher, "-r", pki(to + ".pem")], msg)


def split(msg):
    head, _, body = msg.partition(b"\n\n")
    return head + b"\n\n", body


def der_of(msg):
    return base64.b64decode(b"".join(split(msg)[1].split()))


def with_der(msg, der):
    head, _ = split(msg)
    b = base64.b64encode(der)
    return head + b"\n".join(b[i:i + 76] for i in range(0, len(b), 76)) + b"\n"


# A small BER reader: enough to find the encrypted content and the algorithm parameters of an
# (Auth)EnvelopedData that smime-encrypt wrote with indefinite lengths and chunked OCTET STRINGs.
def ber(buf, off):
    t = buf[off]
    cons = t & 0x20
    n = buf[off + 1]
    p = off + 2
    if n == 0x80:
        length = None
    elif n & 0x80:
        length = int.from_bytes(buf[p:p + (n & 0x7F)], "big")
        p += n & 0x7F
    else:
        length = n
    node = {"tag": t, "start": off, "body": p, "kids": []}
    if not cons:
        node["end"] = p + length
        return node
    q = p
    while True:
        if length is None and buf[q:q + 2] == b"\0\0":
            node["end"] = q + 2
            return node
        if length is not None and q >= p + length:
            node["end"] = q
            return node
        k = ber(buf, q)
        node["kids"].append(k)
        q = k["end"]


def leaves(node):
    if not node["kids"] and not node["tag"] & 0x20:
        return [(node["body"], node["end"])]
    return [r for k in node["kids"] for r in leaves(k)]


def enc_content(der):
    """(ciphertext offsets in der, the algorithm parameters node) of an envelope."""
    ci = ber(der, 0)
    env = ci["kids"][1]["kids"][0]
    i = next(j for j, k in enumerate(env["kids"]) if k["tag"] == 0x31)  # recipientInfos SET
    eci = env["kids"][i + 1]
    alg, content = eci["kids"][1], eci["kids"][2]
    offs = [o for a, b in leaves(content) for o in range(a, b)]
    return offs, alg["kids"][1]


def decrypt_plain(msg):
    return run(["openssl", "cms", "-decrypt", "-binary", "-inform", "DER", "-recip", pki("bob.pem"),
                "-inkey", pki("bob.key")], der_of(msg))


plain = base()
save("plain", plain)
good = sign(plain)
save("signed-good", good)
assert good.count(b"Pay 100 EUR") == 1
bad = good.replace(b"Pay 100 EUR", b"Pay 900 EUR")
save("signed-bad", bad)
save("signed-untrusted", sign(base("Rogue <rogue@example.org>", tag="u"), "rogue"))
save("signed-mismatch", sign(base(tag="m"), "mallory", "--no-from-check"))
save("opaque", sign(base(tag="o"), "alice", "--opaque"))
signenc_gcm = encrypt(sign(base(tag="sg")), "aes-256-gcm")
save("signenc-gcm", signenc_gcm)
signenc_cbc = encrypt(sign(base(tag="sc")), "aes-256-cbc")
save("signenc-cbc", signenc_cbc)
save("enc-gcm", encrypt(base(tag="eg"), "aes-256-gcm"))
save("enc-cbc", encrypt(base(tag="ec"), "aes-256-cbc"))
save("enc-other", encrypt(base(to="Carol <carol@example.org>", tag="eo"), "aes-256-gcm", "carol"))

head, body = split(signenc_gcm)
lines = body.split(b"\n")
save("truncated", head + b"\n".join(lines[:len(lines) // 2]) + b"\n")

der = bytearray(der_of(signenc_gcm))
offs, _ = enc_content(der)
der[offs[len(offs) // 2]] ^= 0x01
save("tampered-gcm", with_der(signenc_gcm, bytes(der)))

# CBC: P[i] = D(C[i]) xor C[i-1]. Flipping the last byte of the next-to-last block turns the
# final padding byte (1..16) into one above 16: the padding cannot verify, whatever the key.
der = bytearray(der_of(signenc_cbc))
offs, _ = enc_content(der)
der[offs[-17]] ^= 0xFF
save("tampered-cbc", with_der(signenc_cbc, bytes(der)))

# CBC malleability: change "100" into "900" in the plaintext by flipping the same bit in the
# block before it; that block, in the body text well after the part's header, decrypts to
# garbage, which the signature covers.
pt = decrypt_plain(signenc_cbc)
k = pt.index(b"Pay 100 EUR") + 4
der = bytearray(der_of(signenc_cbc))
offs, iv = enc_content(der)
blk, pos = divmod(k, 16)
assert (blk - 1) * 16 > pt.index(b"\r\n\r\nHello Bob") + 4, "the garbled block must be in the body"
at = offs[(blk - 1) * 16 + pos]
der[at] ^= ord("1") ^ ord("9")
altered = with_der(signenc_cbc, bytes(der))
assert b"900 EUR to account" in decrypt_plain(altered)
save("cbc-altered", altered)

save("certs-only", sign(base(tag="co"), "alice", "--certs-only"))
save("empty", b"")
save("not-a-message", b"This is not a message at all,\njust text\0with a NUL\n" + b"x" * 70000
     + b"\n" + bytes(range(256)) + b"\n")

forged = ("Authentication-Results: %s; smime=pass\n"
          "Authentication-Results: (forged by the sender) %s; smime=pass\n"
          "Authentication-Results: \"%s\"; smime=pass\n"
          "Secmail-Decryption: %s; decrypted cipher=aes-256-gcm integrity=aead\n"
          % ((AUTHSERV,) * 4)).encode()
save("forged-ar", forged + bad)
save("forged-plain", forged + plain)
save("forged-enc", forged + signenc_gcm)

# s-nail (like `openssl smime`) signs with x-pkcs7-signature and encrypts without smime-type.
inner = run(["openssl", "smime", "-sign", "-signer", pki("alice.pem"), "-inkey", pki("alice.key"),
             "-certfile", pki("chain.pem")],
            b"Content-Type: text/plain; charset=us-ascii\n\nHello Bob,\n\nPay 100 EUR to account 12345.\n")
env = run(["openssl", "smime", "-encrypt", "-aes256", "-from", "Alice <alice@example.org>",
           "-to", "Bob <bob@example.org>", "-subject", "invoice s-nail", pki("bob.pem")], inner)
env = env.replace(b" smime-type=enveloped-data;", b"")
assert b"smime-type" not in env and b"application/x-pkcs7-mime" in env
save("snail", b"Date: Sun, 29 Nov 2026 04:00:00 +0000\nMessage-ID: <sn@example.org>\n" + env)
