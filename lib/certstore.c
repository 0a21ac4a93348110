/* certstore.c — the per-address certificate directory shared by smime-verify and
 * smime-encrypt (format in certstore.h). */
#include "certstore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

#include "buf.h"
#include "io.h"
#include "keys.h"

struct certstore {
	char *dir;
};

int
certstore_open(struct certstore **cs, const char *dir, struct err *e)
{
	struct stat st;

	*cs = NULL;
	if (dir == NULL || *dir == '\0')
		return err_set(e, EX_USAGE, "no certificate store directory given");
	/* Issue 9 item 16: a store someone else can change is never trusted. One that cannot
	 * be looked at is as good as missing: lookups find nothing, a save says why. */
	if (stat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return err_set(e, EX_CONFIG, "certificate store %s is not a directory", dir);
		if (io_dir_private(dir, 0, e) < 0)
			return err_wrap(e, "certificate store");
	}
	if ((*cs = calloc(1, sizeof **cs)) == NULL || ((*cs)->dir = strdup(dir)) == NULL) {
		free(*cs);
		*cs = NULL;
		return err_set(e, EX_OSERR, "out of memory");
	}
	return 0;
}

const char *
certstore_default_dir(char *buf, size_t n)
{
	const char *d;

	if ((d = getenv("XDG_DATA_HOME")) != NULL && *d == '/') {
		if ((size_t)snprintf(buf, n, "%s/secmail/certs", d) < n)
			return buf;
	} else if ((d = getenv("HOME")) != NULL && *d == '/') {
		if ((size_t)snprintf(buf, n, "%s/.local/share/secmail/certs", d) < n)
			return buf;
	}
	return NULL;
}

void
certstore_close(struct certstore *cs)
{
	if (cs == NULL)
		return;
	free(cs->dir);
	free(cs);
}

void
certstore_entry_init(struct certstore_entry *ent)
{
	memset(ent, 0, sizeof *ent);
}

void
certstore_entry_free(struct certstore_entry *ent)
{
	free(ent->addr);
	X509_free(ent->cert);
	X509_free(ent->signer);
	sk_X509_pop_free(ent->chain, X509_free);
	memset(ent, 0, sizeof *ent);
}

char *
certstore_filename(const char *addr, struct err *e)
{
	static const char hex[] = "0123456789ABCDEF";
	struct buf b = BUF_INIT;
	const unsigned char *p;

	if (addr == NULL || *addr == '\0' || strlen(addr) > 1024) {
		err_set(e, EX_DATAERR, "not an address for the certificate store: '%s'",
		    addr ? addr : "");
		return NULL;
	}
	for (p = (const unsigned char *)addr; *p; p++) {
		unsigned char c = *p;

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '@' || c == '_'
		    || c == '+' || c == '-' || (c == '.' && p != (const unsigned char *)addr)) {
			buf_addc(&b, (char)c);
		} else {
			buf_addc(&b, '%');
			buf_addc(&b, hex[c >> 4]);
			buf_addc(&b, hex[c & 15]);
		}
	}
	return buf_take(&b, e);
}

static char *
entry_path(const struct certstore *cs, const char *addr, struct err *e)
{
	struct buf b = BUF_INIT;
	char *name;

	if ((name = certstore_filename(addr, e)) == NULL)
		return NULL;
	buf_addf(&b, "%s/%s", cs->dir, name);
	free(name);
	return buf_take(&b, e);
}

static int
lower_dup(const char *s, char **out, struct err *e)
{
	size_t i;

	if ((*out = strdup(s)) == NULL)
		return err_set(e, EX_OSERR, "out of memory");
	for (i = 0; (*out)[i]; i++)
		if ((*out)[i] >= 'A' && (*out)[i] <= 'Z')
			(*out)[i] = (char)((*out)[i] - 'A' + 'a');
	return 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "YYYYMMDDHHMMSSZ" <-> time_t, through OpenSSL's own GeneralizedTime parser. */
static int
parse_time(const char *s, time_t *t)
{
	ASN1_GENERALIZEDTIME *g = ASN1_GENERALIZEDTIME_new();
	struct tm tm;
	int ok;

	ok = g != NULL && strlen(s) == 15 && ASN1_GENERALIZEDTIME_set_string(g, s)
	    && ASN1_TIME_to_tm(g, &tm);
	ASN1_GENERALIZEDTIME_free(g);
	if (!ok) {
		ERR_clear_error();
		return -1;
	}
	*t = timegm(&tm);
	return 0;
}

static void
format_time(time_t t, char out[16])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 16, "%Y%m%d%H%M%SZ", &tm);
}

