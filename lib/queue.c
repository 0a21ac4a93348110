/* queue.c — the mailsend spool (see queue.h for the layout and the guarantees). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "buf.h"
#include "io.h"
#include "queue.h"

#define ENV_MAX		(256LL * 1024 * 1024)	/* envelope bytes: a sanity bound, not a budget */
#define MAGIC		"secmail-queue 1\n"
#define ENV_LINE_MAX	4096	/* a line of an entry's envelope or state, with its LF */

long long
queue_now(void)
{
	const char *s = getenv("SECMAIL_NOW");

	if (s != NULL && *s != '\0') {
		char *end;
		long long v = strtoll(s, &end, 10);

		if (*end == '\0' && v >= 0)
			return v;
	}
	return (long long)time(NULL);
}

void
queue_sched_default(struct queue_sched *s)
{
	s->first = 30 * 60;		/* RFC 5321 §4.5.4.1: at least 30 minutes */
	s->max = 4 * 60 * 60;
	s->give_up = 5 * 24 * 60 * 60;	/* ... and 4-5 days before giving up */
}

long long
queue_next(const struct queue_sched *s, long long created, int attempts, long long now)
{
	long long iv = s->first;
	int i;

	if (now - created >= s->give_up)
		return -1;
	for (i = 1; i < attempts && iv < s->max; i++)
		iv *= 2;
	if (iv > s->max)
		iv = s->max;
	if (iv < s->first)
		iv = s->first;
	return now + iv;
}

static int
sub(const struct queue *q, const char *d, const char *id, char *out, size_t cap,
    struct err *e)
{
	if ((size_t)snprintf(out, cap, "%s/%s%s%s", q->dir, d, id ? "/" : "", id ? id : "") >= cap)
		return err_set(e, EX_CANTCREAT, "queue path too long");
	return 0;
}

/*
 * Whoever can write to a directory above the queue can swap the queue for one of their own
 * (rename, then plant): every ancestor must belong to us or to root and be writable by no one
 * else, unless it has the sticky bit (/tmp), which stops others renaming what is ours.
 */
static int
check_ancestors(const char *dir, struct err *e)
{
	char p[4096], *slash;
	struct stat st;

	if (realpath(dir, p) == NULL)
		return err_sys(e, EX_CONFIG, "queue directory %s", dir);
	while ((slash = strrchr(p, '/')) != NULL) {
		if (slash == p)
			slash[1] = '\0';	/* the root directory itself */
		else
			*slash = '\0';
		if (stat(p, &st) != 0)
			return err_sys(e, EX_CONFIG, "queue directory %s: cannot check %s", dir, p);
		if (st.st_uid != geteuid() && st.st_uid != 0)
			return err_set(e, EX_CONFIG, "queue directory %s: %s belongs to uid %lu, not to "
			    "you or root: refusing to use it", dir, p, (unsigned long)st.st_uid);
		if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX))
			return err_set(e, EX_CONFIG, "queue directory %s: %s is writable by %s: "
			    "refusing to use it", dir, p, st.st_mode & S_IWOTH ? "others" : "its group");
		if (slash == p)
			break;
	}
	return 0;
}

int
queue_open(struct queue *q, const char *dir, struct err *e)
{
	static const char *subs[] = { "tmp", "new", "state", "failed" };
	char p[4096];
	size_t i;

	if (snprintf(q->dir, sizeof q->dir, "%s", dir) >= (int)sizeof q->dir)
		return err_set(e, EX_CANTCREAT, "queue path too long: %s", dir);
	/* Issue 9 item 16: a queue someone else can write to may hold messages they planted,
	 * to be sent with our account: refused, as OpenSSH refuses such files. */
	if (io_dir_private(dir, 1, e) != 0 || check_ancestors(dir, e) != 0)
		return e->code == EX_CONFIG ? err_wrap(e, "queue") : -1;
	for (i = 0; i < sizeof subs / sizeof subs[0]; i++) {
		if (sub(q, subs[i], NULL, p, sizeof p, e) != 0)
			return -1;
		if (io_dir_private(p, 1, e) != 0)
			return e->code == EX_CONFIG ? err_wrap(e, "queue") : -1;
	}
	return 0;
}

