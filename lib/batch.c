/* batch.c — many messages in one process: inputs, a supervised worker, outputs made durable
 * a group at a time, and the crash-safe naming described in batch.h. */
#define _GNU_SOURCE		/* syncfs(2) */
#include "batch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "cli.h"
#include "envmsg.h"
#include "io.h"
#include "maildir.h"
#include "msg.h"
#include "param.h"

#define PATHMAX 4096
#define GROUP 64		/* outputs made durable by one syncfs */
#define TMP_PREFIX ".secmail-batch."
#define STALE (36 * 3600)	/* the Maildir convention for leftovers in tmp/ */

enum mode { M_DIR, M_MAILDIR, M_INPLACE, M_EXEC };
enum { SUB_NEW, SUB_CUR, SUB_FILE };
static const char *const subs[] = { "new", "cur" };

/* Worker to supervisor, one record per message (atomic: shorter than PIPE_BUF). */
enum { REC_OK = 1, REC_SKIP, REC_FAIL };
struct rec {
	uint32_t i;
	uint8_t kind;
	uint8_t code;
	uint16_t pad;
};

/* A marked output present when the run starts: its base, and when it was written. */
struct outrec {
	char *base;
	struct timespec mtime;	/* the newest of that base */
};

struct item {
	char *name;		/* the FILE argument, or the Maildir entry */
	int sub;		/* SUB_* */
	int doubt;		/* --exec: an entry a killed run left in doubt (--force) */
};

/* Shared by the workers and the supervisor (an anonymous shared mapping). */
struct slot {
	atomic_llong item;	/* the message the worker is on, or -1 */
	atomic_llong since;	/* since when (ms, CLOCK_MONOTONIC) */
};
struct shared {
	atomic_size_t next;	/* the next message to claim */
	struct slot w[BATCH_MAX_JOBS];
};

struct worker_state {
	pid_t pid;		/* 0: not running */
	int fd;			/* its records */
	unsigned char buf[sizeof(struct rec) * 64];
	size_t have;
	int timed_out;
};

struct run {
	const struct batch *b;
	enum mode mode;
	struct item *v;
	size_t n, cap;
	char in[PATHMAX];	/* the input Maildir */
	char out[PATHMAX];	/* the output Maildir or directory */
	char tmp[PATHMAX];	/* where outputs are written first */
	int lockfd, tmpfd;
	char runid[96];
	struct outrec *outs;	/* the marked outputs present (recovery), sorted by base */
	size_t nouts, outcap;
	size_t pend[GROUP];	/* outputs complete in tmp/, not yet linked */
	size_t npend;
	int touched_in[2], touched_out[2];
	size_t done, skipped, failed, retry, doubt;
	int lost;		/* workers that ended between messages */
	char fpoint[16];	/* SECMAIL_BATCH_FAULT */
	long fnum, fcount;
	long timeout;
	struct shared *sh;
	unsigned char *seen;	/* per message: its result was counted */
	int jobs;
	struct worker_state ws[BATCH_MAX_JOBS];
};

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
batch_init(struct batch *b, const char *done, int skip)
{
	memset(b, 0, sizeof *b);
	b->done = done;
	b->skip = skip;
}

int
batch_option(struct batch *b, int c, const char *arg)
{
	switch (c) {
	case BATCH_OPT_OUT_DIR: b->out_dir = arg; return 1;
	case BATCH_OPT_MAILDIR: b->maildir = arg; return 1;
	case BATCH_OPT_TO_MAILDIR: b->to_maildir = arg; return 1;
	case BATCH_OPT_IN_PLACE: b->in_place = 1; return 1;
	case BATCH_OPT_EXEC: b->exec = arg; return 1;
	case BATCH_OPT_CUR: b->cur = 1; return 1;
	case BATCH_OPT_FORCE: b->force = 1; return 1;
	case BATCH_OPT_JOBS:
		b->jobs = (int)cli_number(arg, BATCH_MAX_JOBS);
		if (b->jobs <= 0)
			b->jobs = -1;
		return 1;
	}
	return 0;
}

int
batch_active(const struct batch *b)
{
	return b->out_dir != NULL || b->maildir != NULL || b->to_maildir != NULL || b->in_place
	    || b->exec != NULL || b->cur || b->force || b->jobs != 0;
}

int
batch_single(struct batch_msg *m, const char *file, struct err *e)
{
	memset(m, 0, sizeof *m);
	m->in = STDIN_FILENO;
	m->out = STDOUT_FILENO;
	m->name = "standard input";
	m->out_name = "standard output";
	m->decrypted = -1;
	if (file == NULL || strcmp(file, "-") == 0)
		return 0;
	m->name = file;
	if ((m->in = open(file, O_RDONLY | O_CLOEXEC)) < 0)
		return err_sys(e, EX_NOINPUT, "cannot open %s", file);
	return 0;
}

const char *
batch_check(const struct batch *b, int nfiles)
{
	int outs = (b->to_maildir != NULL) + b->in_place + (b->exec != NULL);

	if (b->jobs < 0)
		return "--jobs: expected a number of workers from 1 to 64";

	if (b->maildir != NULL) {
		if (b->out_dir != NULL)
			return "--maildir writes into a Maildir: --to-maildir, --in-place or --exec, "
			    "not --out-dir";
		if (outs != 1)
			return "--maildir needs one of --to-maildir DIR, --in-place, --exec CMD";
		if (nfiles > 0)
			return "--maildir takes no FILE arguments";
		if (b->exec != NULL && *b->exec == '\0')
			return "--exec: empty command";
		return NULL;
	}
	if (outs > 0 || b->cur)
		return "--to-maildir, --in-place, --exec and --cur need --maildir DIR";
	if (b->out_dir == NULL)
		return "--force and --jobs need --out-dir or --maildir";
	if (nfiles == 0)
		return "--out-dir needs FILE arguments";
	return NULL;
}

/* ---- names ---- */

/* path = a/b; -1 when it does not fit. */
static int
join(char *path, const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la + 1 + lb >= PATHMAX)
		return -1;
	memmove(path, a, la);
	path[la] = '/';
	memcpy(path + la + 1, b, lb + 1);
	return 0;
}

static int
join3(char *path, const char *a, const char *b, const char *c)
{
	return join(path, a, b) == 0 ? join(path, path, c) : -1;
}

static int
inpath(const struct run *r, size_t i, char *path)
{
	const struct item *it = &r->v[i];

	if (it->sub == SUB_FILE)
		return (size_t)snprintf(path, PATHMAX, "%s", it->name) < PATHMAX ? 0 : -1;
	return join3(path, r->in, subs[it->sub], it->name);
}