/* Parse the text part (up to the blank line). */
static int
parse_fields(char *text, struct certstore_entry *ent, const char *path, struct err *e)
{
	char *line, *save = NULL, *v;
	int version = 0, have_time = 0;

	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		if ((v = strchr(line, ':')) == NULL)
			return err_set(e, EX_DATAERR, "%s: corrupt certificate store entry (line "
			    "without a colon)", path);
		*v++ = '\0';
		v += strspn(v, " \t");
		if (strcmp(line, "secmail-certstore") == 0) {
			version = atoi(v);
		} else if (strcmp(line, "address") == 0) {
			free(ent->addr);
			if (lower_dup(v, &ent->addr, e) != 0)
				return -1;
		} else if (strcmp(line, "signing-time") == 0) {
			if (parse_time(v, &ent->signing_time) != 0)
				return err_set(e, EX_DATAERR, "%s: corrupt certificate store entry "
				    "(bad signing-time)", path);
			have_time = 1;
		} else if (strcmp(line, "capabilities") == 0) {
			char *tok, *s2 = NULL;

			for (tok = strtok_r(v, " \t", &s2); tok != NULL && ent->ncaps <
			    CERTSTORE_MAX_CAPS; tok = strtok_r(NULL, " \t", &s2)) {
				ASN1_OBJECT *o = OBJ_txt2obj(tok, 1);

				ent->caps[ent->ncaps++] = o ? OBJ_obj2nid(o) : NID_undef;
				ASN1_OBJECT_free(o);
			}
			ERR_clear_error();
		} else if (strcmp(line, "encryption-certificate") == 0) {
			ent->enc_separate = strcmp(v, "separate") == 0;
		} else if (strcmp(line, "origin") == 0) {
			ent->origin = strcmp(v, "pinned") == 0 ? CERTSTORE_PINNED
			    : strcmp(v, "imported") == 0 ? CERTSTORE_IMPORTED : CERTSTORE_HARVESTED;
		} else if (strcmp(line, "stored") == 0) {
			if (parse_time(v, &ent->stored) != 0)
				ent->stored = 0;
		} else if (strcmp(line, "received-cipher") == 0) {
			ASN1_OBJECT *o = OBJ_txt2obj(v, 1);

			ent->received_cipher = o ? OBJ_obj2nid(o) : NID_undef;
			ASN1_OBJECT_free(o);
			ERR_clear_error();
		}
	}
	if (version != 1)
		return err_set(e, EX_DATAERR, "%s: not a version 1 certificate store entry", path);
	if (ent->addr == NULL || !have_time)
		return err_set(e, EX_DATAERR, "%s: corrupt certificate store entry (no address or "
		    "signing-time)", path);
	return 0;
}

int
certstore_get(struct certstore *cs, const char *addr, struct certstore_entry *ent,
    struct err *e)
{
	STACK_OF(X509) *xs = NULL;
	unsigned char *data;
	char *path, *sep;
	size_t n;
	int rc = -1;

	certstore_entry_init(ent);
	if (cs == NULL)
		return err_set(e, EX_NOINPUT, "no certificate store");
	if ((path = entry_path(cs, addr, e)) == NULL)
		return -1;
	if ((data = keys_read_file(path, CERTSTORE_MAX_ENTRY, &n, e)) == NULL) {
		if (e->sys == ENOENT)
			err_set(e, EX_NOINPUT, "%s: no certificate in the store", addr);
		free(path);
		return -1;
	}
	if (memchr(data, '\0', n) != NULL || (sep = strstr((char *)data, "\n\n")) == NULL) {
		err_set(e, EX_DATAERR, "%s: corrupt certificate store entry", path);
		goto out;
	}
	*sep = '\0';
	if (parse_fields((char *)data, ent, path, e) != 0)
		goto out;
	if (keys_load_certs(path, &xs, e) != 0)
		goto out;
	ent->signer = sk_X509_shift(xs);
	if (ent->enc_separate) {
		if (sk_X509_num(xs) == 0) {
			err_set(e, EX_DATAERR, "%s: corrupt certificate store entry (no encryption "
			    "certificate)", path);
			goto out;
		}
		ent->cert = sk_X509_shift(xs);
	} else {
		ent->cert = ent->signer;
		X509_up_ref(ent->cert);
	}
	ent->chain = xs;
	xs = NULL;
	rc = 0;
out:
	sk_X509_pop_free(xs, X509_free);
	keys_file_free(data, n);
	free(path);
	if (rc != 0)
		certstore_entry_free(ent);
	return rc;
}