/* A value that fits one envelope line (read back in ENV_LINE_MAX octets, key and LF
 * included) and does not break it. */
static int
safe_value(const char *v)
{
	return strchr(v, '\n') == NULL && strchr(v, '\r') == NULL &&
	    strlen(v) < ENV_LINE_MAX - sizeof "account ";
}

/* The "size" line's digits: written as zeros, then the message's octet count once it is
 * copied, so that a file cut short (or grown) after a crash is seen and never sent. */
#define SIZE_DIGITS	20

static int
env_text(const struct queue_env *env, struct buf *b, size_t *size_at, struct err *e)
{
	size_t i;

	buf_adds(b, MAGIC);
	buf_addf(b, "created %lld\n", env->created);
	if (!safe_value(env->from))
		return err_set(e, EX_DATAERR, "line break or over-long envelope sender");
	buf_addf(b, "from %s\n", env->from);
	for (i = 0; i < env->nrcpt; i++) {
		if (!safe_value(env->rcpt[i]) || env->rcpt[i][0] == '\0')
			return err_set(e, EX_DATAERR, "bad envelope recipient (empty, a line break, "
			    "or over %d octets)", ENV_LINE_MAX - (int)sizeof "account ");
		buf_addf(b, "rcpt %s\n", env->rcpt[i]);
	}
#define OPT(k, v) if ((v) != NULL) { \
		if (!safe_value(v)) return err_set(e, EX_DATAERR, "line break or over-long %s", k); \
		buf_addf(b, "%s %s\n", k, v); }
	OPT("notify", env->notify)
	OPT("ret", env->ret)
	OPT("envid", env->envid)
	OPT("account", env->account)
	for (i = 0; i < env->nset; i++)
		OPT("set", env->set[i])
#undef OPT
	*size_at = b->len + 5;
	buf_addf(b, "size %0*d\n", SIZE_DIGITS, 0);
	buf_addc(b, '\n');
	return buf_check(b, e);
}

static void
new_id(char *id, size_t cap, long long now)
{
	unsigned char r[8];
	char host[64];

	if (RAND_bytes(r, sizeof r) != 1)
		memset(r, 0, sizeof r);	/* the pid and the exclusive create still keep it unique */
	if (gethostname(host, sizeof host) != 0)
		snprintf(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
	for (char *p = host; *p; p++)
		if (*p == '/' || *p == ':' || *p == '.')
			*p = '_';
	snprintf(id, cap, "%010lld.P%ldR%02x%02x%02x%02x%02x%02x%02x%02x.%.40s", now,
	    (long)getpid(), r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], host);
}

static int write_state(struct queue *q, const char *id, const struct queue_state *st,
    struct err *e);

