#!/usr/bin/env python3
"""unpack-gen.py — hostile and structural test messages for mime-unpack, written byte by byte.

  unpack-gen.py torture OUT        message/rfc822 in message/rfc822 in message/rfc822, each
                                   named, after a text part
  unpack-gen.py forward OUT        an attached message whose multipart body has a named
                                   attachment of its own
  unpack-gen.py terminal OUT       escape sequences in a transfer-encoding value and in
                                   RFC 2047 and RFC 2231 file names
  unpack-gen.py bidi OUT           file names with bidi controls, zero-width and other format
                                   characters, in RFC 2231 and RFC 2047 form
  unpack-gen.py rfc3501 OUT        the structure of RFC 3501 section 6.4.5's example; each
                                   leaf's body is "body of <its IMAP number>"
  unpack-gen.py toprfc822 OUT      a message whose body is message/rfc822 around a multipart
  unpack-gen.py deepinside OUT     a named attachment, then an attached message holding a
                                   nesting bomb (an error while its file is open)
  unpack-gen.py badlater OUT       a good attachment, then one with bad base64
"""
import sys


def write(path, text):
    with open(path, "wb") as f:
        f.write(text.encode("utf-8") if isinstance(text, str) else text)


def torture():
    return """MIME-Version: 1.0
From: outer@example.org
Subject: torture
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: text/plain

outer text
--outer
Content-Type: message/rfc822; name="level1.eml"
Content-Disposition: attachment; filename="level1.eml"

From: l1@example.org
Subject: level 1
MIME-Version: 1.0
Content-Type: message/rfc822; name="level2.eml"
Content-Disposition: attachment; filename="level2.eml"

From: l2@example.org
Subject: level 2
MIME-Version: 1.0
Content-Type: message/rfc822; name="level3.eml"
Content-Disposition: attachment; filename="level3.eml"

From: l3@example.org
Subject: level 3
Content-Type: text/plain

innermost
--outer--
"""


def forward():
    return """MIME-Version: 1.0
Subject: Fwd: report
Content-Type: multipart/mixed; boundary="o"

--o
Content-Type: text/plain

see the attached message
--o
Content-Type: message/rfc822
Content-Disposition: attachment; filename="fw.eml"

From: c@example.org
Subject: report
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="i"

--i
Content-Type: text/plain

the report is attached
--i
Content-Type: application/octet-stream
Content-Disposition: attachment; filename="report.bin"
Content-Transfer-Encoding: base64

cmVwb3J0
--i--
--o--
"""


def terminal():
    return ("MIME-Version: 1.0\n"
            "Content-Type: multipart/mixed; boundary=\"b\"\n\n"
            "--b\n"
            "Content-Type: application/octet-stream\n"
            "Content-Transfer-Encoding: x-\x1b]0;owned\x07\x1b[2J\n\n"
            "abc\n"
            "--b\n"
            "Content-Type: application/octet-stream;\n"
            " name=\"=?utf-8?q?red=1B=5B31m=1B]0;t=07.txt?=\"\n"
            "Content-Transfer-Encoding: base64\n\n"
            "YWJj\n"
            "--b\n"
            "Content-Type: application/octet-stream\n"
            "Content-Disposition: attachment; filename*=utf-8''tab%09nl%0Aesc%1B%5B1m%C2%9B.txt\n"
            "Content-Transfer-Encoding: base64\n\n"
            "YWJj\n"
            "--b--\n")


def bidi():
    import base64
    # RFC 2047 in base64, as a mail client would write it: U+2067 RLI, U+200F RLM, U+2069 PDI,
    # U+061C ALM, U+00AD soft hyphen, U+FEFF zero-width no-break space.
    word = base64.b64encode("\u2067\u200fevil\u2069\u061c\u00ad\ufeff.doc".encode()).decode()
    names = [
        "filename*=utf-8''%E2%80%AEtxt.exe",                 # U+202E RLO
        "filename*=utf-8''a%E2%80%8Bb%E2%81%A6c.pdf",          # U+200B ZWSP, U+2066 LRI
        f"filename=\"=?utf-8?b?{word}?=\"",
        "filename*=utf-8''line%E2%80%A8sep%E2%80%A9.txt",      # U+2028, U+2029
    ]
    out = "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n"
    for i, n in enumerate(names):
        out += ("--b\nContent-Type: application/octet-stream\n"
                f"Content-Disposition: attachment; {n}\n"
                "Content-Transfer-Encoding: base64\n\n"
                + base64.b64encode(f"file {i}".encode()).decode() + "\n")
    return out + "--b--\n"


def leaf(num, ctype="text/plain"):
    return f"Content-Type: {ctype}\n\nbody of {num}\n"


def rfc3501():
    # RFC 3501 section 6.4.5: the example's parts and their numbers.
    return f"""MIME-Version: 1.0
Subject: the RFC 3501 example
Content-Type: multipart/mixed; boundary="top"

--top
{leaf("1")}--top
{leaf("2", "application/octet-stream")}--top
Content-Type: message/rfc822

Subject: message in 3
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="m3"

--m3
{leaf("3.1")}--m3
{leaf("3.2", "application/octet-stream")}--m3--
--top
Content-Type: multipart/mixed; boundary="p4"

--p4
{leaf("4.1", "image/gif")}--p4
Content-Type: message/rfc822

Subject: message in 4.2
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="m42"

--m42
{leaf("4.2.1")}--m42
Content-Type: multipart/alternative; boundary="alt"

--alt
{leaf("4.2.2.1")}--alt
{leaf("4.2.2.2", "text/richtext")}--alt--
--m42--
--p4--
--top
Content-Type: message/rfc822

Subject: a message in 5 that is not multipart

body of 5.1
--top--
"""


def toprfc822():
    return f"""MIME-Version: 1.0
Subject: a message that is a message
Content-Type: message/rfc822

Subject: inside
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="a"

--a
{leaf("1.1")}--a
{leaf("1.2", "text/html")}--a--
"""


def deepinside():
    out = ("MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"o\"\n\n"
           "--o\nContent-Type: application/octet-stream\n"
           "Content-Disposition: attachment; filename=\"first.bin\"\n"
           "Content-Transfer-Encoding: base64\n\nYWJj\n"
           "--o\nContent-Type: message/rfc822\n"
           "Content-Disposition: attachment; filename=\"bomb.eml\"\n\n"
           "Subject: bomb\nMIME-Version: 1.0\n")
    for i in range(40):
        out += f"Content-Type: multipart/mixed; boundary=\"n{i}\"\n\n--n{i}\n"
    out += "Content-Type: text/plain\n\nx\n"
    for i in reversed(range(40)):
        out += f"--n{i}--\n"
    return out + "--o--\n"


def badlater():
    return ("MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"o\"\n\n"
            "--o\nContent-Type: application/octet-stream\n"
            "Content-Disposition: attachment; filename=\"good.bin\"\n"
            "Content-Transfer-Encoding: base64\n\nYWJj\n"
            "--o\nContent-Type: application/octet-stream\n"
            "Content-Disposition: attachment; filename=\"bad.bin\"\n"
            "Content-Transfer-Encoding: base64\n\n" + "QUJD" * 5000 + "\nYW!j\n"
            "--o--\n")


def main():
    kinds = {"torture": torture, "forward": forward, "terminal": terminal, "bidi": bidi,
             "rfc3501": rfc3501, "toprfc822": toprfc822, "deepinside": deepinside,
             "badlater": badlater}
    if len(sys.argv) != 3 or sys.argv[1] not in kinds:
        sys.exit(__doc__)
    write(sys.argv[2], kinds[sys.argv[1]]())


main()
