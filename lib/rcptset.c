/* rcptset.c — envelope recipients without repeats (see rcptset.h). */
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "rcptset.h"

int
rcptset_add(struct rcptset *s, const char *spec, struct err *e)
{
	if (s->n >= RCPTSET_MAX)
		return err_set(e, EX_DATAERR, "more than %d recipients", RCPTSET_MAX);
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		char **v = realloc(s->v, cap * sizeof *v);

		if (v == NULL)
			return err_set(e, EX_OSERR, "out of memory");
		s->v = v;
		s->cap = cap;
	}
	if ((s->v[s->n] = strdup(spec)) == NULL)
		return err_set(e, EX_OSERR, "out of memory");
	s->n++;
	return 0;
}

int
rcptset_add_field(struct rcptset *s, const char *value, struct err *e)
{
	struct addr_list l = { NULL, 0, 0 };
	size_t i;

	/* One list per field: addr_parse's own limit applies to a field, not to the sum. */
	if (addr_parse(value, &l, e) != 0) {
		addr_list_free(&l);	/* it may hold the array, without entries */
		return -1;
	}
	for (i = 0; i < l.n; i++)
		if (rcptset_add(s, l.v[i].spec, e) != 0) {
			addr_list_free(&l);
			return -1;
		}
	addr_list_free(&l);
	return 0;
}

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

int
rcptset_cmp(const char *a, const char *b)
{
	const char *da = strrchr(a, '@'), *db = strrchr(b, '@');
	size_t la = da ? (size_t)(da - a) : strlen(a), lb = db ? (size_t)(db - b) : strlen(b);
	int c = memcmp(a, b, la < lb ? la : lb);

	if (c != 0)
		return c;
	if (la != lb)
		return la < lb ? -1 : 1;
	if (da == NULL || db == NULL)
		return (da != NULL) - (db != NULL);
	for (da++, db++; *da || *db; da++, db++)
		if (lower((unsigned char)*da) != lower((unsigned char)*db))
			return lower((unsigned char)*da) - lower((unsigned char)*db);
	return 0;
}

static int
cmp_index(const void *x, const void *y, void *ctx)
{
	char **v = ctx;
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	int c = rcptset_cmp(v[a], v[b]);

	if (c != 0)
		return c;
	return a < b ? -1 : a > b;	/* equal ones in input order: the first is kept */
}

/* qsort_r is not in C11 or POSIX 2008; a heap sort over the index needs no context hook. */
static void
sift(size_t *ix, size_t start, size_t end, char **v)
{
	size_t root = start;

	while (2 * root + 1 <= end) {
		size_t child = 2 * root + 1, sw = root;

		if (cmp_index(&ix[sw], &ix[child], v) < 0)
			sw = child;
		if (child + 1 <= end && cmp_index(&ix[sw], &ix[child + 1], v) < 0)
			sw = child + 1;
		if (sw == root)
			return;
		{
			size_t t = ix[root];

			ix[root] = ix[sw];
			ix[sw] = t;
		}
		root = sw;
	}
}

static void
sort_index(size_t *ix, size_t n, char **v)
{
	size_t i;

	if (n < 2)
		return;
	for (i = (n - 2) / 2 + 1; i-- > 0;)
		sift(ix, i, n - 1, v);
	for (i = n - 1; i > 0; i--) {
		size_t t = ix[0];

		ix[0] = ix[i];
		ix[i] = t;
		sift(ix, 0, i - 1, v);
	}
}

int
rcptset_unique(struct rcptset *s, struct err *e)
{
	size_t *ix, i, k;

	if (s->n < 2)
		return 0;
	if ((ix = malloc(s->n * sizeof *ix)) == NULL)
		return err_set(e, EX_OSERR, "out of memory");
	for (i = 0; i < s->n; i++)
		ix[i] = i;
	sort_index(ix, s->n, s->v);
	/* Within a run of equal specs the first in input order comes first: keep it, free
	 * the others. */
	for (i = 1; i < s->n; i++)
		if (rcptset_cmp(s->v[ix[i - 1]], s->v[ix[i]]) == 0) {
			free(s->v[ix[i]]);
			s->v[ix[i]] = NULL;
			ix[i] = ix[i - 1];	/* the next one is compared with the kept one */
		}
	free(ix);
	for (i = 0, k = 0; i < s->n; i++)
		if (s->v[i] != NULL)
			s->v[k++] = s->v[i];
	s->n = k;
	return 0;
}

void
rcptset_free(struct rcptset *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof *s);
}