int
queue_add(struct queue *q, const struct queue_env *env, const struct queue_state *st,
    int msgfd, char *id, struct err *e)
{
	struct buf b = BUF_INIT;
	char tmp[4096], dst[4096], dir[4096];
	unsigned char *blk = NULL;
	char digits[SIZE_DIGITS + 1];
	unsigned long long total = 0;
	size_t size_at = 0;
	int fd = -1;
	ssize_t n;

	if (env->nrcpt == 0)
		return err_set(e, EX_USAGE, "no recipients to queue");
	if (env_text(env, &b, &size_at, e) != 0)
		goto fail;
	new_id(id, 128, queue_now());
	if (sub(q, "tmp", id, tmp, sizeof tmp, e) != 0 || sub(q, "new", id, dst, sizeof dst, e) != 0)
		goto fail;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		err_sys(e, EX_CANTCREAT, "cannot create %s", tmp);
		goto fail;
	}
	if (io_write_all(fd, b.p, b.len) != 0) {
		err_sys(e, EX_IOERR, "cannot write %s", tmp);
		goto fail_unlink;
	}
	if ((blk = malloc(IO_BUFSIZE)) == NULL) {
		err_set(e, EX_OSERR, "out of memory");
		goto fail_unlink;
	}
	while ((n = io_read(msgfd, blk, IO_BUFSIZE)) > 0) {
		if (io_write_all(fd, blk, (size_t)n) != 0) {
			err_sys(e, EX_IOERR, "cannot write %s", tmp);
			goto fail_unlink;
		}
		total += (unsigned long long)n;
	}
	if (n < 0) {
		err_sys(e, EX_IOERR, "cannot read the message to queue");
		goto fail_unlink;
	}
	snprintf(digits, sizeof digits, "%0*llu", SIZE_DIGITS, total);
	if (pwrite(fd, digits, SIZE_DIGITS, (off_t)size_at) != SIZE_DIGITS) {
		err_sys(e, EX_IOERR, "cannot write %s", tmp);
		goto fail_unlink;
	}
	/* maildir: the data is on disk before the name appears in new/, and the name is on disk
	 * before we report success. */
	if (fsync(fd) != 0) {
		err_sys(e, EX_IOERR, "cannot fsync %s", tmp);
		goto fail_unlink;
	}
	if (close(fd) != 0) {
		fd = -1;
		err_sys(e, EX_IOERR, "cannot close %s", tmp);
		goto fail_unlink;
	}
	fd = -1;
	/* The state goes first: without its message it is an orphan nobody reads. */
	if (st != NULL && write_state(q, id, st, e) != 0)
		goto fail_unlink;
	if (rename(tmp, dst) != 0) {
		err_sys(e, EX_CANTCREAT, "cannot rename %s to %s", tmp, dst);
		goto fail_unlink;
	}
	if (sub(q, "new", NULL, dir, sizeof dir, e) != 0 || io_fsync_dir(dir, e) != 0)
		goto fail;	/* the file is complete; only its durability is in doubt */
	free(blk);
	buf_free(&b);
	return 0;
fail_unlink:
	unlink(tmp);
fail:
	if (fd >= 0)
		close(fd);
	free(blk);
	buf_free(&b);
	return -1;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
queue_list_free(char **ids, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

int
queue_list(struct queue *q, char ***ids, size_t *n, struct err *e)
{
	char p[4096];
	DIR *d;
	struct dirent *de;
	size_t cap = 0;

	*ids = NULL;
	*n = 0;
	if (sub(q, "new", NULL, p, sizeof p, e) != 0)
		return -1;
	if ((d = opendir(p)) == NULL)
		return err_sys(e, EX_IOERR, "cannot open %s", p);
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || strlen(de->d_name) >= 128)
			continue;
		if (*n == cap) {
			char **v = realloc(*ids, (cap ? cap * 2 : 64) * sizeof *v);

			if (v == NULL)
				goto oom;
			*ids = v;
			cap = cap ? cap * 2 : 64;
		}
		if (((*ids)[*n] = strdup(de->d_name)) == NULL)
			goto oom;
		(*n)++;
	}
	if (errno != 0) {
		err_sys(e, EX_IOERR, "cannot read %s", p);
		closedir(d);
		queue_list_free(*ids, *n);
		return -1;
	}
	closedir(d);
	if (*n > 0)
		qsort(*ids, *n, sizeof **ids, cmp_str);
	return 0;
oom:
	closedir(d);
	queue_list_free(*ids, *n);
	*ids = NULL;
	*n = 0;
	return err_set(e, EX_OSERR, "out of memory");
}

void
queue_env_free(struct queue_env *env)
{
	size_t i;

	free(env->from);
	for (i = 0; i < env->nrcpt; i++)
		free(env->rcpt[i]);
	free(env->rcpt);
	free(env->notify);
	free(env->ret);
	free(env->envid);
	free(env->account);
	for (i = 0; i < env->nset; i++)
		free(env->set[i]);
	free(env->set);
	memset(env, 0, sizeof *env);
}