static int
tmppath(const struct run *r, size_t i, char *path)
{
	return (size_t)snprintf(path, PATHMAX, "%s/" TMP_PREFIX "%s.%zu", r->tmp, r->runid, i)
	    < PATHMAX ? 0 : -1;
}

static int
outpath(const struct run *r, size_t i, char *path)
{
	const struct item *it = &r->v[i];
	const char *s;
	char name[NAME_MAX + 1];

	if (it->sub == SUB_FILE) {
		s = strrchr(it->name, '/');
		return join(path, r->out, s != NULL ? s + 1 : it->name);
	}
	if (maildir_mark_name(it->name, r->b->done, name, sizeof name) != 0)
		return -1;
	return join3(path, r->out, subs[it->sub], name);
}

/* --exec: the input's name while it is being handed over. */
static int
doubtpath(const struct run *r, size_t i, char *path)
{
	const struct item *it = &r->v[i];
	char name[NAME_MAX + 1];

	if (it->doubt)
		return inpath(r, i, path);
	if (maildir_mark_name(it->name, "exec", name, sizeof name) != 0)
		return -1;
	return join3(path, r->in, subs[it->sub], name);
}

/* ---- reporting ---- */

static void
report(const char *subject, const char *fmt, ...) ERR_PRINTF(2, 3);

