/* rcptset_test — envelope recipients: repeats dropped in input order, the domain compared
 * without case and the local part exactly, at scale; cross-checked against a quadratic scan. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rcptset.h"
#include "tap.h"

static int
same_as_quadratic(struct rcptset *in, const struct rcptset *out)
{
	size_t i, j, k = 0;

	for (i = 0; i < in->n; i++) {
		for (j = 0; j < i && rcptset_cmp(in->v[j], in->v[i]) != 0; j++)
			;
		if (j < i)
			continue;
		if (k >= out->n || strcmp(out->v[k], in->v[i]) != 0)
			return 0;
		k++;
	}
	return k == out->n;
}

int
main(void)
{
	struct rcptset s = RCPTSET_INIT, t = RCPTSET_INIT;
	struct err e;
	size_t i;
	char a[64];

	ok(rcptset_add_field(&s, "b@example.org, A <a@Example.ORG>, b@EXAMPLE.org, "
	    "B@example.org, g: a@example.org, c@x;", &e) == 0, "a field with a group parses");
	ok(rcptset_unique(&s, &e) == 0 && s.n == 4, "repeats dropped (%zu left)", s.n);
	is_str(s.v[0], "b@example.org", "first occurrence kept, in place");
	is_str(s.v[1], "a@Example.ORG", "the domain compared without case, first spelling kept");
	is_str(s.v[2], "B@example.org", "the local part compared exactly");
	is_str(s.v[3], "c@x", "group members are recipients");
	rcptset_free(&s);

	ok(rcptset_cmp("a@b", "a@B") == 0 && rcptset_cmp("A@b", "a@b") != 0 &&
	    rcptset_cmp("a@b", "ab") != 0 && rcptset_cmp("ab@c", "a@bc") != 0,
	    "rcptset_cmp: domain case only, and '@' is where the domain starts");

	/* 150,000 addresses, a third of them repeats with another domain case. */
	for (i = 0; i < 150000; i++) {
		size_t k = i % 3 == 2 ? (size_t)(i * 7919) % (i + 1) : i;

		snprintf(a, sizeof a, "u%zu@%s.example", k, i % 3 == 2 ? "DOM" : "dom");
		if (rcptset_add(&s, a, &e) != 0 || rcptset_add(&t, a, &e) != 0)
			break;
	}
	ok(s.n == 150000, "150,000 added");
	ok(rcptset_unique(&s, &e) == 0, "unique at 150,000");
	{
		/* The quadratic reference only on a sample prefix: same rule, same order. */
		struct rcptset p = RCPTSET_INIT, q = RCPTSET_INIT;

		for (i = 0; i < 3000; i++)
			rcptset_add(&p, t.v[i], &e), rcptset_add(&q, t.v[i], &e);
		rcptset_unique(&q, &e);
		ok(same_as_quadratic(&p, &q), "agrees with a quadratic scan on 3,000");
		rcptset_free(&p);
		rcptset_free(&q);
	}
	{
		/* Independently: the address of slot i is u<k> (any case of the domain), so
		 * the expected result keeps the slots whose k is new, in order. */
		unsigned char *seen = calloc(150000, 1);
		size_t j = 0, good = 1;

		for (i = 0; i < 150000 && seen != NULL; i++) {
			size_t k = i % 3 == 2 ? (size_t)(i * 7919) % (i + 1) : i;

			if (seen[k])
				continue;
			seen[k] = 1;
			if (j >= s.n || strcmp(s.v[j], t.v[i]) != 0)
				good = 0;
			j++;
		}
		ok(seen != NULL && good && j == s.n, "150,000: the first of each address, in order "
		    "(%zu kept)", s.n);
		free(seen);
	}
	rcptset_free(&s);
	rcptset_free(&t);
	ok(rcptset_add_field(&s, "<<<", &e) == -1 && e.code == EX_DATAERR, "a bad field is EX_DATAERR");
	rcptset_free(&s);
	return tap_done();
}