static void
state_free(struct queue_state *st)
{
	size_t i;

	for (i = 0; i < st->ndone; i++)
		free(st->done[i]);
	free(st->done);
	memset(st, 0, sizeof *st);
}

/* The done list is searched by bisection: a flush of a message for 100,000 recipients asks
 * about each of them. Marking appends; the next lookup sorts (and drops repeats). */
static void
done_sort(struct queue_state *st)
{
	size_t i, k;

	if (st->sorted || st->ndone == 0)
		return;
	qsort(st->done, st->ndone, sizeof *st->done, cmp_str);
	for (i = 1, k = 1; i < st->ndone; i++) {
		if (strcmp(st->done[i], st->done[k - 1]) == 0)
			free(st->done[i]);
		else
			st->done[k++] = st->done[i];
	}
	st->ndone = k;
	st->sorted = 1;
}

int
queue_is_done(struct queue_state *st, const char *rcpt)
{
	done_sort(st);
	return st->ndone > 0 &&
	    bsearch(&rcpt, st->done, st->ndone, sizeof *st->done, cmp_str) != NULL;
}

int
queue_mark_done(struct queue_state *st, const char *rcpt, struct err *e)
{
	if (st->ndone == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 16;
		char **v = realloc(st->done, cap * sizeof *v);

		if (v == NULL)
			return err_set(e, EX_OSERR, "out of memory");
		st->done = v;
		st->cap = cap;
	}
	if ((st->done[st->ndone] = strdup(rcpt)) == NULL)
		return err_set(e, EX_OSERR, "out of memory");
	st->ndone++;
	st->sorted = 0;
	return 0;
}

static int
add_str(char ***v, size_t *n, const char *s)
{
	char **p = realloc(*v, (*n + 1) * sizeof *p);

	if (p == NULL)
		return -1;
	*v = p;
	if ((p[*n] = strdup(s)) == NULL)
		return -1;
	(*n)++;
	return 0;
}

