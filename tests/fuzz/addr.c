/* addr.c — libFuzzer target: the address-list parser must never crash, must leave the list
 * untouched on failure, and every addr-spec it yields must parse back to itself; the display
 * name check of the mail policy (policy_name_spoof, RFC 2047 decoding included) must never
 * crash either. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct addr_list l = { NULL, 0, 0 }, l2 = { NULL, 0, 0 };
	struct err e;
	char *s = malloc(size + 1);
	size_t i;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (addr_parse(s, &l, &e) == 0) {
		for (i = 0; i < l.n; i++) {
			if (l.v[i].spec == NULL || l.v[i].local == NULL || l.v[i].domain == NULL)
				abort();
			if (addr_parse(l.v[i].spec, &l2, &e) != 0 || l2.n != 1
			    || strcmp(l2.v[0].spec, l.v[i].spec) != 0 || !addr_spec_eq(l2.v[0].spec, l.v[i].spec))
				abort();
			addr_list_free(&l2);
			if (l.v[i].name != NULL) {
				char shown[256];

				(void)policy_name_spoof(l.v[i].name, l.v[i].spec, shown, sizeof shown);
			}
		}
	} else if (l.n != 0 || e.code == 0)
		abort();
	addr_list_free(&l);
	free(s);
	return 0;
}
