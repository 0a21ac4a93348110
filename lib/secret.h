/* secret.h — passphrases and passwords from where they may safely come: a file, an inherited
 * file descriptor, an environment variable, or a command's output (never argv). The bytes
 * live in memory that is wiped when freed. */
#ifndef SECMAIL_SECRET_H
#define SECMAIL_SECRET_H

#include <stddef.h>

#include "err.h"

#define SECRET_MAX 4096

struct secret {
	char *p;	/* NUL-terminated, first line only, line end stripped */
	size_t len;
	size_t size;	/* bytes allocated: all of them are wiped, not just the line */
};

/* Each reads the first line (without its CR/LF) of its source. */
int secret_from_file(struct secret *s, const char *path, struct err *e);
int secret_from_fd(struct secret *s, int fd, struct err *e);
int secret_from_env(struct secret *s, const char *var, struct err *e);
/* Runs `sh -c cmd` with stdout to a pipe, like msmtp's passwordeval; fails if it exits
 * non-zero. */
int secret_from_command(struct secret *s, const char *cmd, struct err *e);
/* Stop the process from dumping core (RLIMIT_CORE 0): called before any key or password is
 * read, so a crash cannot leave one on disk. */
void secret_no_core(void);
/* Wipe (OPENSSL_cleanse) and free. */
void secret_free(struct secret *s);

#endif