/* Parse the envelope at the start of fd; leaves fd at the message. */
static int
read_env(int fd, const char *path, struct queue_item *it, struct err *e)
{
	struct io_in in;
	const unsigned char *l;
	ssize_t n;
	long long size = -1;
	int first = 1, rc = -1, have_from = 0;

	if (io_in_init(&in, fd, path, e) != 0)
		return -1;
	for (;;) {
		char line[4096], *sp, *val;

		n = io_in_line(&in, sizeof line - 1, &l);
		if (n < 0) {
			*e = in.e;
			goto out;
		}
		if (n == 0 || l[n - 1] != '\n' || in.off > ENV_MAX) {
			err_set(e, EX_DATAERR, "%s: truncated or corrupt envelope", path);
			goto out;
		}
		memcpy(line, l, (size_t)n - 1);
		line[n - 1] = '\0';
		if (first) {
			if (strcmp(line, "secmail-queue 1") != 0) {
				err_set(e, EX_DATAERR, "%s: not a secmail queue file", path);
				goto out;
			}
			first = 0;
			continue;
		}
		if (line[0] == '\0')
			break;
		sp = strchr(line, ' ');
		if (sp == NULL) {
			err_set(e, EX_DATAERR, "%s: corrupt envelope line", path);
			goto out;
		}
		*sp = '\0';
		val = sp + 1;
		if (strcmp(line, "created") == 0) {
			it->env.created = strtoll(val, NULL, 10);
		} else if (strcmp(line, "from") == 0) {
			free(it->env.from);
			if ((it->env.from = strdup(val)) == NULL)
				goto oom;
			have_from = 1;
		} else if (strcmp(line, "rcpt") == 0) {
			if (it->env.nrcpt >= QUEUE_MAX_RCPT) {
				err_set(e, EX_DATAERR, "%s: too many recipients", path);
				goto out;
			}
			if (add_str(&it->env.rcpt, &it->env.nrcpt, val) != 0)
				goto oom;
		} else if (strcmp(line, "size") == 0) {
			char *end;

			errno = 0;
			size = strtoll(val, &end, 10);
			if (errno != 0 || end == val || *end != '\0' || size < 0) {
				err_set(e, EX_DATAERR, "%s: corrupt size line", path);
				goto out;
			}
		} else if (strcmp(line, "set") == 0) {
			if (strchr(val, ' ') == NULL || it->env.nset >= 64) {
				err_set(e, EX_DATAERR, "%s: corrupt setting line", path);
				goto out;
			}
			if (add_str(&it->env.set, &it->env.nset, val) != 0)
				goto oom;
		} else {
			char **slot = strcmp(line, "notify") == 0 ? &it->env.notify :
			    strcmp(line, "ret") == 0 ? &it->env.ret :
			    strcmp(line, "envid") == 0 ? &it->env.envid :
			    strcmp(line, "account") == 0 ? &it->env.account : NULL;

			if (slot != NULL) {
				free(*slot);
				if ((*slot = strdup(val)) == NULL)
					goto oom;
			}	/* unknown keys: written by a newer version; ignore */
		}
	}
	if (!have_from || it->env.nrcpt == 0) {
		err_set(e, EX_DATAERR, "%s: envelope lacks sender or recipients", path);
		goto out;
	}
	it->msgoff = (off_t)in.off;
	/* Entries of older versions have no size line: taken as they are. */
	if (size >= 0 && (long long)(it->size - it->msgoff) != size) {
		err_set(e, EX_DATAERR, "%s: the message is %lld octets, its envelope says %lld: cut "
		    "short or damaged (a crash?); kept, not sent", path,
		    (long long)(it->size - it->msgoff), size);
		goto out;
	}
	if (lseek(fd, it->msgoff, SEEK_SET) < 0) {
		err_sys(e, EX_IOERR, "cannot seek %s", path);
		goto out;
	}
	rc = 0;
	goto out;
oom:
	err_set(e, EX_OSERR, "out of memory");
out:
	io_in_free(&in);
	return rc;
}

/* A queue or state file must be a regular file of ours, writable by no one else: one that
 * someone else planted or could change is never sent (issue 9 item 16). */
static int
private_file(int fd, const char *p, struct err *e)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return err_sys(e, EX_IOERR, "cannot stat %s", p);
	if (!S_ISREG(st.st_mode))
		return err_set(e, EX_CONFIG, "%s is not a regular file: refusing to use it", p);
	return io_file_private(fd, p, 0, e);
}

static int
read_state(struct queue *q, struct queue_item *it, struct err *e)
{
	char p[4096], *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *f;
	int fd, rc = 0;

	if (sub(q, "state", it->id, p, sizeof p, e) != 0)
		return -1;
	fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno == ELOOP)
			return err_set(e, EX_CONFIG, "%s is a symbolic link: refusing to use it", p);
		return err_sys(e, EX_IOERR, "cannot open %s", p);
	}
	if (private_file(fd, p, e) != 0) {
		close(fd);
		return -1;
	}
	if ((f = fdopen(fd, "r")) == NULL) {
		err_sys(e, EX_OSERR, "cannot read %s", p);
		close(fd);
		return -1;
	}
	/* Whole lines, however long: a "done" address cut at a buffer's end would never be
	 * found done (sent again at each retry), and its rest would be read as a line. */
	while ((len = getline(&line, &cap, f)) > 0) {
		char *v;

		if (line[len - 1] != '\n' || (size_t)len > ENV_LINE_MAX) {
			rc = err_set(e, EX_DATAERR, "%s: truncated or corrupt state line", p);
			break;
		}
		line[len - 1] = '\0';
		if ((v = strchr(line, ' ')) == NULL)
			continue;
		*v++ = '\0';
		if (strcmp(line, "attempts") == 0)
			it->st.attempts = atoi(v);
		else if (strcmp(line, "next") == 0)
			it->st.next = strtoll(v, NULL, 10);
		else if (strcmp(line, "last") == 0)
			snprintf(it->st.last, sizeof it->st.last, "%s", v);
		else if (strcmp(line, "done") == 0 && queue_mark_done(&it->st, v, e) != 0) {
			rc = -1;
			break;
		}
	}
	if (rc == 0 && ferror(f))
		rc = err_sys(e, EX_IOERR, "cannot read %s", p);
	free(line);
	fclose(f);
	return rc;
}

