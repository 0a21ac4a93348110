/* addr_test.c — RFC 5322 address lists: the examples of Appendix A.1-A.6, groups, comments,
 * quoted local parts, the obsolete forms of §4.4, domain literals, errors and limits. The
 * expected results are written out by hand from the RFC's text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "buf.h"
#include "tap.h"

/* Each result is "spec|name|group" per address, joined with "; "; "(null)" for NULL. An
 * expected value starting with "!" is an error whose message contains the rest. */
static const char *cases[][2] = {
	/* RFC 5322 Appendix A.1.1 */
	{ "John Doe <jdoe@machine.example>", "jdoe@machine.example|John Doe|(null)" },
	{ "Mary Smith <mary@example.net>", "mary@example.net|Mary Smith|(null)" },
	/* A.1.2 */
	{ "\"Joe Q. Public\" <john.q.public@example.com>",
	  "john.q.public@example.com|Joe Q. Public|(null)" },
	{ "Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>",
	  "mary@x.test|Mary Smith|(null); jdoe@example.org|(null)|(null); one@y.test|Who?|(null)" },
	{ "<boss@nil.test>, \"Giant; \\\"Big\\\" Box\" <sysservices@example.net>",
	  "boss@nil.test|(null)|(null); sysservices@example.net|Giant; \"Big\" Box|(null)" },
	/* A.1.3 */
	{ "A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;",
	  "c@a.test|Ed Jones|A Group; joe@where.test|(null)|A Group; jdoe@one.test|John|A Group" },
	{ "Undisclosed recipients:;", "" },
	/* A.4 (Resent fields use the same syntax) */
	{ "Mary Smith <mary@example.net>", "mary@example.net|Mary Smith|(null)" },
	/* A.5: white space, comments, and other oddities */
	{ "Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>",
	  "pete@silly.test|Pete|(null)" },
	{ "A Group(Some people)\r\n     :Chris Jones <c@(Chris's host.)public.example>,\r\n"
	  "         joe@example.org,\r\n  John <jdoe@one.test> (my dear friend); (the end of the group)",
	  "c@public.example|Chris Jones|A Group; joe@example.org|(null)|A Group; "
	  "jdoe@one.test|John|A Group" },
	{ "(Empty list)(start)Hidden recipients  :(nobody(that I know))  ;", "" },
	/* A.6.1: obsolete syntax */
	{ "Joe Q. Public <john.q.public@example.com>",
	  "john.q.public@example.com|Joe Q. Public|(null)" },
	{ "Mary Smith <@node.test:mary@example.net>, , jdoe@test  . example",
	  "mary@example.net|Mary Smith|(null); jdoe@test.example|(null)|(null)" },
	/* A.6.3 */
	{ "John Doe <jdoe@machine(comment).  example>",
	  "jdoe@machine.example|John Doe|(null)" },
	{ "Mary Smith\r\n    \r\n <mary@example.net>", "mary@example.net|Mary Smith|(null)" },
	/* Quoted local parts, re-quoted in the spec when not a dot-atom. */
	{ "\"john doe\"@example.com", "\"john doe\"@example.com|(null)|(null)" },
	{ "\"jdoe\"@example.com", "jdoe@example.com|(null)|(null)" },
	{ "\"a\\\"b\\\\c\"@x.test", "\"a\\\"b\\\\c\"@x.test|(null)|(null)" },
	{ "\"very.(),:;<>[]\\\".VERY.\\\"very@\\\\ \\\"very\\\".unusual\"@strange.example.com",
	  "\"very.(),:;<>[]\\\".VERY.\\\"very@\\\\ \\\"very\\\".unusual\"@strange.example.com|(null)|(null)" },
	{ "Name <\"x y\"@z.test>", "\"x y\"@z.test|Name|(null)" },
	{ "\"a..b\"@x.test", "\"a..b\"@x.test|(null)|(null)" },
	{ "\".a\"@x.test", "\".a\"@x.test|(null)|(null)" },
	{ "first.\"quoted\".last@x.test", "first.quoted.last@x.test|(null)|(null)" },
	/* Domain literals. */
	{ "jdoe@[192.0.2.1]", "jdoe@[192.0.2.1]|(null)|(null)" },
	{ "J <jdoe@[IPv6:2001:db8::1]>", "jdoe@[IPv6:2001:db8::1]|J|(null)" },
	{ "jdoe@[ 192.0.2.1 ]", "jdoe@[192.0.2.1]|(null)|(null)" },
	/* Comments, nested, with quoted-pairs; comments never become names. */
	{ "jdoe@example.org (John (the \\(real\\)) Doe)", "jdoe@example.org|(null)|(null)" },
	{ "(c1)jdoe(c2)@(c3)example.org(c4)", "jdoe@example.org|(null)|(null)" },
	/* Display names as written: quoted parts unquoted, encoded words kept. */
	{ "=?UTF-8?Q?J=C3=B6rg?= <j@x.test>", "j@x.test|=?UTF-8?Q?J=C3=B6rg?=|(null)" },
	{ "\"Doe, John\" <j@x.test>", "j@x.test|Doe, John|(null)" },
	{ "Doe\t  John <j@x.test>", "j@x.test|Doe John|(null)" },
	/* UTF-8 (RFC 6532). */
	{ "Jörg <jörg@bücher.example>", "jörg@bücher.example|Jörg|(null)" },
	/* Empty elements, empty value. */
	{ "", "" },
	{ "   ", "" },
	{ ",,a@b.test,,", "a@b.test|(null)|(null)" },
	/* Groups. */
	{ "undisclosed-recipients:;", "" },
	{ "undisclosed-recipients:", "" },
	{ "g: a@b.test, c@d.test", "a@b.test|(null)|g; c@d.test|(null)|g" },
	{ "x@y.test, team: a@b.test;, z@w.test",
	  "x@y.test|(null)|(null); a@b.test|(null)|team; z@w.test|(null)|(null)" },
	{ "\"Quoted Group\": <a@b.test>;", "a@b.test|(null)|Quoted Group" },
	/* Source routes (obs-route) are dropped. */
	{ "<@a.test,@b.test:joe@c.test>", "joe@c.test|(null)|(null)" },
	{ "<,@a.test,,@b.test:joe@c.test>", "joe@c.test|(null)|(null)" },
	/* Case: domain kept as written. */
	{ "Joe@EXAMPLE.Org", "Joe@EXAMPLE.Org|(null)|(null)" },

	/* Errors. */
	{ "a@b.test c@d.test", "!expected ',' between addresses" },
	{ "John Doe", "!not an address" },
	{ "John Doe <jdoe@example.org", "!expected '>'" },
	{ "<>", "!empty address" },
	{ "jdoe@", "!expected a domain" },
	{ "@example.org", "!expected an address" },
	{ "a..b@example.org", "!empty label in local part" },
	{ ".a@example.org", "!expected a local part" },
	{ "a.@example.org", "!empty label in local part" },
	{ "a@b..c", "!empty label in domain" },
	{ "a@b.", "!empty label in domain" },
	{ "john doe@example.org", "!white space inside a local part" },
	{ "\"unterminated@example.org", "!unterminated quoted string" },
	{ "a@example.org (unterminated", "!unterminated comment" },
	{ "a@example.org)", "!unbalanced ')'" },
	{ "a@[1.2.3.4", "!unterminated domain literal" },
	{ "g1: g2: a@b.test;;", "!group inside a group" },
	{ "a@b.test\x01", "!control character" },
	{ "<a@b.test> c@d.test", "!expected ','" },
	{ "a@b.test>", "!expected ','" },
	{ "a@b.test\\", "!unexpected special" },
	{ "g: a@b.test c@d.test;", "!expected ',' or ';'" },
	{ "<@a.test joe@c.test>", "!expected ':' after a source route" },
};