static int
write_pem(BIO *b, X509 *x)
{
	return PEM_write_bio_X509(b, x) == 1 ? 0 : -1;
}

/* The entry's bytes in a memory BIO. */
static BIO *
render(const struct certstore_entry *ent, const char *addr, struct err *e)
{
	char t[16], oid[128];
	BIO *b;
	int i, bad = 0;

	if ((b = BIO_new(BIO_s_mem())) == NULL) {
		err_ssl(e, EX_OSERR, "out of memory");
		return NULL;
	}
	format_time(ent->signing_time, t);
	bad |= BIO_printf(b, "secmail-certstore: 1\naddress: %s\nsigning-time: %s\n", addr, t) <= 0;
	if (ent->ncaps > 0) {
		bad |= BIO_puts(b, "capabilities:") <= 0;
		for (i = 0; i < ent->ncaps; i++) {
			ASN1_OBJECT *o = OBJ_nid2obj(ent->caps[i]);

			if (ent->caps[i] == NID_undef || o == NULL
			    || OBJ_obj2txt(oid, sizeof oid, o, 1) <= 0)
				continue;
			bad |= BIO_printf(b, " %s", oid) <= 0;
		}
		bad |= BIO_puts(b, "\n") <= 0;
	}
	if (ent->received_cipher != NID_undef && OBJ_nid2obj(ent->received_cipher) != NULL
	    && OBJ_obj2txt(oid, sizeof oid, OBJ_nid2obj(ent->received_cipher), 1) > 0)
		bad |= BIO_printf(b, "received-cipher: %s\n", oid) <= 0;
	bad |= BIO_printf(b, "encryption-certificate: %s\n", ent->cert != NULL && ent->cert
	    != ent->signer && X509_cmp(ent->cert, ent->signer) != 0 ? "separate" : "signer") <= 0;
	format_time(ent->stored ? ent->stored : time(NULL), t);
	bad |= BIO_printf(b, "origin: %s\nstored: %s\n\n", certstore_origin_name(ent->origin),
	    t) <= 0;
	bad |= write_pem(b, ent->signer);
	if (ent->cert != NULL && ent->cert != ent->signer && X509_cmp(ent->cert, ent->signer) != 0)
		bad |= write_pem(b, ent->cert);
	for (i = 0; ent->chain != NULL && i < sk_X509_num(ent->chain); i++)
		bad |= write_pem(b, sk_X509_value(ent->chain, i));
	if (bad) {
		err_ssl(e, EX_SOFTWARE, "cannot format the certificate store entry");
		BIO_free(b);
		return NULL;
	}
	return b;
}

static int
lock_store(const struct certstore *cs, struct err *e)
{
	struct buf b = BUF_INIT;
	char *path;
	int fd;

	buf_addf(&b, "%s/.lock", cs->dir);
	if ((path = buf_take(&b, e)) == NULL)
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		err_sys(e, EX_CANTCREAT, "cannot open %s", path);
		free(path);
		return -1;
	}
	while (flock(fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			err_sys(e, EX_IOERR, "cannot lock %s", path);
			free(path);
			close(fd);
			return -1;
		}
	}
	free(path);
	return fd;
}

/* Replace the entry file atomically; `received` overrides ent->received_cipher, `origin`
 * ent->origin (when >= 0). */
static int
write_entry(const char *path, const struct certstore_entry *ent, const char *addr, int received,
    int origin, struct err *e)
{
	struct certstore_entry copy = *ent;
	struct io_atomic a;
	char *data;
	BIO *b;
	long len;
	int rc = -1;

	copy.received_cipher = received;
	if (origin >= 0)
		copy.origin = origin;
	if ((b = render(&copy, addr, e)) == NULL)
		return -1;
	len = BIO_get_mem_data(b, &data);
	if (io_atomic_open(&a, path, 0644, e) == 0) {
		if (io_write_all(a.fd, data, (size_t)len) != 0) {
			err_sys(e, EX_IOERR, "cannot write %s", a.tmp);
			io_atomic_abort(&a);
		} else if (io_atomic_commit(&a, e) == 0) {
			rc = 0;
		}
	}
	BIO_free(b);
	return rc;
}

