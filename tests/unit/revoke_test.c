/* revoke_test.c — the revocation settings (built-in < configuration < environment < command
 * line), reason codes and their policy (RFC 5280 §5.3.1). The checks themselves run against
 * real servers in tests/revoke-verify.bats. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "revoke.h"
#include "tap.h"

static int
conf_text(struct conf *c, const char *text)
{
	char path[] = "/tmp/revoke_test.XXXXXX";
	struct err e;
	int fd = mkstemp(path), rc;

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		return -1;
	close(fd);
	conf_init(c);
	rc = conf_load(c, path, 0, &e);
	unlink(path);
	return rc;
}

int
main(void)
{
	struct revoke_opts o;
	struct conf c;
	struct err e;
	enum revoke_mode m;
	char buf[256];

	ok(revoke_mode_parse("soft", &m) == 0 && m == REVOKE_SOFT, "soft");
	ok(revoke_mode_parse("strict", &m) == 0 && m == REVOKE_STRICT, "strict");
	ok(revoke_mode_parse("off", &m) == 0 && m == REVOKE_OFF, "off");
	ok(revoke_mode_parse("Strict", &m) != 0 && revoke_mode_parse("", &m) != 0, "nothing else");

	is_str(revoke_reason_name(1), "keyCompromise", "reason 1");
	is_str(revoke_reason_name(2), "cACompromise", "reason 2");
	is_str(revoke_reason_name(4), "superseded", "reason 4");
	is_str(revoke_reason_name(10), "aACompromise", "reason 10");
	is_str(revoke_reason_name(-1), "unspecified", "no reason");
	is_str(revoke_reason_name(99), "unspecified", "an unknown reason");
	ok(revoke_reason_voids_past(1) && revoke_reason_voids_past(2) && revoke_reason_voids_past(10)
	    && revoke_reason_voids_past(0) && revoke_reason_voids_past(-1)
	    && revoke_reason_voids_past(6), "compromise, unspecified, none, hold void the past");
	ok(!revoke_reason_voids_past(3) && !revoke_reason_voids_past(4) && !revoke_reason_voids_past(5)
	    && !revoke_reason_voids_past(9), "affiliationChanged, superseded, cessation, "
	    "privilegeWithdrawn do not");

	/* Built-in defaults. */
	unsetenv("SECMAIL_REVOCATION");
	unsetenv("SECMAIL_CRL_FILE");
	unsetenv("SECMAIL_CRL_PATH");
	unsetenv("SECMAIL_FETCH_TIMEOUT");
	unsetenv("SECMAIL_REVOCATION_CACHE");
	setenv("XDG_CACHE_HOME", "/x/cache", 1);
	conf_init(&c);
	revoke_opts_init(&o);
	ok(revoke_opts_defaults(&o, &c, buf, sizeof buf, &e) == 0, "defaults");
	ok(o.mode == REVOKE_SOFT && o.fetch == 1 && o.timeout == REVOKE_TIMEOUT && o.crl_file == NULL,
	    "soft, fetching, %d seconds", REVOKE_TIMEOUT);
	is_str(o.cache_dir, "/x/cache/secmail/revocation", "cache under XDG_CACHE_HOME");
	unsetenv("XDG_CACHE_HOME");
	setenv("HOME", "/home/u", 1);
	ok(revoke_default_cache(buf, sizeof buf) != NULL, "a cache under HOME");
	is_str(buf, "/home/u/.cache/secmail/revocation", "~/.cache/secmail/revocation");
	conf_free(&c);

	/* Configuration, then the environment over it, then the command line over both. */
	ok(conf_text(&c, "revocation strict\ncrl_file /c/file\nfetch off\nfetch_timeout 2\n"
	    "revocation_cache /c/cache\n") == 0, "a configuration");
	revoke_opts_init(&o);
	ok(revoke_opts_defaults(&o, &c, buf, sizeof buf, &e) == 0 && o.mode == REVOKE_STRICT
	    && o.fetch == 0 && o.timeout == 2 && strcmp(o.crl_file, "/c/file") == 0
	    && strcmp(o.cache_dir, "/c/cache") == 0, "taken from the file");
	setenv("SECMAIL_REVOCATION", "off", 1);
	setenv("SECMAIL_CRL_PATH", "/env/crls", 1);
	revoke_opts_init(&o);
	ok(revoke_opts_defaults(&o, &c, buf, sizeof buf, &e) == 0 && o.mode == REVOKE_OFF
	    && o.crl_file == NULL && strcmp(o.crl_path, "/env/crls") == 0,
	    "the environment wins (the CRL settings as one group)");
	revoke_opts_init(&o);
	o.mode = REVOKE_SOFT;
	o.crl_file = "/cli/file";
	ok(revoke_opts_defaults(&o, &c, buf, sizeof buf, &e) == 0 && o.mode == REVOKE_SOFT
	    && strcmp(o.crl_file, "/cli/file") == 0 && o.crl_path == NULL, "the command line wins");
	unsetenv("SECMAIL_REVOCATION");
	unsetenv("SECMAIL_CRL_PATH");
	conf_free(&c);

	/* Bad values are configuration errors. */
	ok(conf_text(&c, "revocation maybe\n") == 0, "a bad mode");
	revoke_opts_init(&o);
	ok(revoke_opts_defaults(&o, &c, buf, sizeof buf, &e) != 0 && e.code == EX_CONFIG,
	    "refused: %s", e.msg);
	conf_free(&c);
	ok(conf_text(&c, "fetch_timeout 0\n") == 0, "a zero timeout");
	revoke_opts_init(&o);
	ok(revoke_opts_defaults(&o, &c, buf, sizeof buf, &e) != 0 && e.code == EX_CONFIG,
	    "refused: %s", e.msg);
	conf_free(&c);
	setenv("SECMAIL_FETCH_TIMEOUT", "12x", 1);
	conf_init(&c);
	revoke_opts_init(&o);
	ok(revoke_opts_defaults(&o, &c, buf, sizeof buf, &e) != 0 && e.code == EX_CONFIG,
	    "a bad SECMAIL_FETCH_TIMEOUT refused: %s", e.msg);
	unsetenv("SECMAIL_FETCH_TIMEOUT");
	conf_free(&c);

	/* The option parser. */
	revoke_opts_init(&o);
	ok(revoke_getopt(REVOKE_OPT_MODE, "strict", &o, &e) == 1 && o.mode == REVOKE_STRICT,
	    "--revocation strict");
	ok(revoke_getopt(REVOKE_OPT_MODE, "never", &o, &e) == -1 && e.code == EX_USAGE,
	    "--revocation never: usage");
	ok(revoke_getopt(REVOKE_OPT_NO_FETCH, NULL, &o, &e) == 1 && o.fetch == 0, "--no-fetch");
	ok(revoke_getopt('x', NULL, &o, &e) == 0, "other options are not ours");
	return tap_done();
}
