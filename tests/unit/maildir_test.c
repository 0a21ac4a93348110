/* maildir_test.c — the batch mode's Maildir names: the base/info split, the ",secmail=" mark
 * (added, found, never found by a near miss), Dovecot's size fields dropped, the info kept,
 * names too long for a file system refused, and the trashed/draft flags. */
#include <limits.h>
#include <string.h>

#include "maildir.h"
#include "tap.h"

static void
mark_is(const char *name, const char *what, const char *want)
{
	char out[NAME_MAX + 1];

	ok(maildir_mark_name(name, what, out, sizeof out) == 0, "mark '%s' with %s", name, what);
	is_str(out, want, "marked name of '%s'", name);
	ok(maildir_has_mark(out, what), "'%s' carries the mark %s", out, what);
}

int
main(void)
{
	char out[NAME_MAX + 1], big[NAME_MAX + 2], small[8];

	ok(maildir_base_len("1700000000.M1P2.host") == 20, "base of a name without info");
	ok(maildir_base_len("1700000000.M1P2.host:2,S") == 20, "base stops at the info");
	ok(maildir_base_len("a:b:2,S") == 1, "base stops at the first ':'");
	ok(maildir_base_len("") == 0, "empty name");

	mark_is("1700000000.M1P2.host", "signed", "1700000000.M1P2.host,secmail=signed");
	mark_is("1700000000.M1P2.host:2,S", "signed", "1700000000.M1P2.host,secmail=signed:2,S");
	mark_is("1700000000.M1P2.host,S=1234,W=1260:2,RS", "encrypted",
	    "1700000000.M1P2.host,secmail=encrypted:2,RS");
	mark_is("1700000000.M1P2.host,S=1234,X=keep,W=9", "decrypted",
	    "1700000000.M1P2.host,X=keep,secmail=decrypted");
	mark_is("x,secmail=exec:2,", "signed", "x,secmail=exec,secmail=signed:2,");
	/* S= and W= only as whole fields: ",SIZE=" or ",S" are other attributes. */
	mark_is("x,SIZE=1,S,W:2,S", "signed", "x,SIZE=1,S,W,secmail=signed:2,S");
	/* ',' and '=' inside the info are the info's. */
	mark_is("x:2,S=1,W=2", "signed", "x,secmail=signed:2,S=1,W=2");
	mark_is("", "signed", ",secmail=signed");

	ok(maildir_has_mark("x,secmail=signed", "signed"), "mark at the end of the base");
	ok(maildir_has_mark("x,secmail=signed,S=3:2,S", "signed"), "mark inside the base");
	ok(!maildir_has_mark("x:2,secmail=signed", "signed"), "mark in the info is not a mark");
	ok(!maildir_has_mark("x,secmail=signedx", "signed"), "longer value is not the mark");
	ok(!maildir_has_mark("x,secmail=sign", "signed"), "shorter value is not the mark");
	ok(!maildir_has_mark("x,Secmail=signed", "signed"), "the mark is case-sensitive");
	ok(!maildir_has_mark("secmail=signed", "signed"), "the first field is the unique part");
	ok(!maildir_has_mark("x,xsecmail=signed", "signed"), "a field only ending in the mark");
	ok(maildir_has_mark("x,,secmail=signed", "signed"), "after an empty field");

	memset(big, 'a', NAME_MAX - 15);
	big[NAME_MAX - 15] = '\0';
	ok(maildir_mark_name(big, "signed", out, sizeof out) == 0, "a name that just fits (255)");
	ok(strlen(out) == NAME_MAX, "marked name is %d bytes", NAME_MAX);
	big[NAME_MAX - 15] = 'a';
	big[NAME_MAX - 14] = '\0';
	ok(maildir_mark_name(big, "signed", out, sizeof out) == -1, "one byte more is refused");
	memset(big, 'a', NAME_MAX + 1);
	big[NAME_MAX + 1] = '\0';
	ok(maildir_mark_name(big, "signed", out, sizeof out) == -1, "an over-long input is refused");
	ok(maildir_mark_name("1700000000.M1P2.host", "signed", small, sizeof small) == -1,
	    "an output buffer too small is refused");
	/* Dropping the size fields makes room. */
	memset(big, 'a', NAME_MAX - 15);
	memcpy(big + NAME_MAX - 25, ",S=1234567", 10);
	big[NAME_MAX - 15] = '\0';
	ok(maildir_mark_name(big, "signed", out, sizeof out) == 0 && strlen(out) == NAME_MAX - 10,
	    "the dropped size field frees its room");

	ok(maildir_flagged_away("x:2,T"), "trashed");
	ok(maildir_flagged_away("x:2,DS"), "draft");
	ok(maildir_flagged_away("x:2,FST"), "trashed among other flags");
	ok(!maildir_flagged_away("x:2,FRS"), "seen, replied, flagged: not away");
	ok(!maildir_flagged_away("x:2,"), "no flags");
	ok(!maildir_flagged_away("x,T"), "no info");
	ok(!maildir_flagged_away("x:1,T"), "experimental info '1,' has no flags");
	ok(!maildir_flagged_away("x,secmail=T"), "T in the base");
	return tap_done();
}
