/* aliases_test — local names: addr_parse_bare (the bare forms cron writes, where each local
 * part is), aliases(5) files (continuations, comments, case), expansion (recursion, loops,
 * self-reference, unsupported targets) and what a name becomes in a header. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "aliases.h"
#include "tap.h"

static char dir[] = "/tmp/aliases_test.XXXXXX";

static const char *
put(const char *text, int mode)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/aliases", dir);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	chmod(path, (mode_t)mode);
	return path;
}

static char *
expand(const struct aliases *a, const char *name)
{
	static char out[1000];
	struct rcptset s = RCPTSET_INIT;
	struct err e;
	size_t i, k = 0;

	if (aliases_expand(a, name, "d.example", &s, &e) != 0) {
		snprintf(out, sizeof out, "ERR %s", e.msg);
		rcptset_free(&s);
		return out;
	}
	out[0] = '\0';
	for (i = 0; i < s.n; i++)
		k += (size_t)snprintf(out + k, sizeof out - k, "%s%s", i ? " " : "", s.v[i]);
	rcptset_free(&s);
	return out;
}

int
main(void)
{
	struct addr_list l = { NULL, 0, 0 };
	struct aliases a;
	struct err e;
	const char *v = "root (Cron Daemon), Web <www-data>, bob@x, team: \"j d\", k;";
	char *h;

	if (mkdtemp(dir) == NULL)
		return 1;
	ok(addr_parse_bare(v, &l, &e) == 0 && l.n == 5, "bare names, angle, group: 5 mailboxes");
	ok(l.v[0].domain == NULL && strcmp(l.v[0].spec, "root") == 0 && l.v[0].local_start == 0 &&
	    l.v[0].local_end == 4, "root: no domain, local part at 0..4");
	ok(l.v[1].domain == NULL && strcmp(l.v[1].name, "Web") == 0 &&
	    strncmp(v + l.v[1].local_start, "www-data>", 9) == 0 &&
	    l.v[1].local_end - l.v[1].local_start == 8, "<www-data>: the span inside the brackets");
	ok(l.v[2].domain != NULL && strcmp(l.v[2].spec, "bob@x") == 0, "a full address is as before");
	ok(l.v[3].domain == NULL && strcmp(l.v[3].spec, "\"j d\"") == 0 &&
	    strncmp(v + l.v[3].local_start, "\"j d\"", 5) == 0 && strcmp(l.v[3].group, "team") == 0,
	    "a quoted bare name in a group, requoted in spec");
	addr_list_free(&l);
	ok(addr_parse_bare("John Smith", &l, &e) == -1 && l.n == 0,
	    "two words are a name without an address, not a local part");
	ok(addr_parse("root", &l, &e) == -1, "addr_parse still refuses a bare name");

	aliases_init(&a);
	ok(aliases_load(&a, put("# comment\nRoot: admin@example.org\npostmaster: root\n"
	    "team: bob, \"C, D\" <cd@example.net>,\n  root\n"
	    "self: self, other@example.org\nloop1: loop2\nloop2: loop1\ndeep0: deep1\n"
	    "pipe: |/usr/bin/procmail\nempty:\n", 0600), &e) == 0, "load: %s", e.msg);
	is_str(expand(&a, "ROOT"), "admin@example.org", "names without case");
	is_str(expand(&a, "postmaster"), "admin@example.org", "an alias of an alias");
	is_str(expand(&a, "team"), "bob@d.example cd@example.net admin@example.org",
	    "a continuation line joins the entry; a quoted comma is not a separator");
	is_str(expand(&a, "self"), "self@d.example other@example.org", "a name on its own path stands for itself");
	is_str(expand(&a, "loop1"), "loop1@d.example", "a loop ends at the name met again");
	is_str(expand(&a, "nobody"), "nobody@d.example", "an unknown name is completed");
	ok(strstr(expand(&a, "pipe"), "needs a local delivery agent") != NULL &&
	    strstr(expand(&a, "pipe"), ":10:") != NULL, "a pipe is refused with its line");
	is_str(expand(&a, "empty"), "", "an empty alias expands to nobody");
	h = aliases_header(&a, "postmaster", "d.example", &e);
	is_str(h, "admin@example.org", "header: one address all the way down");
	free(h);
	h = aliases_header(&a, "self", "d.example", &e);
	is_str(h, "self@d.example", "header: several addresses: the completed name");
	free(h);
	aliases_free(&a);

	{
		struct buf_text { const char *t; } deep;
		char text[4000];
		size_t i, k = 0;

		for (i = 0; i < 20; i++)
			k += (size_t)snprintf(text + k, sizeof text - k, "d%zu: d%zu\n", i, i + 1);
		deep.t = text;
		aliases_init(&a);
		ok(aliases_load(&a, put(deep.t, 0600), &e) == 0, "20 nested aliases load");
		ok(strstr(expand(&a, "d0"), "nested more than 16 deep") != NULL, "nesting is bounded");
		aliases_free(&a);
	}
	ok(aliases_load(&a, put("root admin@example.org\n", 0600), &e) == -1 && e.code == EX_CONFIG &&
	    strstr(e.msg, ":1:") != NULL, "a line without ':' is EX_CONFIG with its line");
	aliases_free(&a);
	ok(aliases_load(&a, put("root: a@b\n", 0666), &e) == -1 && e.code == EX_CONFIG &&
	    strstr(e.msg, "writable by others") != NULL, "a file others can write is refused");
	aliases_free(&a);
	unlink(put("", 0600));
	rmdir(dir);
	return tap_done();
}