static int
open_item(struct queue *q, const char *id, struct queue_item *it, int lock, struct err *e)
{
	char p[4096];
	struct stat a, b;

	memset(it, 0, sizeof *it);
	it->fd = -1;
	if (!queue_valid_id(id) || snprintf(it->id, sizeof it->id, "%s", id) >= (int)sizeof it->id ||
	    sub(q, "new", id, p, sizeof p, e) != 0)
		return err_set(e, EX_USAGE, "bad queue id %s", id);
	/* O_NOFOLLOW: what new/ names is a file we wrote, never a link to another one. */
	it->fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (it->fd < 0) {
		if (errno == ENOENT)
			return 1;
		if (errno == ELOOP)
			return err_set(e, EX_CONFIG, "%s is a symbolic link: refusing to use it", p);
		return err_sys(e, EX_IOERR, "cannot open %s", p);
	}
	if (private_file(it->fd, p, e) != 0) {
		close(it->fd);
		it->fd = -1;
		return -1;
	}
	if (lock) {
		if (flock(it->fd, LOCK_EX | LOCK_NB) != 0) {
			queue_item_free(it);
			if (errno == EWOULDBLOCK)
				return 2;
			return err_sys(e, EX_IOERR, "cannot lock %s", p);
		}
		/* Another flush may have finished with it between our open and our lock. */
		if (fstat(it->fd, &a) != 0 || stat(p, &b) != 0 || a.st_ino != b.st_ino ||
		    a.st_dev != b.st_dev || a.st_nlink == 0) {
			queue_item_free(it);
			return 1;
		}
	} else if (fstat(it->fd, &a) != 0) {
		queue_item_free(it);
		return err_sys(e, EX_IOERR, "cannot stat %s", p);
	}
	it->size = a.st_size;
	if (read_env(it->fd, p, it, e) != 0 || read_state(q, it, e) != 0) {
		queue_item_free(it);
		return -1;
	}
	return 0;
}

int
queue_valid_id(const char *id)
{
	return id[0] != '\0' && id[0] != '.' && strchr(id, '/') == NULL && strlen(id) < 128;
}

int
queue_lock(struct queue *q, const char *id, struct queue_item *it, struct err *e)
{
	return open_item(q, id, it, 1, e);
}

int
queue_peek(struct queue *q, const char *id, struct queue_item *it, struct err *e)
{
	return open_item(q, id, it, 0, e);
}

int
queue_save_state(struct queue *q, const struct queue_item *it, struct err *e)
{
	return write_state(q, it->id, &it->st, e);
}

static int
write_state(struct queue *q, const char *id, const struct queue_state *st, struct err *e)
{
	struct io_atomic a;
	struct buf b = BUF_INIT;
	char p[4096], last[sizeof st->last];
	size_t i;

	if (sub(q, "state", id, p, sizeof p, e) != 0)
		return -1;
	snprintf(last, sizeof last, "%s", st->last);
	for (i = 0; last[i]; i++)
		if (last[i] == '\n' || last[i] == '\r')
			last[i] = ' ';
	buf_addf(&b, "attempts %d\nnext %lld\nlast %s\n", st->attempts, st->next, last);
	for (i = 0; i < st->ndone; i++)
		buf_addf(&b, "done %s\n", st->done[i]);
	if (buf_check(&b, e) != 0 || io_atomic_open(&a, p, 0600, e) != 0) {
		buf_free(&b);
		return -1;
	}
	if (io_write_all(a.fd, b.p, b.len) != 0) {
		err_sys(e, EX_IOERR, "cannot write %s", a.tmp);
		io_atomic_abort(&a);
		buf_free(&b);
		return -1;
	}
	buf_free(&b);
	return io_atomic_commit(&a, e);
}

