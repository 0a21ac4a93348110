/* gateway.c — libFuzzer target: secmail-gateway's policy and its first look at a message.
 * Any text loads as a policy or fails with a clean EX_CONFIG error, and lookups on what
 * loaded never crash; the same bytes read as a message give a kind, at most one From
 * address, a verdict that fits its buffer, and leave the descriptor rewound; stripping
 * forged verdicts leaves a message with nothing more to strip. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gateway.h"
#include "fuzz_file.h"
#include "io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const addrs[] = { "alice@example.org", "x@PARTNER.example", "",
		"../../etc/passwd@x", "a@b@c", "@", NULL };
	struct gw_policy p;
	struct gw_ident id;
	enum gw_kind k;
	struct err e;
	const char *path;
	char *from = NULL, v[64];
	size_t i;
	int fd;

	if ((path = fuzz_file("gateway", data, size)) == NULL)
		return 0;
	if (gw_policy_load(&p, path, "/usr/bin", &e) == 0) {
		for (i = 0; addrs[i] != NULL; i++) {
			(void)gw_required(&p, addrs[i]);
			if (gw_ident(&p, addrs[i], &id) == 1 && id.n != 4 && id.n != 6)
				abort();
		}
		if (p.keys == NULL || p.store == NULL || p.sendmail == NULL || p.tools == NULL)
			abort();
	} else if (e.code != EX_CONFIG) {
		abort();
	}
	gw_policy_free(&p);

	if ((fd = open(path, O_RDONLY)) < 0)
		return 0;
	if (gw_inspect(fd, &k, &from, &e) == 0) {
		if (k != GW_PLAIN && k != GW_SIGNED && k != GW_ENCRYPTED)
			abort();
		if (from != NULL && strchr(from, '@') == NULL)
			abort();
		if (lseek(fd, 0, SEEK_CUR) != 0)
			abort();
	}
	free(from);
	if (gw_verdict(fd, "mx.test", v, sizeof v, &e) == 0 && strlen(v) >= sizeof v)
		abort();
	if (gw_strip_verdicts(&fd, "mx.test", &e) >= 0) {
		if (lseek(fd, 0, SEEK_CUR) != 0)
			abort();
		/* what was written is well-formed: a second pass neither removes nor rewrites */
		i = (size_t)fd;
		if (gw_strip_verdicts(&fd, "mx.test", &e) != 0 || (size_t)fd != i
		    || lseek(fd, 0, SEEK_CUR) != 0)
			abort();
	}
	close(fd);
	return 0;
}
