/* maildir.h — delivering a copy of a message into a Maildir folder (the "Sent" folder a
 * script has no mail program to keep), in the two steps of the maildir convention: the
 * copy is written and synced in tmp/ first, and appears in cur/ by rename(2) only once the
 * message it records was accepted. */
#ifndef SECMAIL_MAILDIR_H
#define SECMAIL_MAILDIR_H

#include <stddef.h>

#include "err.h"

struct maildir_copy {
	char tmp[4096];		/* DIR/tmp/NAME, written */
	char dst[4096];		/* DIR/cur/NAME:2,S: a sent message is one its author has seen */
	int ready;
};

/* Copy fd (from its current offset to the end, then rewound there) into DIR/tmp, synced.
 * DIR (and tmp/, new/, cur/) is created mode 0700 when missing and must be private
 * (io_dir_private). */
int maildir_prepare(struct maildir_copy *m, const char *dir, int fd, struct err *e);
/* The copy appears in DIR/cur (rename, then fsync of the directory). */
int maildir_commit(struct maildir_copy *m, struct err *e);
/* The message was not accepted: remove the copy. */
void maildir_abort(struct maildir_copy *m);

/*
 * Maildir file names as the batch mode (batch.h) reads and writes them. A name is a base
 * and an optional info after the first ':' ("1700000000.M1P2.host,S=1234:2,FS"); the base's
 * comma-separated fields after the first are attributes, and the tools mark what they did with
 * one such field, ",secmail=WHAT" (WHAT: signed, encrypted, decrypted, verified, exec).
 * Names come from a directory others deliver into: any byte but '/' and NUL may appear.
 */
/* Length of the base: up to the first ':' (or the whole name). */
size_t maildir_base_len(const char *name);
/* 1 if the base has the field ",secmail=WHAT" exactly, else 0. */
int maildir_has_mark(const char *name, const char *what);
/* NAME with ",secmail=WHAT" appended to its base, its ",S=" and ",W=" size fields
 * (Dovecot's) left out since the size changes, and its info kept, into out (n bytes).
 * -1 when the result would be longer than NAME_MAX or than n - 1. */
int maildir_mark_name(const char *name, const char *what, char *out, size_t n);
/* 1 for a name whose info is "2,FLAGS" with T (trashed) or D (draft) among the flags: a cur/
 * message the batch mode never sends or changes. */
int maildir_flagged_away(const char *name);

#endif
