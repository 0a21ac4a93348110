/* mimetypes.c — libFuzzer target: the mime.types search (lib/mimetypes.c reads the file in
 * blocks and searches a lower-cased copy with memmem) must find, for any file, the type the
 * line-by-line reference (tests/unit/mimetypes_ref.h) finds, and never crash. The first input
 * line is the extension to look up; the rest is the file. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_file.h"
#include "mimetypes.h"
#include "../unit/mimetypes_ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	struct mimetypes t;
	struct err e;
	const char *ty, *want, *path;
	char name[80], *rt;
	size_t el;

	if (nl == NULL || (el = (size_t)(nl - data)) == 0 || el > 60 || memchr(data, '\0', el) ||
	    memchr(data, '/', el) || memchr(data, '.', el))
		return 0;
	if ((path = fuzz_file("mimetypes", nl + 1, size - el - 1)) == NULL)
		return 0;
	memcpy(name, "f.", 2);
	memcpy(name + 2, data, el);
	name[el + 2] = '\0';
	if (mimetypes_load(&t, path, &e) != 0 || mimetypes_lookup(&t, name, &ty, &e) != 0)
		abort();
	if (ref_lookup(path, name + 2, &rt) != 0)
		abort();
	want = rt;
	if (rt == NULL) {
		/* No line names it: the built-in table answers, as with no file. */
		struct mimetypes none = { NULL, NULL, 0 };

		if (mimetypes_lookup(&none, name, &want, &e) != 0)
			abort();
	}
	if ((ty == NULL) != (want == NULL) || (ty != NULL && strcmp(ty, want) != 0))
		abort();
	free(rt);
	mimetypes_free(&t);
	return 0;
}