static char *
render(const struct addr_list *l)
{
	struct buf b = BUF_INIT;
	struct err e;
	size_t i;

	for (i = 0; i < l->n; i++)
		buf_addf(&b, "%s%s|%s|%s", i ? "; " : "", l->v[i].spec,
		    l->v[i].name ? l->v[i].name : "(null)", l->v[i].group ? l->v[i].group : "(null)");
	return buf_take(&b, &e);
}

static void
test_table(void)
{
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct addr_list l = { NULL, 0, 0 };
		struct err e;
		int rc;

		err_clear(&e);
		rc = addr_parse(cases[i][0], &l, &e);
		if (cases[i][1][0] == '!') {
			ok(rc == -1 && e.code == EX_DATAERR && strstr(e.msg, cases[i][1] + 1) != NULL
			    && l.n == 0, "error for [%s]: %s", cases[i][0], e.msg);
		} else {
			char *s = rc == 0 ? render(&l) : NULL;

			if (rc != 0)
				printf("# error: %s\n", e.msg);
			is_str(s, cases[i][1], "parse [%s]", cases[i][0]);
			free(s);
		}
		addr_list_free(&l);
	}
}

static void
test_parts_and_append(void)
{
	struct addr_list l = { NULL, 0, 0 };
	struct err e;

	ok(addr_parse("\"x y\"@[1.2.3.4]", &l, &e) == 0, "parse");
	is_str(l.v[0].local, "x y", "local part is unquoted");
	is_str(l.v[0].domain, "[1.2.3.4]", "domain literal keeps its brackets");
	ok(addr_parse("a@b.test", &l, &e) == 0 && l.n == 2, "addr_parse appends");
	ok(addr_parse("c@d.test, bad", &l, &e) == -1 && l.n == 2,
	    "a failed parse leaves earlier entries as they were");
	addr_list_free(&l);
}

