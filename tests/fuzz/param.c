/* param.c — libFuzzer target: Content-Type / Content-Disposition parsing (RFC 2045, 2183,
 * 2231) must never crash; every parsed value that is UTF-8 must survive mime_param_append and
 * a second parse unchanged; mime_type_param_count agrees with the parse (it fails with it,
 * counts every parameter kept at least once). First byte: 0 parse as Content-Type, else
 * as a disposition. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "charset.h"
#include "param.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mime_type t, u;
	struct err e;
	char *s;
	size_t i;
	int disp;

	if (size < 1)
		return 0;
	disp = data[0] & 1;
	if ((s = malloc(size)) == NULL)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	err_clear(&e);
	if (mime_type_parse(s, disp, &t, &e) != 0) {
		if (e.code != EX_DATAERR || t.type != NULL || t.nparams != 0)
			abort();
		if (!disp && mime_type_param_count(s, "boundary", &e) != -1)
			abort();
		free(s);
		return 0;
	}
	if (t.type == NULL || *t.type == '\0' || (!disp && (t.subtype == NULL || *t.subtype == '\0')))
		abort();
	for (i = 0; i < t.nparams; i++) {
		struct buf b = BUF_INIT;
		const char *v = t.params[i].value;

		if (!disp && mime_type_param_count(s, t.params[i].name, &e) < 1)
			abort();

		if (!charset_utf8_valid(v, strlen(v)) && t.params[i].charset != NULL)
			abort();	/* RFC 2231 values are always UTF-8 */
		buf_adds(&b, "a/b");
		if (strlen(v) <= MIME_PARAM_WRITE_MAX
		    && mime_param_append(&b, t.params[i].name, v, &e) == 0 && buf_check(&b, &e) == 0) {
			if (mime_type_parse(b.p, 0, &u, &e) != 0)
				abort();
			if (u.nparams != 1 || strcmp(u.params[0].value, v) != 0)
				abort();
			mime_type_free(&u);
		}
		buf_free(&b);
	}
	mime_type_free(&t);
	free(s);
	return 0;
}