int
queue_remove(struct queue *q, struct queue_item *it, struct err *e)
{
	char p[4096], s[4096], d[4096];

	if (sub(q, "new", it->id, p, sizeof p, e) != 0 || sub(q, "state", it->id, s, sizeof s, e) != 0 ||
	    sub(q, "new", NULL, d, sizeof d, e) != 0)
		return -1;
	/* Remove the message first: a crash between the two leaves only a stale state file. */
	if (unlink(p) != 0)
		return err_sys(e, EX_IOERR, "cannot remove %s", p);
	if (io_fsync_dir(d, e) != 0)
		return -1;
	if (unlink(s) != 0 && errno != ENOENT)
		return err_sys(e, EX_IOERR, "cannot remove %s", s);
	return 0;
}

int
queue_fail(struct queue *q, struct queue_item *it, struct err *e)
{
	char p[4096], f[4096], d[4096];

	if (sub(q, "new", it->id, p, sizeof p, e) != 0 || sub(q, "failed", it->id, f, sizeof f, e) != 0 ||
	    sub(q, "failed", NULL, d, sizeof d, e) != 0)
		return -1;
	if (rename(p, f) != 0)
		return err_sys(e, EX_IOERR, "cannot move %s to %s", p, f);
	if (io_fsync_dir(d, e) != 0)
		return -1;
	if (sub(q, "new", NULL, d, sizeof d, e) != 0 || io_fsync_dir(d, e) != 0)
		return -1;
	return 0;
}

