/* conf_test — the configuration file parser: sections, inheritance, defaults, errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "tap.h"

static char dir[] = "/tmp/conf_test.XXXXXX";

static const char *
put(const char *name, const char *text, int mode)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	chmod(path, (mode_t)mode);
	return path;
}

static int
load_fails(const char *text, const char *want)
{
	struct conf c;
	struct err e;
	int rc;

	conf_init(&c);
	rc = conf_load(&c, put("bad", text, 0600), 0, &e);
	conf_free(&c);
	return rc == -1 && e.code == EX_CONFIG && strstr(e.msg, want) != NULL;
}

int
main(void)
{
	struct conf c;
	struct err e;
	const char *p;

	if (mkdtemp(dir) == NULL)
		return 1;
	conf_init(&c);
	p = put("ok",
	    "# a comment\n"
	    "server fallback.example:25\n"
	    "defaults\n"
	    "  tls starttls\n"
	    "\n"
	    "account work\n"
	    "server smtp.work.example:587\n"
	    "user alice\n"
	    "from alice@work.example\n"
	    "account work2 : work\n"
	    "user bob\n"
	    "passwordeval  pass show  \"x y\"  \n"
	    "quoted \"  padded  \"\n"
	    "account default : work2\n", 0600);
	ok(conf_load(&c, p, 0, &e) == 0, "a well-formed file loads");
	is_str(c.default_account, "work2", "account default : NAME sets the default");
	is_str(conf_get(&c, NULL, "server"), "fallback.example:25", "keys before any section are defaults");
	is_str(conf_get(&c, NULL, "tls"), "starttls", "defaults section key");
	is_str(conf_get(&c, "work", "server"), "smtp.work.example:587", "account overrides defaults");
	is_str(conf_get(&c, "work2", "server"), "smtp.work.example:587", "inherits from parent");
	is_str(conf_get(&c, "work2", "user"), "bob", "child overrides parent");
	is_str(conf_get(&c, "work2", "tls"), "starttls", "falls back to defaults");
	is_str(conf_get(&c, "work2", "passwordeval"), "pass show  \"x y\"", "value is the rest of the line");
	is_str(conf_get(&c, "work2", "quoted"), "  padded  ", "quotes keep spaces");
	ok(conf_get(&c, "work", "nothere") == NULL, "unset key is NULL");
	ok(conf_line(&c, "work2", "user") == 11, "line number recorded");
	ok(conf_account(&c, "nope") == NULL, "unknown account is NULL");
	conf_free(&c);

	ok(conf_load(&c, "/nonexistent/x", 1, &e) == 1, "optional missing file returns 1");
	ok(conf_load(&c, "/nonexistent/x", 0, &e) == -1 && e.code == EX_CONFIG, "required missing file fails");
	ok(load_fails("account a\naccount a\n", "defined twice"), "duplicate account refused");
	ok(load_fails("account a : b\n", "no earlier account b"), "unknown parent refused");
	ok(load_fails("account default : zz\n", "default account zz"), "undefined default refused");
	ok(load_fails("account\n", "bad account name"), "account without name refused");
	ok(load_fails("account a\ndefaults\n", "before any account"), "defaults after account refused");
	ok(load_fails("key \"open\n", "unterminated quote"), "unterminated quote refused");
	{
		char *big = malloc(CONF_MAX_LINE + 10);

		memset(big, 'a', CONF_MAX_LINE + 5);
		big[CONF_MAX_LINE + 5] = '\0';
		ok(load_fails(big, "too long"), "over-long line refused");
		free(big);
	}
	ok(conf_load(&c, put("ww", "a b\n", 0666), 0, &e) == -1 && strstr(e.msg, "writable by others"),
	    "world-writable file refused");
	ok(conf_bool("Yes") == 1 && conf_bool("off") == 0 && conf_bool("maybe") == -1, "conf_bool");

	setenv("XDG_CONFIG_HOME", dir, 1);
	{
		char sub[600];

		snprintf(sub, sizeof sub, "%s/secmail", dir);
		mkdir(sub, 0700);
		put("secmail/mailsend.conf", "server found.example\n", 0600);
	}
	ok(conf_find(&c, "mailsend.conf", &e) == 0 && strcmp(conf_get(&c, NULL, "server"), "found.example") == 0,
	    "conf_find reads $XDG_CONFIG_HOME/secmail/NAME");
	conf_free(&c);
	{
		char cmd[600];

		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			return 1;
	}
	return tap_done();
}
