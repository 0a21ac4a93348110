/* rcptset.h — the envelope recipients of one message: an ordered list of addr-specs, freed
 * of repeats in O(n log n) whatever its size (a header may name 100,000 addresses). */
#ifndef SECMAIL_RCPTSET_H
#define SECMAIL_RCPTSET_H

#include <stddef.h>

#include "err.h"

/* The most recipients one message may have: more is an EX_DATAERR error, not unbounded
 * memory (and what a queue entry can hold, see queue.h). */
#define RCPTSET_MAX 1000000

struct rcptset {
	char **v;
	size_t n, cap;
};

#define RCPTSET_INIT { NULL, 0, 0 }

/* Append a copy of spec. */
int rcptset_add(struct rcptset *s, const char *spec, struct err *e);
/* Append the mailboxes of an address-list field value (addr_parse; groups included). */
int rcptset_add_field(struct rcptset *s, const char *value, struct err *e);
/*
 * Drop every recipient that an earlier one already names, keeping the first in its place.
 * Two addr-specs name the same mailbox when their local parts are equal octet for octet and
 * their domains equal without case (RFC 5321 §2.4: only the domain is case-insensitive).
 * Sorts an index (heap sort: O(n log n), no worst case). 0, or -1 when out of memory.
 */
int rcptset_unique(struct rcptset *s, struct err *e);
/* Compare two addr-specs by that rule (strcmp-like order). */
int rcptset_cmp(const char *a, const char *b);
void rcptset_free(struct rcptset *s);

#endif