int
certstore_put(struct certstore *cs, const struct certstore_entry *ent, struct err *e)
{
	return certstore_put_at(cs, ent, time(NULL) + CERTSTORE_SKEW, e);
}

/* Write ent under its address, under the store's lock. Unless replace is set, an existing
 * entry stays when its signing time is as new (and believable), and a new signature by a
 * certificate the user imported or pinned keeps that origin. 1 written, 0 kept, -1 error. */
/* How put_entry decides. */
enum put_mode {
	PUT_SIGNED,	/* a harvested signature: a later signing time (certstore_put_at) */
	PUT_REPLACE,	/* whatever is stored (certstore_replace) */
	PUT_IMPORT,	/* an import: certstore_import */
};

int
certstore_newer(X509 *a, X509 *b, time_t now)
{
	time_t anb, ana, bnb, bna;
	int av, bv, c;

	if (keys_cert_dates(a, &anb, &ana) != 0)
		return 0;
	if (keys_cert_dates(b, &bnb, &bna) != 0)
		return 1;
	av = anb <= now && now <= ana;
	bv = bnb <= now && now <= bna;
	if (av != bv)
		return av;
	if (anb != bnb)
		return anb > bnb;
	if (ana != bna)
		return ana > bna;
	/* The same dates: any fixed order, so that the order of imports does not matter. */
	c = X509_cmp(a, b);
	return c > 0;
}

static int
put_entry(struct certstore *cs, const struct certstore_entry *ent, time_t latest,
    enum put_mode mode, time_t now, struct err *e)
{
	struct certstore_entry old;
	char *addr = NULL, *path = NULL;
	int lock = -1, rc = -1, received = ent->received_cipher, origin = -1, keep = 0;
	int replace = mode == PUT_REPLACE;

	if (ent->signer == NULL || ent->addr == NULL)
		return err_set(e, EX_SOFTWARE, "certificate store entry without signer or address");
	if (lower_dup(ent->addr, &addr, e) != 0)
		return -1;
	if (io_dir_private(cs->dir, 1, e) != 0) {
		err_wrap(e, "certificate store");
		goto out;
	}
	if ((lock = lock_store(cs, e)) < 0 || (path = entry_path(cs, addr, e)) == NULL)
		goto out;
	if (certstore_get(cs, addr, &old, e) == 0) {
		time_t t = old.signing_time;

		/* What we saw in their mail outlives a certificate update. */
		if (received == NID_undef)
			received = old.received_cipher;
		if (!replace && ent->origin == CERTSTORE_HARVESTED
		    && old.origin != CERTSTORE_HARVESTED && X509_cmp(old.signer, ent->signer) == 0)
			origin = old.origin;
		/* RFC 8551 §2.7.1: keep what we have unless this signature is newer; a stored
		 * time from the future proves nothing (issue 9 item 3). */
		if (!replace && ent->signing_time <= t && t <= latest)
			keep = 1;
		/* An import of another certificate to encrypt to: the newer one stays, whatever
		 * the order of the imports (secmail-certstore(5)). */
		if (mode == PUT_IMPORT && X509_cmp(old.cert, ent->cert) != 0)
			keep = !certstore_newer(ent->cert, old.cert, now);
		certstore_entry_free(&old);
		if (keep) {
			rc = 0;
			goto out;
		}
	} else if (e->code != EX_NOINPUT && e->code != EX_DATAERR) {
		goto out;	/* unreadable: do not overwrite blindly; a corrupt one is replaced */
	}
	if (write_entry(path, ent, addr, received, origin, e) != 0)
		goto out;
	rc = 1;
out:
	if (lock >= 0)
		close(lock);
	free(path);
	free(addr);
	return rc;
}

int
certstore_put_at(struct certstore *cs, const struct certstore_entry *ent, time_t latest,
    struct err *e)
{
	return put_entry(cs, ent, latest, PUT_SIGNED, 0, e);
}

int
certstore_import(struct certstore *cs, const struct certstore_entry *ent, time_t now,
    time_t latest, struct err *e)
{
	return put_entry(cs, ent, latest, PUT_IMPORT, now, e);
}

