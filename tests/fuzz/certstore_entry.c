/* certstore_entry.c — libFuzzer target: arbitrary bytes as a certificate store entry file
 * (certstore.h format, with the origin and stored fields of issue 13), read by certstore_get,
 * listed by certstore_addresses, rewritten by certstore_note_received. Never a crash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/objects.h>

#include "certstore.h"
#include "io.h"
#include "keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64], path[128];

static void
cleanup(void)
{
	char lock[128];

	snprintf(lock, sizeof lock, "%s/.lock", dir);
	unlink(path);
	unlink(lock);
	rmdir(dir);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct certstore_entry ent;
	struct certstore *cs;
	struct err e;
	char **v;
	FILE *f;

	if (dir[0] == '\0') {
		snprintf(dir, sizeof dir, "/tmp/secmail-fuzz-store.%d", (int)getpid());
		snprintf(path, sizeof path, "%s/a@example.org", dir);
		if (io_dir_private(dir, 1, &e) != 0)
			abort();
		atexit(cleanup);
	}
	if ((f = fopen(path, "wb")) == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	if (certstore_open(&cs, dir, &e) != 0)
		abort();
	if (certstore_get(cs, "a@example.org", &ent, &e) == 0) {
		if (ent.signer == NULL || ent.cert == NULL || ent.chain == NULL)
			abort();
		certstore_entry_free(&ent);
	}
	if ((v = certstore_addresses(cs, &e)) == NULL)
		abort();
	keys_addrs_free(v);
	(void)certstore_note_received(cs, "a@example.org", NID_aes_128_cbc, &e);
	certstore_close(cs);
	return 0;
}