/* Remove the stale entries of tmp/ (old files) or state/ (orphans). */
static int
clean_dir(struct queue *q, const char *d, int tmp, struct err *e)
{
	char dir[4096], p[4096], m[4096];
	DIR *dh;
	struct dirent *de;
	struct stat st;
	time_t now = time(NULL);

	if (sub(q, d, NULL, dir, sizeof dir, e) != 0)
		return -1;
	if ((dh = opendir(dir)) == NULL)
		return err_sys(e, EX_IOERR, "cannot open %s", dir);
	while ((de = readdir(dh)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if ((size_t)snprintf(p, sizeof p, "%s/%s", dir, de->d_name) >= sizeof p)
			continue;
		if (tmp) {
			if (lstat(p, &st) == 0 && now - st.st_mtime > 36 * 3600)
				(void)unlink(p);
		} else if (de->d_name[0] != '.' &&
		    sub(q, "new", de->d_name, m, sizeof m, e) == 0 && access(m, F_OK) != 0 &&
		    errno == ENOENT && lstat(p, &st) == 0 && now - st.st_mtime > 3600) {
			/* Its message was delivered or moved to failed/. Young ones are left
			 * alone: queue_add writes the state just before the message appears. */
			(void)unlink(p);
		}
	}
	closedir(dh);
	return 0;
}

int
queue_clean(struct queue *q, struct err *e)
{
	if (clean_dir(q, "tmp", 1, e) != 0 || clean_dir(q, "state", 0, e) != 0)
		return -1;
	return 0;
}

void
queue_item_free(struct queue_item *it)
{
	if (it->fd >= 0)
		close(it->fd);	/* releases the lock */
	it->fd = -1;
	queue_env_free(&it->env);
	state_free(&it->st);
}

static void
rfc5322_date(long long t, char *out, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;
	static const char *days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *mons[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
	    "Sep", "Oct", "Nov", "Dec" };

	gmtime_r(&tt, &tm);
	snprintf(out, cap, "%s, %d %s %d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
	    mons[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int
queue_bounce(const struct queue_item *it, const struct queue_dsn_rcpt *r, size_t n,
    const char *from, const char *mta, long long now, int fd, struct err *e)
{
	struct buf b = BUF_INIT;
	char date[64], arr[64], boundary[64];
	unsigned char rnd[8], *hdr = NULL;
	size_t i, hl = 0;
	ssize_t k;
	int rc = -1;

	if (RAND_bytes(rnd, sizeof rnd) != 1)
		return err_ssl(e, EX_SOFTWARE, "random bytes");
	snprintf(boundary, sizeof boundary, "=_dsn_%02x%02x%02x%02x%02x%02x%02x%02x", rnd[0],
	    rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
	rfc5322_date(now, date, sizeof date);
	rfc5322_date(it->env.created, arr, sizeof arr);
	/* The original header: bytes up to the first empty line, at most 64 KiB. */
	if ((hdr = malloc(65536 + 1)) == NULL)
		return err_set(e, EX_OSERR, "out of memory");
	if (lseek(it->fd, it->msgoff, SEEK_SET) < 0 ||
	    (k = io_read_full(it->fd, hdr, 65536)) < 0) {
		err_sys(e, EX_IOERR, "cannot read queued message %s", it->id);
		goto out;
	}
	for (hl = 0; hl < (size_t)k; hl++)
		if (hdr[hl] == '\n' && (hl + 1 == (size_t)k || hdr[hl + 1] == '\n' ||
		    (hdr[hl + 1] == '\r' && hl + 2 < (size_t)k && hdr[hl + 2] == '\n'))) {
			hl++;
			break;
		}
	buf_addf(&b, "From: Mail Delivery System <%s>\r\n", from);
	buf_addf(&b, "To: <%s>\r\n", it->env.from);
	buf_addf(&b, "Subject: Undelivered Mail Returned to Sender\r\n");
	buf_addf(&b, "Date: %s\r\n", date);
	buf_addf(&b, "Auto-Submitted: auto-replied\r\n");	/* RFC 3834 §5 */
	buf_addf(&b, "MIME-Version: 1.0\r\n");
	/* RFC 6522 §3, RFC 3464 §2 */
	buf_addf(&b, "Content-Type: multipart/report; report-type=delivery-status;\r\n"
	    "\tboundary=\"%s\"\r\n\r\n", boundary);
	buf_addf(&b, "This is a MIME-encapsulated delivery status notification.\r\n\r\n");
	buf_addf(&b, "--%s\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n", boundary);
	buf_addf(&b, "Your message queued at %s could not be delivered to:\r\n\r\n", arr);
	for (i = 0; i < n; i++)
		buf_addf(&b, "  <%s>: %s\r\n", r[i].addr, r[i].diag);
	buf_addf(&b, "\r\n--%s\r\nContent-Type: message/delivery-status\r\n\r\n", boundary);
	/* RFC 3464 §2.2: per-message fields */
	if (it->env.envid != NULL)
		buf_addf(&b, "Original-Envelope-Id: %s\r\n", it->env.envid);
	buf_addf(&b, "Reporting-MTA: dns; %s\r\n", mta);
	buf_addf(&b, "Arrival-Date: %s\r\n", arr);
	/* §2.3: per-recipient fields, each group after an empty line */
	for (i = 0; i < n; i++) {
		buf_addf(&b, "\r\nFinal-Recipient: rfc822; %s\r\n", r[i].addr);
		buf_addf(&b, "Action: failed\r\nStatus: %s\r\n", r[i].status);
		buf_addf(&b, "Diagnostic-Code: smtp; %s\r\n", r[i].diag);
		buf_addf(&b, "Last-Attempt-Date: %s\r\n", date);
	}
	buf_addf(&b, "\r\n--%s\r\nContent-Type: text/rfc822-headers\r\n\r\n", boundary);
	buf_add(&b, hdr, hl);
	buf_addf(&b, "\r\n--%s--\r\n", boundary);
	if (buf_check(&b, e) != 0)
		goto out;
	if (io_write_all(fd, b.p, b.len) != 0) {
		err_sys(e, EX_IOERR, "cannot write bounce");
		goto out;
	}
	rc = 0;
out:
	free(hdr);
	buf_free(&b);
	return rc;
}
