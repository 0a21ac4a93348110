/* maildir_name.c — libFuzzer target: Maildir file names as the batch mode reads them from a
 * directory others deliver into. maildir_mark_name must never crash or overrun; a name it
 * marks is at most NAME_MAX bytes, carries the mark (maildir_has_mark agrees with a plain
 * field-by-field reference), keeps the input's info and every field but the size fields, and
 * depends on the base alone (the recovery after a crash looks outputs up by base). First byte:
 * which mark; the rest: the name ('/' and NUL, which no file name holds, become '_'). */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "maildir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The mark, found by splitting the base at every ',' (the first field is the unique part). */
static int
ref_has_mark(const char *name, const char *what)
{
	size_t blen = strcspn(name, ":"), wl = strlen(what), i, j;

	for (i = 0; i < blen; i = j) {
		if (name[i] != ',') {
			j = i + 1;
			continue;
		}
		for (j = i + 1; j < blen && name[j] != ','; j++)
			;
		if (j - i - 1 == 8 + wl && strncmp(name + i + 1, "secmail=", 8) == 0
		    && strncmp(name + i + 9, what, wl) == 0)
			return 1;
	}
	return 0;
}

/* The base's fields other than ",S=..." and ",W=...", concatenated. */
static size_t
kept_fields(const char *name, size_t blen, char *out)
{
	size_t i = 0, j, o = 0;

	while (i < blen && name[i] != ',')
		out[o++] = name[i++];
	for (; i < blen; i = j) {
		for (j = i + 1; j < blen && name[j] != ','; j++)
			;
		if (j - i >= 3 && (name[i + 1] == 'S' || name[i + 1] == 'W') && name[i + 2] == '=')
			continue;
		memcpy(out + o, name + i, j - i);
		o += j - i;
	}
	return o;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *marks[] = { "signed", "encrypted", "decrypted", "verified", "exec" };
	const char *what;
	char out[NAME_MAX + 1], out2[NAME_MAX + 1], *name, *kept, *base;
	size_t i, n, blen, olen, klen, wl;
	int r;

	if (size < 1)
		return 0;
	what = marks[data[0] % (sizeof marks / sizeof *marks)];
	wl = strlen(what);
	n = size - 1;
	if ((name = malloc(n + 1)) == NULL || (kept = malloc(n + 1)) == NULL
	    || (base = malloc(n + 1)) == NULL)
		abort();
	for (i = 0; i < n; i++)
		name[i] = data[i + 1] == '/' || data[i + 1] == '\0' ? '_' : (char)data[i + 1];
	name[n] = '\0';
	blen = maildir_base_len(name);
	if (blen != strcspn(name, ":"))
		abort();
	if (maildir_has_mark(name, what) != ref_has_mark(name, what))
		abort();
	(void)maildir_flagged_away(name);

	r = maildir_mark_name(name, what, out, sizeof out);
	klen = kept_fields(name, blen, kept);
	if (r != 0) {
		/* Refused only when the result would not fit a file name. */
		if (klen + 9 + wl + (n - blen) <= NAME_MAX)
			abort();
		goto done;
	}
	olen = strlen(out);
	if (olen > NAME_MAX || olen != klen + 9 + wl + (n - blen))
		abort();
	if (!maildir_has_mark(out, what) || !ref_has_mark(out, what) || strchr(out, '/') != NULL)
		abort();
	/* The base: the kept fields, then the mark; after it, the input's info unchanged. */
	if (memcmp(out, kept, klen) != 0 || out[klen] != ',' || memcmp(out + klen + 1, "secmail=", 8)
	    || memcmp(out + klen + 9, what, wl) != 0 || strcmp(out + klen + 9 + wl, name + blen) != 0)
		abort();
	if (maildir_base_len(out) != klen + 9 + wl)
		abort();
	/* The same base, whatever the info. */
	memcpy(base, name, blen);
	base[blen] = '\0';
	if (maildir_mark_name(base, what, out2, sizeof out2) != 0
	    || strncmp(out, out2, klen + 9 + wl) != 0 || out2[klen + 9 + wl] != '\0')
		abort();
done:
	free(name);
	free(kept);
	free(base);
	return 0;
}