static void
test_limits(void)
{
	struct addr_list l = { NULL, 0, 0 };
	struct buf b = BUF_INIT;
	struct err e;
	char *s;
	int i;

	for (i = 0; i < 10001; i++)
		buf_addf(&b, "%sa%d@b.test", i ? "," : "", i);
	s = buf_take(&b, &e);
	ok(addr_parse(s, &l, &e) == -1 && strstr(e.msg, "more than") != NULL,
	    "too many addresses: %s", e.msg);
	free(s);
	addr_list_free(&l);

	for (i = 0; i < 100; i++)
		buf_addc(&b, '(');
	buf_adds(&b, "a@b.test");
	s = buf_take(&b, &e);
	ok(addr_parse(s, &l, &e) == -1 && strstr(e.msg, "nested") != NULL,
	    "deeply nested comments: %s", e.msg);
	free(s);
	addr_list_free(&l);
}

static void
test_spec_eq(void)
{
	ok(addr_spec_eq("Joe@Example.ORG", "Joe@example.org"), "domains compare without case");
	ok(!addr_spec_eq("joe@example.org", "Joe@example.org"), "local parts compare exactly");
	ok(!addr_spec_eq("joe@example.org", "joe@example.org.evil"), "different domains differ");
	ok(!addr_spec_eq("jo@e@x", "jo@x"), "different lengths differ");
	ok(addr_spec_eq("\"a@b\"@x.test", "\"a@b\"@X.TEST"), "the last @ separates the domain");
}

static void
test_unique(void)
{
	struct addr_list l = { NULL, 0, 0 };
	struct err e;

	ok(addr_parse_unique("a@x, B <b@x>", &l, &e) == 0 && l.n == 2, "first field adds two");
	ok(addr_parse_unique("Other Name <b@x>, c@x, a@x", &l, &e) == 0 && l.n == 3,
	    "a second field adds only what is new");
	is_str(l.v[2].spec, "c@x", "in order of first appearance");
	ok(addr_parse_unique("bad <", &l, &e) < 0 && l.n == 3, "an error leaves the list as it was");
	addr_list_free(&l);
}

static void
test_specs(void)
{
	struct addr_list l = { NULL, 0, 0 };
	struct err e;
	char **v;
	size_t i;

	ok(addr_parse("Bob <b@x>, g: c@y, \"q\"@z;", &l, &e) == 0 && l.n == 3, "three mailboxes");
	v = addr_list_specs(&l, &e);
	ok(v != NULL && l.n == 0 && l.v == NULL, "specs taken, the list freed");
	is_str(v != NULL ? v[0] : NULL, "b@x", "first spec");
	is_str(v != NULL ? v[1] : NULL, "c@y", "a group member's spec");
	is_str(v != NULL ? v[2] : NULL, "q@z", "a needlessly quoted local part as its spec");
	ok(v != NULL && v[3] == NULL, "NULL-terminated");
	for (i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
	v = addr_list_specs(&l, &e);
	ok(v != NULL && v[0] == NULL, "an empty list gives an empty array");
	free(v);
}

int
main(void)
{
	test_table();
	test_parts_and_append();
	test_limits();
	test_spec_eq();
	test_unique();
	test_specs();
	return tap_done();
}
