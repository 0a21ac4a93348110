/* certimport.c — libFuzzer target: arbitrary bytes as a file for smime-certs import
 * (certificates, PKCS#7, messages) and pin. With no trust anchor nothing may be imported;
 * pinning, the user's decision, may store what the bytes hold. Never a crash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "certimport.h"
#include "io.h"
#include "keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64], store[96], input[96];
static int imported;

static void
rep(void *ctx, const char *what, const char *addr, X509 *x)
{
	(void)ctx;
	(void)addr;
	(void)x;
	if (strcmp(what, "imported") == 0)
		imported = 1;
}

static void
empty_store(void)
{
	struct certstore *cs;
	struct err e;
	char **v, p[256];
	size_t i;

	if (certstore_open(&cs, store, &e) != 0 || (v = certstore_addresses(cs, &e)) == NULL)
		abort();
	for (i = 0; v[i] != NULL; i++) {
		char *name = certstore_filename(v[i], &e);

		snprintf(p, sizeof p, "%s/%s", store, name ? name : "");
		unlink(p);
		free(name);
	}
	keys_addrs_free(v);
	certstore_close(cs);
}

static void
cleanup(void)
{
	char p[160];

	empty_store();
	snprintf(p, sizeof p, "%s/.lock", store);
	unlink(p);
	rmdir(store);
	unlink(input);
	rmdir(dir);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct certimport_opts o;
	struct err e;
	FILE *f;

	if (dir[0] == '\0') {
		snprintf(dir, sizeof dir, "/tmp/secmail-fuzz-import.%d", (int)getpid());
		snprintf(store, sizeof store, "%s/store", dir);
		snprintf(input, sizeof input, "%s/input", dir);
		if (io_dir_private(dir, 1, &e) != 0)
			abort();
		atexit(cleanup);
	}
	if ((f = fopen(input, "wb")) == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	memset(&o, 0, sizeof o);
	o.cms.ca_file = "/dev/null";
	o.authserv_id = "fuzz.example";
	if (certstore_open(&o.store, store, &e) != 0)
		abort();
	imported = 0;
	(void)certimport_file(input, &o, rep, NULL, &e);
	if (imported)
		abort();	/* nothing chains to no anchor, no signature passes */
	(void)certimport_pin(input, &o, rep, NULL, &e);
	certstore_close(o.store);
	empty_store();
	return 0;
}
