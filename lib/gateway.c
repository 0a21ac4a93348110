/* gateway.c — secmail-gateway's policy file, local identities, and a first look at a
 * message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "ar.h"
#include "certstore.h"
#include "envelope.h"
#include "envmsg.h"
#include "gateway.h"
#include "io.h"
#include "msg.h"
#include "param.h"
#include "rfc2047.h"

static const char *const known_keys[] = {
	"keys", "cert_dir", "ca_file", "ca_path", "authserv_id", "require_encryption",
	"cipher", "sendmail", "tools", "sign", "harvest", "header_protection", "obscure_subject",
	NULL,
};

static const char *
get(const struct conf *cf, const char *key, const char *def)
{
	const char *v = conf_get(cf, NULL, key);

	return v != NULL ? v : def;
}

static int
flag(const struct conf *cf, const char *key, int def, int *out, struct err *e)
{
	const char *v = conf_get(cf, NULL, key);

	if (v == NULL) {
		*out = def;
		return 0;
	}
	if ((*out = conf_bool(v)) < 0)
		return err_set(e, EX_CONFIG, "%s:%d: %s: expected on or off", cf->path,
		    conf_line(cf, NULL, key), key);
	return 0;
}

int
gw_policy_load(struct gw_policy *p, const char *path, const char *tools_default,
    struct err *e)
{
	const struct conf_section *s;
	size_t i, j;
	int rc;

	memset(p, 0, sizeof *p);
	conf_init(&p->cf);
	if (conf_load(&p->cf, path, 0, e) != 0) {
		e->code = EX_CONFIG;	/* a policy that cannot be read is the administrator's */
		return -1;
	}
	if (p->cf.n > 1)
		return err_set(e, EX_CONFIG, "%s:%d: a policy has no account sections", path,
		    p->cf.s[1].n > 0 ? p->cf.s[1].v[0].line : 0);
	s = &p->cf.s[0];
	for (i = 0; i < s->n; i++) {
		for (j = 0; known_keys[j] != NULL && strcmp(known_keys[j], s->v[i].key) != 0; j++)
			;
		if (known_keys[j] == NULL)
			return err_set(e, EX_CONFIG, "%s:%d: unknown setting '%s'", path, s->v[i].line,
			    s->v[i].key);
	}
	p->keys = get(&p->cf, "keys", "/var/lib/secmail/keys");
	p->store = get(&p->cf, "cert_dir", "/var/lib/secmail/certs");
	p->ca_file = get(&p->cf, "ca_file", NULL);
	p->ca_path = get(&p->cf, "ca_path", NULL);
	p->authserv = get(&p->cf, "authserv_id", NULL);
	p->cipher = get(&p->cf, "cipher", NULL);
	p->sendmail = get(&p->cf, "sendmail", "/usr/sbin/sendmail");
	p->tools = get(&p->cf, "tools", tools_default);
	p->require = get(&p->cf, "require_encryption", "");
	p->obscure = get(&p->cf, "obscure_subject", "");
	if (flag(&p->cf, "sign", 1, &p->sign, e) != 0 || flag(&p->cf, "harvest", 1, &p->harvest, e) != 0
	    || flag(&p->cf, "header_protection", 1, &p->hp, e) != 0)
		return -1;
	if (p->cipher != NULL && env_cipher_parse(p->cipher) == ENV_CIPHER_NONE)
		return err_set(e, EX_CONFIG, "%s:%d: cipher: unknown cipher '%s'", path,
		    conf_line(&p->cf, NULL, "cipher"), p->cipher);
	if (p->cipher != NULL && env_cipher_is_weak(env_cipher_parse(p->cipher)))
		return err_set(e, EX_CONFIG, "%s:%d: cipher: %s is weak: a gateway sends nothing "
		    "weaker than AES", path, conf_line(&p->cf, NULL, "cipher"), p->cipher);
	if (p->tools == NULL)
		return err_set(e, EX_CONFIG, "%s: where the secmail tools are is not known: set "
		    "'tools'", path);
	for (i = 0; i < 3; i++) {
		const char *v = i == 0 ? p->keys : i == 1 ? p->store : p->tools;

		if (*v != '/')
			return err_set(e, EX_CONFIG, "%s: %s: not an absolute path: %s", path,
			    i == 0 ? "keys" : i == 1 ? "cert_dir" : "tools", v);
	}
	/* Keys only the gateway's user may change (and the tools refuse keys others can read). */
	if ((rc = io_dir_private(p->keys, 0, e)) != 0) {
		if (rc > 0)
			err_set(e, EX_CONFIG, "keys %s: no such directory", p->keys);
		e->code = EX_CONFIG;
		return -1;
	}
	return 0;
}

void
gw_policy_free(struct gw_policy *p)
{
	conf_free(&p->cf);
}

