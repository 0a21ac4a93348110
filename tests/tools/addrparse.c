/* addrparse.c — test driver for lib/addr: each input line is an address-list value; each
 * output line lists its mailboxes as "spec<TAB>display name" separated by " | ", or
 * "ERROR: message". Lines are taken as written, so folds are not tested here (addr_test is). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "cli.h"

int
main(int argc, char **argv)
{
	char *line = NULL;
	size_t cap = 0, i;
	ssize_t n;

	cli_init(argc, argv);
	while ((n = getline(&line, &cap, stdin)) > 0) {
		struct addr_list l = { NULL, 0, 0 };
		struct err e;

		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (addr_parse(line, &l, &e) != 0) {
			printf("ERROR: %s\n", e.msg);
			continue;
		}
		for (i = 0; i < l.n; i++)
			printf("%s%s\t%s", i ? " | " : "", l.v[i].spec, l.v[i].name ? l.v[i].name : "");
		printf("\n");
		addr_list_free(&l);
	}
	free(line);
	if (fflush(stdout) != 0 || ferror(stdout))
		cli_die(EX_IOERR, "write error");
	return 0;
}