int
certstore_note_received(struct certstore *cs, const char *addr, int nid, struct err *e)
{
	struct certstore_entry ent;
	char *laddr = NULL, *path = NULL;
	int lock = -1, rc = -1;

	if (nid == NID_undef)
		return 0;
	if ((rc = io_dir_private(cs->dir, 0, e)) != 0)
		return rc > 0 ? 0 : -1;	/* no store yet: no entry */
	rc = -1;
	if (lower_dup(addr, &laddr, e) != 0)
		return -1;
	if ((lock = lock_store(cs, e)) < 0 || (path = entry_path(cs, laddr, e)) == NULL)
		goto out;
	if (certstore_get(cs, laddr, &ent, e) != 0) {
		rc = e->code == EX_NOINPUT ? 0 : -1;
		goto out;
	}
	rc = 0;
	if (ent.received_cipher != nid)
		rc = write_entry(path, &ent, laddr, nid, -1, e) == 0 ? 1 : -1;
	certstore_entry_free(&ent);
out:
	if (lock >= 0)
		close(lock);
	free(path);
	free(laddr);
	return rc;
}

/* ---- issue 13: for smime-certs ---- */

const char *
certstore_origin_name(int origin)
{
	switch (origin) {
	case CERTSTORE_IMPORTED: return "imported";
	case CERTSTORE_PINNED: return "pinned";
	default: return "harvested";
	}
}

const char *
certstore_dir(const struct certstore *cs)
{
	return cs->dir;
}

int
certstore_replace(struct certstore *cs, const struct certstore_entry *ent, struct err *e)
{
	return put_entry(cs, ent, 0, PUT_REPLACE, 0, e) < 0 ? -1 : 0;
}

int
certstore_remove(struct certstore *cs, const char *addr, struct err *e)
{
	char *laddr = NULL, *path = NULL;
	int lock = -1, rc = -1, k;

	if ((k = io_dir_private(cs->dir, 0, e)) != 0)
		return k > 0 ? err_set(e, EX_NOINPUT, "%s: no certificate in the store", addr) : -1;
	if (lower_dup(addr, &laddr, e) != 0)
		return -1;
	if ((lock = lock_store(cs, e)) < 0 || (path = entry_path(cs, laddr, e)) == NULL)
		goto out;
	if (unlink(path) != 0) {
		if (errno == ENOENT)
			err_set(e, EX_NOINPUT, "%s: no certificate in the store", addr);
		else
			err_sys(e, EX_IOERR, "cannot remove %s", path);
		goto out;
	}
	rc = io_fsync_dir(cs->dir, e);
out:
	if (lock >= 0)
		close(lock);
	free(path);
	free(laddr);
	return rc;
}

/* The address a file name stands for (certstore_filename's inverse), or NULL. */
static char *
unescape_name(const char *name)
{
	char *out = malloc(strlen(name) + 1), *o = out;
	const char *p;
	int hi, lo;

	if (out == NULL)
		return NULL;
	for (p = name; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '@' || *p == '_'
		    || *p == '+' || *p == '-' || (*p == '.' && p != name)) {
			*o++ = *p;
			continue;
		}
		if (*p != '%' || (hi = hexval(p[1])) < 0 || (lo = hexval(p[2])) < 0)
			break;
		*o++ = (char)(hi << 4 | lo);
		p += 2;
	}
	*o = '\0';
	if (*p != '\0' || out[0] == '\0' || strlen(out) != (size_t)(o - out)) {
		free(out);
		return NULL;
	}
	return out;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **
certstore_addresses(struct certstore *cs, struct err *e)
{
	struct dirent *d;
	DIR *dp;
	char **v, **nv, *a;
	size_t n = 0;

	if ((v = calloc(1, sizeof *v)) == NULL) {
		err_set(e, EX_OSERR, "out of memory");
		return NULL;
	}
	if ((dp = opendir(cs->dir)) == NULL) {
		if (errno == ENOENT)
			return v;	/* created on first use */
		err_sys(e, EX_IOERR, "cannot read %s", cs->dir);
		free(v);
		return NULL;
	}
	while ((d = readdir(dp)) != NULL) {
		if (d->d_name[0] == '.' || (a = unescape_name(d->d_name)) == NULL)
			continue;	/* the lock, temporary files, strangers */
		if ((nv = realloc(v, (n + 2) * sizeof *v)) == NULL) {
			free(a);
			closedir(dp);
			keys_addrs_free(v);
			err_set(e, EX_OSERR, "out of memory");
			return NULL;
		}
		v = nv;
		v[n++] = a;
		v[n] = NULL;
	}
	closedir(dp);
	qsort(v, n, sizeof *v, cmp_str);
	return v;
}
