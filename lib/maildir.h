/* maildir.h — delivering a copy of a message into a Maildir folder (the "Sent" folder a
 * script has no mail program to keep), in the two steps of the maildir convention: the
 * copy is written and synced in tmp/ first, and appears in cur/ by rename(2) only once the
 * message it records was accepted. */
#ifndef SECMAIL_MAILDIR_H
#define SECMAIL_MAILDIR_H

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

#endif