/* Is addr's domain in the list (domains separated by white space or commas; "*": all)? */
static int
domain_listed(const char *s, const char *addr)
{
	const char *d = strrchr(addr, '@');
	size_t n;

	if (d == NULL)
		return 0;
	d++;
	while (*s != '\0') {
		s += strspn(s, " \t,");
		n = strcspn(s, " \t,");
		if (n > 0 && ((n == 1 && *s == '*') || (strlen(d) == n && strncasecmp(s, d, n) == 0)))
			return 1;
		s += n;
	}
	return 0;
}

int
gw_required(const struct gw_policy *p, const char *addr)
{
	return domain_listed(p->require, addr);
}

int
gw_obscured(const struct gw_policy *p, const char *addr)
{
	return p->hp && domain_listed(p->obscure, addr);
}

static int
is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int
gw_ident(const struct gw_policy *p, const char *addr, struct gw_ident *id)
{
	struct err e;
	char *name;
	int ok;

	id->n = 0;
	if (*addr == '\0' || (name = certstore_filename(addr, &e)) == NULL)
		return 0;
	ok = (size_t)snprintf(id->cert, PATH_MAX, "%s/%s.pem", p->keys, name) < PATH_MAX
	    && (size_t)snprintf(id->key, PATH_MAX, "%s/%s.key", p->keys, name) < PATH_MAX
	    && (size_t)snprintf(id->pass, PATH_MAX, "%s/%s.pass", p->keys, name) < PATH_MAX;
	free(name);
	if (!ok || !is_file(id->cert) || !is_file(id->key))
		return 0;
	id->argv[id->n++] = "--cert";
	id->argv[id->n++] = id->cert;
	id->argv[id->n++] = "--key";
	id->argv[id->n++] = id->key;
	if (is_file(id->pass)) {
		id->argv[id->n++] = "--pass-file";
		id->argv[id->n++] = id->pass;
	}
	return 1;
}

static int
is_pkcs7_mime(const struct msg_header *h)
{
	const struct msg_field *f = msg_header_get(h, "Content-Type");
	struct mime_type t;
	struct err e;
	int r;

	if (f == NULL || mime_type_parse(f->value, 0, &t, &e) != 0)
		return 0;
	r = mime_type_is(&t, "application", "pkcs7-mime")
	    || mime_type_is(&t, "application", "x-pkcs7-mime");
	mime_type_free(&t);
	return r;
}

static enum gw_kind
kind_of(const struct msg_header *h)
{
	const struct msg_field *f = msg_header_get(h, "Content-Type");
	struct mime_type t;
	struct err e;
	enum gw_kind k = GW_PLAIN;
	const char *st;

	if (f == NULL || mime_type_parse(f->value, 0, &t, &e) != 0)
		return GW_PLAIN;
	st = mime_type_param(&t, "smime-type");
	if (mime_type_is(&t, "multipart", "signed"))
		k = GW_SIGNED;
	else if (mime_type_is(&t, "application", "pkcs7-mime")
	    || mime_type_is(&t, "application", "x-pkcs7-mime"))
		/* without smime-type (s-nail, old clients) it is an envelope in practice */
		k = st != NULL && (strcasecmp(st, "signed-data") == 0
		    || strcasecmp(st, "certs-only") == 0) ? GW_SIGNED : GW_ENCRYPTED;
	mime_type_free(&t);
	return k;
}

/* Read the header of the message on fd; 0 and h filled, 1 when it has none that can be read,
 * -1 on I/O errors. fd is rewound either way. */
static int
header_of(int fd, struct msg_header *h, struct err *e)
{
	struct io_in in;
	int rc;

	msg_header_init(h);
	if (lseek(fd, 0, SEEK_SET) != 0 || io_in_init(&in, fd, "message", e) != 0)
		return err_sys(e, EX_IOERR, "cannot read a temporary file");
	rc = msg_header_read(&in, h, e) == 0 ? 0 : e->code == EX_DATAERR ? 1 : -1;
	io_in_free(&in);
	if (lseek(fd, 0, SEEK_SET) != 0)
		return err_sys(e, EX_IOERR, "cannot rewind a temporary file");
	return rc;
}

/* Is the Content-Transfer-Encoding base64? */
static int
is_base64(const struct msg_header *h)
{
	const struct msg_field *f = msg_header_get(h, "Content-Transfer-Encoding");
	const char *v;

	if (f == NULL)
		return 0;
	v = f->value + strspn(f->value, " \t\r\n");
	return strncasecmp(v, "base64", 6) == 0 && strcspn(v + 6, " \t\r\n(;") == 0;
}

/* What an application/pkcs7-mime body holds, by its ContentInfo's contentType (RFC 5652
 * §3), read from fd at off: the label is no proof, and clients that leave out smime-type
 * use the same label for signed-data, whose content is only base64. Whatever is not an
 * envelope or signed-data is plain. */
