/* mimetypes_ref.h — the mime.types search as it was written first (getline and strtok_r over
 * each line): the reference the block-and-memmem search in lib/mimetypes.c is compared with,
 * by the unit test and the fuzz target. Returns 0 with *type (malloc'd, or NULL), -1 when
 * the file cannot be read. */
#ifndef MIMETYPES_REF_H
#define MIMETYPES_REF_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mimetypes.h"

static int
ref_lookup(const char *path, const char *ext, char **type)
{
	char *line = NULL, *save, *tok, *ty, *hash, *c;
	size_t cap = 0;
	FILE *f;

	*type = NULL;
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	while (*type == NULL && getline(&line, &cap, f) > 0) {
		if (line[0] == '#')
			continue;
		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		if ((ty = strtok_r(line, " \t\r\n\f\v", &save)) == NULL)
			continue;
		while ((tok = strtok_r(NULL, " \t\r\n\f\v", &save)) != NULL) {
			if (strcasecmp(tok, ext) != 0)
				continue;
			for (c = ty; *c; c++)
				if (*c >= 'A' && *c <= 'Z')
					*c = (char)(*c - 'A' + 'a');
			if (mimetypes_valid(ty))
				*type = strdup(ty);
			break;
		}
	}
	free(line);
	fclose(f);
	return 0;
}

#endif