static void
report(const char *subject, const char *fmt, ...)
{
	char msg[900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	cli_set_subject(subject);
	cli_warn("%s", msg);
	cli_set_subject(NULL);
}

static int
transient(int code)
{
	return code == EX_TEMPFAIL || code == EX_IOERR || code == EX_CANTCREAT || code == EX_OSERR;
}

static void
count_failure(struct run *r, int code)
{
	if (transient(code))
		r->retry++;
	else
		r->failed++;
}

/* SECMAIL_BATCH_FAULT=POINT:N: die as kill -9 would, at the Nth passage of POINT. */
static void
fault(struct run *r, const char *point)
{
	if (r->fnum > 0 && strcmp(r->fpoint, point) == 0 && ++r->fcount == r->fnum)
		kill(getpid(), SIGKILL);
}

/* SECMAIL_BATCH_FAULT=gate:N: before the Nth message the worker creates
 * $SECMAIL_BATCH_GATE.waiting and waits (60 s at most) for $SECMAIL_BATCH_GATE, so that a
 * test can change the Maildir between the listing and the message's turn. */
static void
gate(void)
{
	const char *g = getenv("SECMAIL_BATCH_GATE");
	char w[PATHMAX];
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int i, fd;

	if (g == NULL || snprintf(w, sizeof w, "%s.waiting", g) >= (int)sizeof w)
		return;
	if ((fd = open(w, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) >= 0)
		close(fd);
	for (i = 0; i < 6000 && access(g, F_OK) != 0; i++)
		nanosleep(&ts, NULL);
}

/* SECMAIL_BATCH_FAULT=fsync:N: the Nth output synced on its own fails (EIO), as on a disk
 * that reports a write error; syncfs is then taken as failed too. */
static int
sync_fault(struct run *r)
{
	if (r->fnum > 0 && strcmp(r->fpoint, "fsync") == 0 && ++r->fcount == r->fnum) {
		errno = EIO;
		return 1;
	}
	return 0;
}

/* ---- setting up ---- */

static int
add_item(struct run *r, const char *name, int sub, int doubt, struct err *e)
{
	struct item *v;

	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		if ((v = realloc(r->v, r->cap * sizeof *v)) == NULL)
			return err_sys(e, EX_OSERR, "out of memory");
		r->v = v;
	}
	if ((r->v[r->n].name = strdup(name)) == NULL)
		return err_sys(e, EX_OSERR, "out of memory");
	r->v[r->n].sub = sub;
	r->v[r->n].doubt = doubt;
	r->n++;
	return 0;
}

static int
cmp_item(const void *a, const void *b)
{
	const struct item *x = a, *y = b;

	return x->sub != y->sub ? x->sub - y->sub : strcmp(x->name, y->name);
}

/* A Maildir (and its subdirectories) only the user can change; created when create. */
static int
maildir_ok(const char *dir, int create, const char *what, struct err *e)
{
	static const char *const all[] = { "tmp", "new", "cur" };
	char p[PATHMAX];
	size_t i;
	int rc;

	if ((rc = io_dir_private(dir, create, e)) == 1)
		return err_set(e, EX_NOINPUT, "%s %s does not exist", what, dir);
	if (rc != 0)
		return err_wrap(e, "%s", what);
	for (i = 0; i < 3; i++) {
		if (join(p, dir, all[i]) != 0)
			return err_set(e, EX_USAGE, "%s: path too long: %s", what, dir);
		if ((rc = io_dir_private(p, create, e)) == 1)
			return err_set(e, EX_CONFIG, "%s %s is not a Maildir: it has no %s/", what,
			    dir, all[i]);
		if (rc != 0)
			return err_wrap(e, "%s", what);
	}
	return 0;
}

static int
cmp_out(const void *a, const void *b)
{
	return strcmp(((const struct outrec *)a)->base, ((const struct outrec *)b)->base);
}

static int
ts_before(struct timespec a, struct timespec b)
{
	return a.tv_sec != b.tv_sec ? a.tv_sec < b.tv_sec : a.tv_nsec < b.tv_nsec;
}

/* The outputs already in the output Maildir, for state 2 of batch.h: their bases and when
 * they were written. */
static int
list_outputs(struct run *r, struct err *e)
{
	char p[PATHMAX];
	struct outrec *v;
	struct dirent *d;
	struct stat st;
	size_t i, n;
	DIR *dp;
	int s;

	for (s = SUB_NEW; s <= SUB_CUR; s++) {
		if (join(p, r->out, subs[s]) != 0 || (dp = opendir(p)) == NULL)
			return err_sys(e, EX_IOERR, "cannot read %s/%s", r->out, subs[s]);
		while ((errno = 0, d = readdir(dp)) != NULL) {
			if (d->d_name[0] == '.' || !maildir_has_mark(d->d_name, r->b->done))
				continue;
			/* Gone since it was listed: no output to go by. */
			if (fstatat(dirfd(dp), d->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
				continue;
			if (r->nouts == r->outcap) {
				r->outcap = r->outcap ? r->outcap * 2 : 64;
				if ((v = realloc(r->outs, r->outcap * sizeof *v)) == NULL)
					break;
				r->outs = v;
			}
			r->outs[r->nouts].mtime = st.st_mtim;
			if ((r->outs[r->nouts].base = strndup(d->d_name,
			    maildir_base_len(d->d_name))) == NULL)
				break;
			r->nouts++;
		}
		if (d != NULL || errno != 0) {
			err_sys(e, d != NULL ? EX_OSERR : EX_IOERR, "cannot read %s", p);
			closedir(dp);
			return -1;
		}
		closedir(dp);
	}
	/* qsort and bsearch take no null array, even of no elements. */
	if (r->nouts == 0)
		return 0;
	qsort(r->outs, r->nouts, sizeof *r->outs, cmp_out);
	/* One entry per base (one in new/, one in cur/): the newest. */
	for (i = 1, n = 1; i < r->nouts; i++) {
		if (strcmp(r->outs[i].base, r->outs[n - 1].base) != 0) {
			r->outs[n++] = r->outs[i];
			continue;
		}
		if (ts_before(r->outs[n - 1].mtime, r->outs[i].mtime))
			r->outs[n - 1].mtime = r->outs[i].mtime;
		free(r->outs[i].base);
	}
	r->nouts = n;
	return 0;
}

/*
 * State 2 of batch.h: the input's output is in place already; remove the input. 1 if so, or
 * if the input is left in place for good reason. A name is not proof: a message that came
 * after the output was written (a script that reuses its names, "daily-report") is another
 * message, never removed for it. The interrupted run wrote its output after it read the
 * input, so the output is not older than the input's last change (ctime: delivery, rename).
 */
static int
recovered(struct run *r, int sub, const char *name)
{
	char out[NAME_MAX + 1], p[PATHMAX];
	struct outrec key, *hit;
	struct stat st;
	int gone;

	if (r->mode != M_MAILDIR && r->mode != M_INPLACE)
		return 0;
	if (maildir_mark_name(name, r->b->done, out, sizeof out) != 0)
		return 0;
	out[maildir_base_len(out)] = '\0';
	key.base = out;
	if (r->nouts == 0 || (hit = bsearch(&key, r->outs, r->nouts, sizeof *r->outs,
	    cmp_out)) == NULL)
		return 0;
	if (join3(p, r->in, subs[sub], name) != 0)
		return 0;
	if ((gone = lstat(p, &st) != 0) && errno != ENOENT) {
		report(p, "cannot stat: %s", strerror(errno));
		r->retry++;
		return 1;
	}
	if (!gone && ts_before(hit->mtime, st.st_ctim)) {
		report(p, "an output named %s,... is older than this message (another message "
		    "of that name was %s before it): left in place, not %s; rename it to have "
		    "it %s (or remove it if that output is this message)", out, r->b->done,
		    r->b->done, r->b->done);
		r->failed++;
		return 1;
	}
	if (unlink(p) != 0 && errno != ENOENT) {
		report(p, "already %s (a run was interrupted), but the input cannot be removed: %s",
		    r->b->done, strerror(errno));
		r->retry++;
		return 1;
	}
	report(p, "already %s into %s by a run that was interrupted: the input is removed",
	    r->b->done, r->out);
	r->touched_in[sub] = 1;
	r->skipped++;
	return 1;
}

static int
list_maildir(struct run *r, int sub, struct err *e)
{
	char p[PATHMAX], f[PATHMAX];
	struct dirent *d;
	struct stat st;
	DIR *dp;
	int doubt;

	if (join(p, r->in, subs[sub]) != 0 || (dp = opendir(p)) == NULL)
		return err_sys(e, EX_IOERR, "cannot read %s/%s", r->in, subs[sub]);
	while ((errno = 0, d = readdir(dp)) != NULL) {
		if (d->d_name[0] == '.' || (sub == SUB_CUR && maildir_flagged_away(d->d_name)))
			continue;
		if (maildir_has_mark(d->d_name, r->b->done)) {
			/* An output, never an input: at home with --in-place; elsewhere a run
			 * in place left it, and it is said once a run, not passed over. */
			if (r->mode != M_INPLACE && join(f, p, d->d_name) == 0) {
				report(f, "named as %s by secmail already: never taken as an input "
				    "(rename it without ',secmail=%s' to do it again)", r->b->done,
				    r->b->done);
				r->skipped++;
			}
			continue;
		}
		if (join(f, p, d->d_name) != 0)
			continue;
		if (d->d_type != DT_REG && (d->d_type != DT_UNKNOWN
		    || fstatat(dirfd(dp), d->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0
		    || !S_ISREG(st.st_mode))) {
			report(f, "not a regular file: skipped");
			r->skipped++;
			continue;
		}
		doubt = r->mode == M_EXEC && maildir_has_mark(d->d_name, "exec");
		if (doubt && !r->b->force) {
			report(f, "in doubt: a run was stopped while handing it to '%s', which may or "
			    "may not have taken it; check (mailsend --list), then remove it, or hand "
			    "it over again with --force", r->b->exec);
			r->doubt++;
			continue;
		}
		if (add_item(r, d->d_name, sub, doubt, e) != 0)
			break;
	}
	if (d != NULL || errno != 0) {
		if (d == NULL)
			err_sys(e, EX_IOERR, "cannot read %s", p);
		closedir(dp);
		return -1;
	}
	closedir(dp);
	return 0;
}

/* The base of the output name of item i (its key for state 2), malloc'd; NULL when it has
 * none (a name too long: the message fails on its own) or out of memory. */
static char *
out_base(const struct run *r, size_t i)
{
	char out[NAME_MAX + 1];

	if (maildir_mark_name(r->v[i].name, r->b->done, out, sizeof out) != 0)
		return NULL;
	return strndup(out, maildir_base_len(out));
}

static int
cmp_key(const void *a, const void *b)
{
	const char *const *x = a, *const *y = b;

	return *x == NULL || *y == NULL ? (*x == NULL) - (*y == NULL) : strcmp(*x, *y);
}

/*
 * After listing (Maildir modes): the mark drops ",S=" and ",W=", so two inputs ("A,S=1" in
 * new/, "A,S=2" or "A:2,S" in cur/) can have one output name. The output of one would be
 * taken for the other's (state 2), and the other removed unprocessed: such inputs are all
 * left in place, reported, never processed nor removed. The others in state 2 are removed.
 */
static int
sift(struct run *r, struct err *e)
{
	char **key, *k, p[PATHMAX];
	size_t i, j, n = 0;
	int clash;

	if (r->n == 0)
		return 0;
	if ((key = calloc(r->n, sizeof *key)) == NULL)
		return err_sys(e, EX_OSERR, "out of memory");
	for (i = 0; i < r->n; i++)
		key[i] = out_base(r, i);
	/* the keys sorted on their own, to find the ones that occur twice */
	{
		char **sorted = malloc(r->n * sizeof *sorted);

		if (sorted == NULL) {
			for (i = 0; i < r->n; i++)
				free(key[i]);
			free(key);
			return err_sys(e, EX_OSERR, "out of memory");
		}
		memcpy(sorted, key, r->n * sizeof *sorted);
		qsort(sorted, r->n, sizeof *sorted, cmp_key);
		for (i = 0; i < r->n; i++) {
			k = key[i];
			clash = 0;
			if (k != NULL) {
				char **hit = bsearch(&k, sorted, r->n, sizeof *sorted, cmp_key);

				clash = (hit > sorted && hit[-1] != NULL && strcmp(hit[-1], k) == 0)
				    || (hit + 1 < sorted + r->n && hit[1] != NULL
				    && strcmp(hit[1], k) == 0);
			}
			if (clash) {
				inpath(r, i, p);
				report(p, "another message here would get the same output name (%s,...): "
				    "left in place, not %s", k, r->b->done);
				r->failed++;
			} else if (!recovered(r, r->v[i].sub, r->v[i].name)) {
				r->v[n++] = r->v[i];
				continue;
			}
			free(r->v[i].name);
		}
		free(sorted);
	}
	for (j = 0; j < r->n; j++)
		free(key[j]);
	free(key);
	r->n = n;
	return 0;
}

/* Leftovers of killed runs: every one in a tmp/ only this run uses (the input Maildir is
 * locked), else those older than the Maildir convention's 36 hours. */
static void
clean_tmp(struct run *r, int all)
{
	struct dirent *d;
	struct stat st;
	time_t now = time(NULL);
	DIR *dp = fdopendir(dup(r->tmpfd));

	if (dp == NULL)
		return;
	while ((d = readdir(dp)) != NULL)
		if (strncmp(d->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0
		    && fstatat(dirfd(dp), d->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0
		    && S_ISREG(st.st_mode) && (all || now - st.st_mtime > STALE))
			unlinkat(dirfd(dp), d->d_name, 0);
	closedir(dp);
}

static int
setup_files(struct run *r, char **files, int nfiles, struct err *e)
{
	char out[PATHMAX];
	struct stat st, fst;
	const char *a, *b;
	int i, j, rc;

	for (i = 0; i < nfiles; i++) {
		if (strcmp(files[i], "-") == 0 || files[i][0] == '\0')
			return err_set(e, EX_USAGE, "batch mode reads files, not standard input");
		a = strrchr(files[i], '/');
		a = a != NULL ? a + 1 : files[i];
		if (*a == '\0' || strcmp(a, ".") == 0 || strcmp(a, "..") == 0)
			return err_set(e, EX_USAGE, "%s: not a file name", files[i]);
		for (j = 0; j < i; j++) {
			b = strrchr(files[j], '/');
			if (strcmp(a, b != NULL ? b + 1 : files[j]) == 0)
				return err_set(e, EX_USAGE, "%s and %s would both be written to %s/%s",
				    files[j], files[i], r->b->out_dir, a);
		}
	}
	if (stat(r->b->out_dir, &st) != 0) {
		if (errno != ENOENT)
			return err_sys(e, EX_CANTCREAT, "--out-dir %s", r->b->out_dir);
		if ((rc = io_dir_private(r->b->out_dir, 1, e)) != 0)
			return rc < 0 ? -1 : err_set(e, EX_CANTCREAT, "cannot create %s",
			    r->b->out_dir);
	} else if (!S_ISDIR(st.st_mode)) {
		return err_set(e, EX_USAGE, "--out-dir %s is not a directory", r->b->out_dir);
	}
	/* As the Maildirs: a file someone else planted under an output's name would pass for
	 * the output (a verified message with a forged verdict) and the input be skipped. */
	if ((rc = io_dir_private(r->b->out_dir, 0, e)) != 0)
		return rc < 0 ? err_wrap(e, "--out-dir") : err_set(e, EX_CANTCREAT, "--out-dir %s: "
		    "gone", r->b->out_dir);
	if (access(r->b->out_dir, W_OK | X_OK) != 0)
		return err_sys(e, EX_CANTCREAT, "--out-dir %s", r->b->out_dir);
	snprintf(r->out, sizeof r->out, "%s", r->b->out_dir);
	snprintf(r->tmp, sizeof r->tmp, "%s", r->b->out_dir);
	for (i = 0; i < nfiles; i++) {
		a = strrchr(files[i], '/');
		a = a != NULL ? a + 1 : files[i];
		/* Its own output (FILE in --out-dir): the output would replace the message. */
		if (join(out, r->out, a) == 0 && stat(out, &st) == 0 && stat(files[i], &fst) == 0
		    && st.st_dev == fst.st_dev && st.st_ino == fst.st_ino) {
			report(files[i], "is its own output in %s: not %s (give another --out-dir)",
			    r->out, r->b->done);
			r->failed++;
			continue;
		}
		/* Done by an earlier run. */
		if (!r->b->force && join(out, r->out, a) == 0 && lstat(out, &st) == 0) {
			report(files[i], "%s exists: skipped (--force replaces it)", out);
			r->skipped++;
			continue;
		}
		if (add_item(r, files[i], SUB_FILE, 0, e) != 0)
			return -1;
	}
	return 0;
}

static int
setup_maildir(struct run *r, struct err *e)
{
	const struct batch *b = r->b;
	struct stat si, so;
	int s;

	if (maildir_ok(b->maildir, 0, "--maildir", e) != 0)
		return -1;
	snprintf(r->in, sizeof r->in, "%s", b->maildir);
	if (b->to_maildir != NULL) {
		if (maildir_ok(b->to_maildir, 1, "--to-maildir", e) != 0)
			return -1;
		if (stat(b->maildir, &si) == 0 && stat(b->to_maildir, &so) == 0
		    && si.st_dev == so.st_dev && si.st_ino == so.st_ino)
			return err_set(e, EX_USAGE, "--to-maildir is the --maildir: use --in-place");
		snprintf(r->out, sizeof r->out, "%s", b->to_maildir);
	} else {
		snprintf(r->out, sizeof r->out, "%s", b->maildir);
	}
	if (join(r->tmp, r->out, "tmp") != 0)
		return err_set(e, EX_USAGE, "path too long: %s", r->out);
	/* One run per input Maildir: a second would take the same messages. */
	if ((r->lockfd = open(r->in, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return err_sys(e, EX_NOINPUT, "cannot open %s", r->in);
	if (flock(r->lockfd, LOCK_EX | LOCK_NB) != 0)
		return err_sys(e, errno == EWOULDBLOCK ? EX_TEMPFAIL : EX_IOERR, "cannot lock %s%s",
		    r->in, errno == EWOULDBLOCK ? " (another run is working on it)" : "");
	if ((r->mode == M_MAILDIR || r->mode == M_INPLACE) && list_outputs(r, e) != 0)
		return -1;
	for (s = SUB_NEW; s <= (b->cur ? SUB_CUR : SUB_NEW); s++)
		if (list_maildir(r, s, e) != 0)
			return -1;
	if ((r->mode == M_MAILDIR || r->mode == M_INPLACE) && sift(r, e) != 0)
		return -1;
	return 0;
}

static int
setup(struct run *r, const struct batch *b, char **files, int nfiles, struct err *e)
{
	struct timespec ts;
	const char *f;
	char *end;

	memset(r, 0, sizeof *r);
	r->b = b;
	r->lockfd = r->tmpfd = -1;
	r->mode = b->out_dir != NULL ? M_DIR : b->to_maildir != NULL ? M_MAILDIR : b->in_place
	    ? M_INPLACE : M_EXEC;
	r->timeout = 600;
	if ((f = getenv("SECMAIL_BATCH_TIMEOUT")) != NULL && (r->timeout = cli_number(f, 86400))
	    <= 0)
		return err_set(e, EX_USAGE, "SECMAIL_BATCH_TIMEOUT: not a number of seconds: %s", f);
	if ((f = getenv("SECMAIL_BATCH_FAULT")) != NULL && (end = strchr(f, ':')) != NULL
	    && (size_t)(end - f) < sizeof r->fpoint) {
		snprintf(r->fpoint, sizeof r->fpoint, "%.*s", (int)(end - f), f);
		r->fnum = cli_number(end + 1, 1000000000);
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(r->runid, sizeof r->runid, "%lld.M%ldP%ld", (long long)ts.tv_sec,
	    ts.tv_nsec / 1000, (long)getpid());
	if ((r->mode == M_DIR ? setup_files(r, files, nfiles, e) : setup_maildir(r, e)) != 0)
		return -1;
	if ((r->tmpfd = open(r->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return err_sys(e, EX_CANTCREAT, "cannot open %s", r->tmp);
	clean_tmp(r, r->mode == M_INPLACE || r->mode == M_EXEC);
	if (r->mode != M_DIR && r->n > 0)
		qsort(r->v, r->n, sizeof *r->v, cmp_item);
	return 0;
}

/* ---- the worker ---- */

/* Is the message (at offset 0 of fd) signed or encrypted already, as skip asks? The
 * structure says so, which the sender controls: a reason to skip work, never a verdict. */
static int
already(int fd, int skip)
{
	const struct msg_field *f;
	struct mime_type ct;
	struct msg_header h;
	struct io_in in;
	struct err e;
	const char *st;
	int r = 0;

	if (io_in_init(&in, fd, "message", &e) != 0)
		return 0;
	msg_header_init(&h);
	if (msg_header_read(&in, &h, &e) == 0 && (f = msg_header_get(&h, "Content-Type")) != NULL
	    && mime_type_parse(f->value, 0, &ct, &e) == 0) {
		st = mime_type_param(&ct, "smime-type");
		if ((skip & BATCH_SKIP_SIGNED) && (mime_type_is(&ct, "multipart", "signed")
		    || ((mime_type_is(&ct, "application", "pkcs7-mime")
		    || mime_type_is(&ct, "application", "x-pkcs7-mime")) && st != NULL
		    && strcasecmp(st, "signed-data") == 0)))
			r = BATCH_SKIP_SIGNED;
		if ((skip & BATCH_SKIP_ENCRYPTED) && envmsg_kind(&ct, &h) == ENVMSG_ENVELOPED)
			r = BATCH_SKIP_ENCRYPTED;
		mime_type_free(&ct);
	}
	msg_header_free(&h);
	io_in_free(&in);
	return lseek(fd, 0, SEEK_SET) == 0 ? r : -1;
}

static void
send_rec(int wfd, size_t i, int kind, int code)
{
	struct rec x;

	memset(&x, 0, sizeof x);
	x.i = (uint32_t)i;
	x.kind = (uint8_t)kind;
	x.code = (uint8_t)code;
	if (io_write_all(wfd, &x, sizeof x) != 0)
		_exit(EX_IOERR);	/* the supervisor is gone */
}

/* One message: the record kind, with *code. */
static int
work_one(struct run *r, size_t i, batch_fn *fn, void *ctx, int *code)
{
	const struct item *it = &r->v[i];
	char in[PATHMAX], tmp[PATHMAX], out[PATHMAX];
	struct batch_msg m;
	struct stat st;
	struct err e;
	int k, rc;

	*code = 0;
	if (inpath(r, i, in) != 0 || tmppath(r, i, tmp) != 0 || (r->mode != M_EXEC
	    && outpath(r, i, out) != 0)) {
		report(it->name, "name too long");
		return *code = EX_USAGE, REC_FAIL;
	}
	memset(&m, 0, sizeof m);
	m.name = in;
	m.out_name = r->mode == M_EXEC ? tmp : out;
	m.decrypted = it->sub == SUB_FILE ? -1 : maildir_has_mark(it->name, "decrypted");
	/* A Maildir entry was a regular file when listed; one swapped for a FIFO since must not
	 * block the worker (O_NONBLOCK), and is refused below. A FILE argument may be a pipe. */
	if ((m.in = open(in, O_RDONLY | O_CLOEXEC | (it->sub == SUB_FILE ? 0
	    : O_NOFOLLOW | O_NONBLOCK))) < 0) {
		if (errno == ENOENT && it->sub != SUB_FILE) {
			report(in, "gone (moved or removed since the run started): skipped");
			return REC_SKIP;
		}
		report(in, "cannot open: %s", strerror(errno));
		return *code = errno == ENOENT ? EX_NOINPUT : EX_IOERR, REC_FAIL;
	}
	if (fstat(m.in, &st) != 0) {
		report(in, "cannot stat: %s", strerror(errno));
		close(m.in);
		return *code = EX_IOERR, REC_FAIL;
	}
	if (S_ISDIR(st.st_mode)) {
		report(in, "a directory, not a message");
		close(m.in);
		return *code = EX_NOINPUT, REC_FAIL;
	}
	if (it->sub != SUB_FILE && (!S_ISREG(st.st_mode)
	    || fcntl(m.in, F_SETFL, fcntl(m.in, F_GETFL) & ~O_NONBLOCK) != 0)) {
		report(in, "not a regular file (replaced since the run started?): left alone");
		close(m.in);
		return *code = EX_NOINPUT, REC_FAIL;
	}
	if (r->b->skip && !r->b->force && (k = already(m.in, r->b->skip)) != 0) {
		close(m.in);
		if (k < 0) {
			report(in, "cannot rewind: %s", strerror(errno));
			return *code = EX_IOERR, REC_FAIL;
		}
		report(in, "already %s: skipped (--force does it again)",
		    k == BATCH_SKIP_SIGNED ? "signed" : "encrypted");
		return REC_SKIP;
	}
	if ((m.out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0) {
		report(in, "cannot create %s: %s", tmp, strerror(errno));
		close(m.in);
		return *code = EX_CANTCREAT, REC_FAIL;
	}
	cli_set_subject(in);
	err_clear(&e);
	rc = fn(ctx, &m, &e);
	cli_set_subject(NULL);
	close(m.in);
	if (rc == 0 && close(m.out) != 0) {
		err_sys(&e, EX_IOERR, "cannot write %s", tmp);
		rc = -1;
	} else if (rc != 0) {
		close(m.out);
	}
	if (rc != 0) {
		unlink(tmp);
		report(in, "%s", e.msg[0] ? e.msg : "failed");
		*code = e.code ? e.code : EX_SOFTWARE;
		return REC_FAIL;
	}
	return REC_OK;
}

/* Worker k: claims the next message (a counter the workers share) until none is left,
 * saying in its slot which one it is on, so the supervisor knows what a worker that died was
 * doing; one record per message through wfd. */
static _Noreturn void
worker(struct run *r, int k, int wfd, batch_fn *fn, void *ctx)
{
	struct slot *sl = &r->sh->w[k];
	size_t i;
	int kind, code;

	for (;;) {
		i = atomic_fetch_add(&r->sh->next, 1);
		if (i >= r->n)
			break;
		atomic_store(&sl->since, now_ms());
		atomic_store(&sl->item, (long long)i);
		if (r->fnum > 0 && (long)i + 1 == r->fnum && strcmp(r->fpoint, "crash") == 0) {
			/* A crash no handler turns into an exit (a sanitizer's would). */
			signal(SIGSEGV, SIG_DFL);
			raise(SIGSEGV);
		}
		if (r->fnum > 0 && (long)i + 1 == r->fnum && strcmp(r->fpoint, "exit") == 0)
			_exit(3);	/* as a sanitizer's report or a library's exit(3) */
		if (r->fnum > 0 && (long)i + 1 == r->fnum && strcmp(r->fpoint, "hang") == 0)
			for (;;)
				pause();
		if (r->fnum > 0 && (long)i + 1 == r->fnum && strcmp(r->fpoint, "gate") == 0)
			gate();
		kind = work_one(r, i, fn, ctx, &code);
		atomic_store(&sl->item, -1LL);
		send_rec(wfd, i, kind, code);
	}
	close(wfd);
	/* exit, not _exit: with sanitizers the leak check runs here, after every message. */
	exit(0);
}

/* ---- committing ---- */

/* rename(2) that fails with EEXIST instead of replacing: renameat2 where the file system
 * has it, else link(2) and unlink(2). */
static int
rename_new(const char *from, const char *to)
{
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (link(from, to) != 0)
		return -1;
	unlink(from);
	return 0;
}

/* Every output of the group durable (one syncfs for all), linked into place, the
 * directories synced; then the inputs removed (batch.h, steps 4-6). */
static void
commit(struct run *r)
{
	char tmp[PATHMAX], out[PATHMAX], in[PATHMAX], d[PATHMAX];
	int ok[GROUP], unsynced[GROUP], s, fd, exists;
	struct stat st;
	size_t k, i;
	struct err e;

	if (r->npend == 0)
		return;
	memset(unsynced, 0, sizeof unsynced);
	if (strcmp(r->fpoint, "fsync") == 0 || syncfs(r->tmpfd) != 0) {
		/* No syncfs (ENOSYS) or a write error it reports: each file on its own. One that
		 * cannot be synced is not known to be on disk: its input must stay. */
		for (k = 0; k < r->npend; k++) {
			if (tmppath(r, r->pend[k], tmp) != 0
			    || (fd = open(tmp, O_RDONLY | O_CLOEXEC)) < 0) {
				unsynced[k] = errno ? errno : ENAMETOOLONG;
				continue;
			}
			if (fsync(fd) != 0 || sync_fault(r))
				unsynced[k] = errno ? errno : EIO;
			close(fd);
		}
	}
	for (k = 0; k < r->npend; k++) {
		i = r->pend[k];
		ok[k] = 0;
		inpath(r, i, in);
		if (tmppath(r, i, tmp) != 0 || outpath(r, i, out) != 0) {
			report(in, "name too long");
			r->failed++;
			continue;
		}
		if (unsynced[k]) {
			report(in, "its output cannot be made durable: %s; left in place",
			    strerror(unsynced[k]));
			unlink(tmp);
			r->retry++;
			continue;
		}
		/* Moved (a mail reader took it to cur/) or removed while it was worked on: its
		 * output would be a second copy of a message that is elsewhere, or one the user
		 * threw away. */
		if (r->mode != M_DIR && lstat(in, &st) != 0 && errno == ENOENT) {
			report(in, "gone (moved or removed while it was being %s): no output, so it "
			    "is not there twice", r->b->done);
			unlink(tmp);
			r->skipped++;
			continue;
		}
		if (r->mode == M_DIR && r->b->force) {
			if (rename(tmp, out) != 0) {
				report(in, "cannot rename %s to %s: %s", tmp, out, strerror(errno));
				unlink(tmp);
				r->retry++;
				continue;
			}
		} else {
			/* Never replace a file someone else made. */
			exists = 0;
			if (rename_new(tmp, out) != 0) {
				if (errno != EEXIST) {
					report(in, "cannot create %s: %s", out, strerror(errno));
					unlink(tmp);
					r->retry++;
					continue;
				}
				exists = 1;
				unlink(tmp);
			}
			if (exists && r->mode == M_DIR) {
				report(in, "%s exists: skipped (--force replaces it)", out);
				r->skipped++;
				continue;
			}
			/* State 2 was settled before the run (sift): an output that appeared
			 * since is someone else's, and this input is not done. */
			if (exists) {
				report(in, "%s appeared during the run: left in place, not %s", out,
				    r->b->done);
				r->failed++;
				continue;
			}
		}
		ok[k] = 1;
		r->touched_out[r->v[i].sub == SUB_CUR] = 1;
		fault(r, "output");
	}
	for (s = 0; s < 2; s++)
		if (r->touched_out[s]) {
			if (r->mode == M_DIR)
				snprintf(d, sizeof d, "%s", r->out);
			else
				join(d, r->out, subs[s]);
			if (io_fsync_dir(d, &e) != 0) {
				/* Not known to be durable: keep every input of the group. */
				report(d, "%s", e.msg);
				for (k = 0; k < r->npend; k++)
					if (ok[k])
						ok[k] = 0, r->retry++;
			}
			r->touched_out[s] = 0;
		}
	for (k = 0; k < r->npend; k++) {
		if (!ok[k])
			continue;
		r->done++;
		i = r->pend[k];
		if (r->mode == M_DIR)
			continue;
		inpath(r, i, in);
		if (unlink(in) != 0)
			report(in, errno == ENOENT ? "%s, but moved or removed by someone else just "
			    "before it was: check for a second copy%s" : "%s, but the input cannot be "
			    "removed: %s (the next run will)", r->b->done, errno == ENOENT ? ""
			    : strerror(errno));
		r->touched_in[r->v[i].sub == SUB_CUR] = 1;
		fault(r, "input");
	}
	r->npend = 0;
}

/* Sync the input directories from which messages were removed. */
static void
sync_inputs(struct run *r)
{
	char d[PATHMAX];
	struct err e;
	int s;

	for (s = 0; s < 2; s++)
		if (r->touched_in[s]) {
			r->touched_in[s] = 0;
			if (join(d, r->in, subs[s]) == 0 && io_fsync_dir(d, &e) != 0)
				report(d, "%s", e.msg);
		}
}

/* --exec: wait for the command, r->timeout seconds at most (the workers' timeout); then
 * its process group is killed and -1 returned. Polled, from 1 to 100 ms apart. */
static int
exec_wait(struct run *r, pid_t pid, int *st)
{
	long long deadline = now_ms() + r->timeout * 1000;
	struct timespec ts = { 0, 1000 * 1000 };
	pid_t got;

	for (;;) {
		got = waitpid(pid, st, WNOHANG);
		if (got == pid || (got < 0 && errno != EINTR))
			return got == pid ? 0 : (*st = -1, 0);
		if (now_ms() >= deadline) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			while (waitpid(pid, st, 0) < 0 && errno == EINTR)
				;
			return -1;
		}
		nanosleep(&ts, NULL);
		if (ts.tv_nsec < 100 * 1000 * 1000)
			ts.tv_nsec *= 2;
	}
}

/* --exec: hand the output of message i to the command (batch.h). */
static void
hand_over(struct run *r, size_t i)
{
	char in[PATHMAX], tmp[PATHMAX], mark[PATHMAX], d[PATHMAX];
	const struct item *it = &r->v[i];
	struct err e;
	pid_t pid;
	int st, fd;

	inpath(r, i, in);
	if (tmppath(r, i, tmp) != 0 || doubtpath(r, i, mark) != 0 || join(d, r->in,
	    subs[it->sub]) != 0) {
		report(in, "name too long");
		r->failed++;
		return;
	}
	/* In doubt from here until the command's verdict is recorded. */
	/* Never over a message left in doubt by a killed run whose name marks the same. */
	if (!it->doubt && rename_new(in, mark) != 0) {
		report(in, "cannot mark it as being handed over: %s", strerror(errno));
		unlink(tmp);
		r->retry++;
		return;
	}
	if (io_fsync_dir(d, &e) != 0) {
		report(in, "%s", e.msg);
		if (!it->doubt)
			rename(mark, in);
		unlink(tmp);
		r->retry++;
		return;
	}
	fault(r, "exec-mark");
	if ((fd = open(tmp, O_RDONLY | O_CLOEXEC)) < 0 || (pid = fork()) < 0) {
		report(in, "cannot run '%s': %s", r->b->exec, strerror(errno));
		st = -1;
	} else if (pid == 0) {
		/* Its own process group: a timeout stops the whole pipeline it may be. */
		setpgid(0, 0);
		if (dup2(fd, STDIN_FILENO) < 0)
			_exit(EX_OSERR);
		execl("/bin/sh", "sh", "-c", r->b->exec, (char *)NULL);
		_exit(127);
	} else if (exec_wait(r, pid, &st) != 0) {
		/* It may have taken the message before it hung: in doubt, as after a killed run. */
		close(fd);
		unlink(tmp);
		report(in, "'%s' gave no answer in %ld seconds: stopped; in doubt (it may have "
		    "taken it): check (mailsend --list), then remove it, or hand it over again "
		    "with --force", r->b->exec, r->timeout);
		r->doubt++;
		return;
	}
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	if (st == 0) {
		fault(r, "exec-done");
		if (unlink(mark) != 0)
			report(mark, "handed over, but cannot be removed: %s", strerror(errno));
		else
			r->done++;
		io_fsync_dir(d, &e);
		return;
	}
	if (st != -1) {
		if (WIFEXITED(st))
			report(in, "'%s' failed (exit status %d): left in place", r->b->exec,
			    WEXITSTATUS(st));
		else
			report(in, "'%s' was killed by signal %d: left in place", r->b->exec,
			    WTERMSIG(st));
	}
	/* The command did not take it: no longer in doubt. */
	if (!it->doubt && rename(mark, in) != 0)
		report(mark, "cannot rename it back to %s: %s", in, strerror(errno));
	count_failure(r, st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : EX_OSERR);
}

/* ---- supervising ---- */

static void
finished(struct run *r, size_t i, int kind, int code)
{
	if (r->seen[i])
		return;
	r->seen[i] = 1;
	switch (kind) {
	case REC_OK:
		fault(r, "tmp");
		if (r->mode == M_EXEC) {
			hand_over(r, i);
			return;
		}
		r->pend[r->npend++] = i;
		if (r->npend == GROUP)
			commit(r);
		return;
	case REC_SKIP:
		r->skipped++;
		return;
	default:
		count_failure(r, code);
	}
}

/* A worker ended during message i (it exited or was killed): the message failed. */
static void
died(struct run *r, size_t i, int st, int timed_out)
{
	char in[PATHMAX], tmp[PATHMAX];

	r->seen[i] = 1;
	inpath(r, i, in);
	if (tmppath(r, i, tmp) == 0)
		unlink(tmp);
	if (timed_out) {
		report(in, "no result after %ld seconds: stopped, left in place", r->timeout);
		r->retry++;
	} else if (WIFSIGNALED(st)) {
		report(in, "the worker crashed on it (signal %d): left in place", WTERMSIG(st));
		r->failed++;
	} else {
		/* The per-message code said why as it exited with a sysexits code; any other
		 * status (a sanitizer's report, a library's exit) names the message here. */
		if (WEXITSTATUS(st) < EX__BASE)
			report(in, "the worker ended on it (exit status %d): left in place",
			    WEXITSTATUS(st));
		count_failure(r, WEXITSTATUS(st) ? WEXITSTATUS(st) : EX_SOFTWARE);
	}
}

static int
start_worker(struct run *r, int k, batch_fn *fn, void *ctx, struct err *e)
{
	struct worker_state *w = &r->ws[k];
	pid_t parent = getpid();
	int p[2], j;

	/* Before the fork: the worker writes its slot at once. */
	atomic_store(&r->sh->w[k].item, -1LL);
	if (pipe(p) != 0)
		return err_sys(e, EX_OSERR, "cannot start a worker");
	if (fcntl(p[0], F_SETFD, FD_CLOEXEC) != 0 || fcntl(p[1], F_SETFD, FD_CLOEXEC) != 0
	    || (w->pid = fork()) < 0) {
		err_sys(e, EX_OSERR, "cannot start a worker");
		close(p[0]);
		close(p[1]);
		w->pid = 0;
		return -1;
	}
	if (w->pid == 0) {
		close(p[0]);
		/* The other workers' pipes (j, not k: k names this worker's slot). */
		for (j = 0; j < r->jobs; j++)
			if (j != k && r->ws[j].pid > 0)
				close(r->ws[j].fd);
#ifdef __linux__
		/* No worker outlives the run: the state machine assumes one owner. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(EX_OSERR);
#endif
		(void)parent;
		worker(r, k, p[1], fn, ctx);
	}
	close(p[1]);
	w->fd = p[0];
	w->have = 0;
	w->timed_out = 0;
	return 0;
}

/* Worker k's records that have come in; 0 at the end of its pipe. */
static int
drain(struct run *r, struct worker_state *w)
{
	struct rec x;
	ssize_t got;
	size_t k;

	got = read(w->fd, w->buf + w->have, sizeof w->buf - w->have);
	if (got < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : 0;
	if (got == 0)
		return 0;
	w->have += (size_t)got;
	for (k = 0; k + sizeof x <= w->have; k += sizeof x) {
		memcpy(&x, w->buf + k, sizeof x);
		if (x.i < r->n)
			finished(r, x.i, x.kind, x.code);
	}
	memmove(w->buf, w->buf + k, w->have - k);
	w->have -= k;
	return 1;
}

/* Worker k's pipe ended: reap it, account for the message it was on, and start another
 * while messages are left. */
static void
reap(struct run *r, int k, batch_fn *fn, void *ctx)
{
	struct worker_state *w = &r->ws[k];
	long long cur = atomic_load(&r->sh->w[k].item);
	struct err e;
	int st;

	close(w->fd);
	while (waitpid(w->pid, &st, 0) < 0 && errno == EINTR)
		;
	w->pid = 0;
	if (cur >= 0 && (size_t)cur < r->n) {
		died(r, (size_t)cur, st, w->timed_out);
	} else if (st != 0) {
		/* Not on a message: a bug, or the leak check of a sanitizer build. */
		report(NULL, "a worker ended with %s %d between messages", WIFSIGNALED(st)
		    ? "signal" : "status", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
		r->failed++;
		/* Replaced a few times, not for ever: one that dies before any message would. */
		if (++r->lost > 3)
			return;
	}
	if (atomic_load(&r->sh->next) < r->n && start_worker(r, k, fn, ctx, &e) != 0)
		report(NULL, "%s", e.msg);
}

/* Run the workers until every one has ended, collecting their records, stopping one that
 * spends longer than the timeout on a message. */
static void
supervise(struct run *r, batch_fn *fn, void *ctx)
{
	struct pollfd p[BATCH_MAX_JOBS];
	int map[BATCH_MAX_JOBS], np, k, j, wait;
	long long now, since, left;

	for (;;) {
		np = 0;
		wait = -1;
		now = now_ms();
		for (k = 0; k < r->jobs; k++) {
			if (r->ws[k].pid <= 0)
				continue;
			p[np].fd = r->ws[k].fd;
			p[np].events = POLLIN;
			map[np++] = k;
			if (r->ws[k].timed_out)
				continue;
			/* Between messages: it may be on the next one already, and hang there
			 * without a word; look again in a second, never wait for ever. */
			if (atomic_load(&r->sh->w[k].item) < 0) {
				if (wait < 0 || wait > 1000)
					wait = 1000;
				continue;
			}
			since = atomic_load(&r->sh->w[k].since);
			left = since + r->timeout * 1000 - now;
			if (left <= 0) {
				kill(r->ws[k].pid, SIGKILL);
				r->ws[k].timed_out = 1;
				continue;
			}
			/* Re-check at least every second: the slot moves on without a word. */
			left = left < 1000 ? left : 1000;
			if (wait < 0 || left < wait)
				wait = (int)left;
		}
		if (np == 0)
			return;
		if (poll(p, (nfds_t)np, wait) < 0 && errno != EINTR)
			return;
		for (j = 0; j < np; j++)
			if ((p[j].revents & (POLLIN | POLLHUP | POLLERR))
			    && !drain(r, &r->ws[map[j]]))
				reap(r, map[j], fn, ctx);
	}
}

/* One worker per CPU this process may run on, at most 8: the work is CPU-bound. */
static int
default_jobs(void)
{
	cpu_set_t set;
	int n;

	if (sched_getaffinity(0, sizeof set, &set) == 0)
		n = CPU_COUNT(&set);
	else
		n = (int)sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 8 ? 8 : n;
}

int
batch_run(const struct batch *b, char **files, int nfiles, batch_fn *fn, void *ctx,
    struct err *e)
{
	struct run r;
	size_t i, left;
	int k, status = -1;

	if (setup(&r, b, files, nfiles, e) != 0)
		goto out;
	r.jobs = b->jobs > 0 ? b->jobs : default_jobs();
	if ((size_t)r.jobs > r.n)
		r.jobs = r.n > 0 ? (int)r.n : 1;
	r.sh = mmap(NULL, sizeof *r.sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	r.seen = calloc(r.n + 1, 1);
	if (r.sh == MAP_FAILED || r.seen == NULL) {
		r.sh = NULL;
		err_sys(e, EX_OSERR, "out of memory");
		goto out;
	}
	atomic_init(&r.sh->next, 0);
	for (k = 0; k < r.jobs && r.n > 0; k++)
		if (start_worker(&r, k, fn, ctx, e) != 0) {
			report(NULL, "%s", e->msg);
			break;
		}
	supervise(&r, fn, ctx);
	commit(&r);
	sync_inputs(&r);
	/* Messages no worker got to (workers that could not be started). */
	for (i = left = 0; i < r.n; i++)
		left += !r.seen[i];
	r.retry += left;
	if (r.failed + r.retry + r.doubt > 0)
		report(NULL, "%zu of %zu messages not %s: %zu failed, %zu to retry, %zu in doubt",
		    r.failed + r.retry + r.doubt, r.done + r.skipped + r.failed + r.retry + r.doubt,
		    b->done, r.failed, r.retry, r.doubt);
	status = r.failed + r.doubt > 0 ? 1 : r.retry > 0 ? EX_TEMPFAIL : 0;
out:
	for (i = 0; i < r.n; i++)
		free(r.v[i].name);
	free(r.v);
	for (i = 0; i < r.nouts; i++)
		free(r.outs[i].base);
	free(r.outs);
	free(r.seen);
	if (r.sh != NULL && r.sh != MAP_FAILED)
		munmap(r.sh, sizeof *r.sh);
	if (r.tmpfd >= 0)
		close(r.tmpfd);
	if (r.lockfd >= 0)
		close(r.lockfd);
	return status;
}