static enum gw_kind
cms_kind(int fd, off_t off, const struct msg_header *h)
{
	struct envmsg_bodysrc bs;
	struct ber_src src;
	struct io_in in;
	struct err e;
	enum env_content c = ENV_CT_UNKNOWN;

	if (lseek(fd, off, SEEK_SET) != off || io_in_init(&in, fd, "message", &e) != 0)
		return GW_PLAIN;
	if (envmsg_bodysrc_init(&bs, &in, is_base64(h), &e) == 0) {
		src = envmsg_bodysrc_src(&bs);
		c = env_content_type(&src);
	}
	envmsg_bodysrc_free(&bs);
	io_in_free(&in);
	return c == ENV_CT_ENVELOPED || c == ENV_CT_AUTH_ENVELOPED ? GW_ENCRYPTED
	    : c == ENV_CT_SIGNED ? GW_SIGNED : GW_PLAIN;
}

/* Does the From field value show an address other than spec: in its display name, a
 * comment or a group name, RFC 2047 encoded or not, with "@" or a look-alike (U+FF20,
 * U+FE6B)? A reader shows "Boss <boss@example.org>" <alice@example.org> as the boss. */
static int
shows_other(const char *value, const char *spec)
{
	static const char *const ats[] = { "@", "\xef\xbc\xa0", "\xef\xb9\xab", NULL };
	struct err e;
	char *d = rfc2047_decode(value, &e), *p;
	size_t n = strlen(spec), i;
	int r = 0;

	if (d == NULL && (d = strdup(value)) == NULL)
		return 1;
	for (p = d; *p != '\0'; p++)
		if (strncasecmp(p, spec, n) == 0)
			memset(p, ' ', n);
	for (i = 0; ats[i] != NULL && !r; i++)
		r = strstr(d, ats[i]) != NULL;
	free(d);
	return r;
}

int
gw_inspect(int fd, enum gw_kind *kind, char **from, struct err *e)
{
	struct msg_header h;
	struct addr_list al = { 0 };
	const struct msg_field *f;
	struct err ae;
	int rc;

	*kind = GW_PLAIN;
	*from = NULL;
	if ((rc = header_of(fd, &h, e)) < 0) {
		msg_header_free(&h);
		return -1;
	}
	if (rc == 0) {
		*kind = kind_of(&h);
		if (is_pkcs7_mime(&h)) {
			*kind = cms_kind(fd, (off_t)h.bytes, &h);
			if (lseek(fd, 0, SEEK_SET) != 0) {
				msg_header_free(&h);
				return err_sys(e, EX_IOERR, "cannot rewind a temporary file");
			}
		}
		if (msg_header_count(&h, "From") == 1 && (f = msg_header_get(&h, "From")) != NULL
		    && addr_parse(f->value, &al, &ae) == 0 && al.n == 1
		    && !shows_other(f->value, al.v[0].spec))
			*from = strdup(al.v[0].spec);
		addr_list_free(&al);
	}
	msg_header_free(&h);
	return 0;
}

static int
has_bare_cr(const struct msg_header *h)
{
	size_t i, k;

	for (i = 0; i < h->n; i++)
		for (k = 0; k < h->f[i].rawlen; k++)
			if (h->f[i].raw[k] == '\r' && (k + 1 >= h->f[i].rawlen
			    || h->f[i].raw[k + 1] != '\n'))
				return 1;
	return 0;
}

int
gw_strip_verdicts(int *fd, const char *authserv, struct err *e)
{
	struct msg_header h;
	struct io_in in;
	size_t k = 0;
	int out = -1, rc = 0;

	msg_header_init(&h);
	h.lenient = 1;	/* nothing in the input is an error: the message goes on */
	if (lseek(*fd, 0, SEEK_SET) != 0 || io_in_init(&in, *fd, "message", e) != 0)
		return err_sys(e, EX_IOERR, "cannot read a temporary file");
	if (msg_header_read(&in, &h, e) != 0) {
		rc = -1;
	} else if ((k = ar_strip(&h, authserv)) > 0 || h.defect[0] != '\0' || has_bare_cr(&h)) {
		msg_header_no_bare_cr(&h);
		if ((out = msg_spool(&in, &h, e)) < 0)
			rc = -1;
	}
	io_in_free(&in);
	msg_header_free(&h);
	if (rc != 0)
		return -1;
	if (out >= 0) {
		close(*fd);
		*fd = out;
	} else if (lseek(*fd, 0, SEEK_SET) != 0) {
		return err_sys(e, EX_IOERR, "cannot rewind a temporary file");
	}
	return (int)k;
}

int
gw_verdict(int fd, const char *authserv, char *out, size_t n, struct err *e)
{
	struct msg_header h;
	const char *v;
	size_t i;
	int rc;

	out[0] = '\0';
	if ((rc = header_of(fd, &h, e)) < 0) {
		msg_header_free(&h);
		return -1;
	}
	for (i = 0; rc == 0 && (i = msg_header_next(&h, "Authentication-Results", i)) != (size_t)-1; i++)
		if (ar_claims(h.f[i].value, authserv) && (v = strstr(h.f[i].value, "smime=")) != NULL) {
			snprintf(out, n, "%.*s", (int)strcspn(v, " \t;"), v);
			break;
		}
	msg_header_free(&h);
	return 0;
}
