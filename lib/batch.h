/* batch.h — many messages in one process, for cron jobs and spools: the S/MIME tools load
 * their keys once and hand lib/batch one function that turns one message into one output. */
#ifndef SECMAIL_BATCH_H
#define SECMAIL_BATCH_H

#include <getopt.h>

#include "err.h"

/*
 * Inputs: FILE arguments (outputs under the same names in --out-dir), or the messages in a
 * Maildir's new/ (and with --cur its cur/, but not those flagged trashed or draft), whose
 * outputs go into another Maildir (--to-maildir), into the same one (--in-place), or to a
 * command (--exec, e.g. `mailsend -t -odq`).
 *
 * Work: the messages run through a worker process forked from the command once its keys are
 * loaded (so keys, passphrases and OpenSSL are set up once); it handles one message after
 * another with the command's own per-message function. A message that makes the function
 * exit (the single-message code paths end the process on errors) or crash ends only that
 * worker: the message is reported by name and a new worker goes on with the next one.
 *
 * Outputs are written to a temporary file, made durable for a group of messages at a time
 * (one syncfs(2) instead of an fsync per message; when it fails, an fsync per file, and an
 * output that cannot be synced is dropped, its input kept), then linked into place under
 * their final name (never replacing a file, except --force in --out-dir); only after the
 * directory is
 * synced is the input removed (Maildir modes; FILE arguments are never removed). An input
 * gone by the time its output would be linked (a mail reader moved it to cur/, or it was
 * deleted) gets no output: it would be a second copy. Maildir
 * outputs keep the input's unique name and carry a mark saying what was done, e.g.
 * "1700000000.M1P2.host,secmail=signed:2,S" (the name's ",S=" and ",W=" size fields are
 * dropped: the size changed). The state machine, so that a run killed at any point neither
 * loses nor duplicates a message:
 *   1. input present, no output: the message is processed (again);
 *   2. input present and its marked output present (killed between 5 and 6): the input is
 *      removed, nothing is processed; but only when the output is not older than the input's
 *      last change (ctime): an older output of that name is an earlier message's (names are
 *      reused by scripts), and the input is left in place and reported as failed;
 *   3. only the output: done.
 * Steps of one message: 4. output in tmp, 5. linked into new/ or cur/ and the directory
 * synced, 6. input removed. Names carrying the tool's own mark are outputs and never inputs
 * (reported, except with --in-place where they are at home).
 * Inputs of one run whose output names would be the same (they differ only in the dropped
 * size fields, or one is in new/ and one in cur/) are all left in place and reported: an
 * output is never taken for another input's. An output that appears under an input's name
 * during the run (someone else's) does not make the input done either.
 *
 * --exec CMD (Maildir only): each output is piped to `/bin/sh -c CMD`. Before CMD starts the
 * input is renamed with the mark ",secmail=exec", never over a file of that name (and the
 * directory synced); when CMD exits
 * 0 the input is removed, otherwise renamed back. A message still so marked when a later run
 * starts was being handed over when a run was killed: CMD may or may not have taken it, so
 * it is reported "in doubt" and left alone (never sent twice) until --force hands it over
 * again or someone removes it.
 *
 * "Already done" without a crash: with skip BATCH_SKIP_SIGNED a message that is signed, with
 * BATCH_SKIP_ENCRYPTED one that is encrypted, is skipped with a message unless --force;
 * an --out-dir output that exists is skipped unless --force. Verdict fields are never taken
 * as "already done": whoever sent the message could have written them.
 *
 * Reporting (stderr, through cli_warn): one line per input that failed or was skipped,
 * naming it; messages the per-message function prints are prefixed with the input's name
 * (cli_set_subject); a summary line when anything was not done.
 *
 * Directories: a Maildir that is read (its messages are signed or decrypted with the user's
 * key) and one that is written must belong to the user and be writable by no one else
 * (io_dir_private): else someone else could plant a message to be signed. So must --out-dir:
 * a file planted under an output's name would pass for the output (a forged verdict), and a
 * FILE that is its own output (given from inside --out-dir) fails, never replaced by it. The
 * input Maildir is locked (flock) for the run: a second run on it exits EX_TEMPFAIL at once.
 *
 * For tests: SECMAIL_BATCH_FAULT=POINT:N kills the process (SIGKILL, as kill -9) at the Nth
 * passage of POINT: "tmp" (an output complete in tmp/, before it is linked), "output" (after
 * it is linked, before its input is removed), "input" (after the input is removed), "exec-mark"
 * (input marked, CMD not started), "exec-done" (CMD exited 0, input not yet removed); "fsync"
 * makes the Nth output synced on its own fail with EIO (syncfs taken as failed); "crash",
 * "exit" and "hang" make the worker crash (SIGSEGV), exit with status 3 without a word (as a
 * sanitizer's report would) or hang at the Nth message; "gate" makes the worker create
 * $SECMAIL_BATCH_GATE.waiting before the Nth message and wait for $SECMAIL_BATCH_GATE.
 * SECMAIL_BATCH_TIMEOUT: seconds a worker may spend on one message (default 600) before it
 * is killed and the message counted as a transient failure; seconds the --exec command may
 * take before its process group is killed and its message left in doubt.
 */

/* A message as the per-message function sees it. */
struct batch_msg {
	int in;			/* the message, at offset 0 */
	int out;		/* where the output goes */
	const char *name;	/* the input, for messages */
	const char *out_name;	/* the output, for messages */
	int decrypted;		/* -1: unknown (standard input, FILE arguments); 1: a Maildir
				 * message whose name says smime-decrypt wrote it
				 * (",secmail=decrypted"); 0: a Maildir message it did not write */
};

/* Write the output for m->in to m->out: 0 when a complete output was written, -1 with e set
 * when not (e->code: a sysexits code; EX_TEMPFAIL, EX_IOERR, EX_CANTCREAT and EX_OSERR are
 * transient). It may also end the process, as the single-message paths do on errors: its
 * exit status is then taken as e->code. */
typedef int batch_fn(void *ctx, const struct batch_msg *m, struct err *e);

enum {
	BATCH_SKIP_SIGNED = 1,		/* multipart/signed, application/pkcs7-mime signed-data */
	BATCH_SKIP_ENCRYPTED = 2,	/* (auth)enveloped-data */
};

/* Options (the same in every tool; long options only, so they clash with no tool's). */
enum {
	BATCH_OPT_OUT_DIR = 0x4201,
	BATCH_OPT_MAILDIR,
	BATCH_OPT_TO_MAILDIR,
	BATCH_OPT_IN_PLACE,
	BATCH_OPT_EXEC,
	BATCH_OPT_CUR,
	BATCH_OPT_FORCE,
	BATCH_OPT_JOBS,
};

#define BATCH_MAX_JOBS 64

#define BATCH_LONGOPTS \
	{ "out-dir", required_argument, NULL, BATCH_OPT_OUT_DIR }, \
	{ "maildir", required_argument, NULL, BATCH_OPT_MAILDIR }, \
	{ "to-maildir", required_argument, NULL, BATCH_OPT_TO_MAILDIR }, \
	{ "in-place", no_argument, NULL, BATCH_OPT_IN_PLACE }, \
	{ "exec", required_argument, NULL, BATCH_OPT_EXEC }, \
	{ "cur", no_argument, NULL, BATCH_OPT_CUR }, \
	{ "force", no_argument, NULL, BATCH_OPT_FORCE }, \
	{ "jobs", required_argument, NULL, BATCH_OPT_JOBS }

/* The --help lines for them. */
#define BATCH_USAGE \
	"Batch mode (many messages, one process; see BATCH MODE in the manual):\n" \
	"      --out-dir DIR     process every FILE, each output to DIR under its name\n" \
	"      --maildir DIR     process the messages in the Maildir DIR/new ...\n" \
	"      --to-maildir DIR  ... into the Maildir DIR\n" \
	"      --in-place        ... back into the same Maildir\n" \
	"      --exec CMD        ... piping each to CMD (e.g. 'mailsend -t -odq')\n" \
	"      --cur             also the messages in DIR/cur\n" \
	"      --force           redo what is already done (see the manual)\n" \
	"      --jobs N          N messages at a time (default: one per CPU, at most 8)\n" \
	"  Batch exit status: 0 all done, 1 some failed, 75 some failed for now (retry).\n"

struct batch {
	const char *out_dir, *maildir, *to_maildir, *exec;
	int in_place, cur, force;
	int jobs;		/* --jobs; 0: one per CPU; -1: not a valid number */
	const char *done;	/* what the tool did, for marks and messages: "signed" */
	int skip;		/* BATCH_SKIP_* */
};

void batch_init(struct batch *b, const char *done, int skip);
/* Take option c (from getopt_long) if it is a batch option: 1, else 0. */
int batch_option(struct batch *b, int c, const char *arg);
/* Was batch mode asked for? */
int batch_active(const struct batch *b);
/* The options' combination with nfiles FILE arguments: NULL when usable, else what is wrong
 * (for cli_usage). */
const char *batch_check(const struct batch *b, int nfiles);

/* Single-message mode: m reads FILE (NULL or "-": standard input) and writes standard
 * output. -1 with e set (EX_NOINPUT) when FILE cannot be opened. */
int batch_single(struct batch_msg *m, const char *file, struct err *e);

/*
 * Run fn over every input. Returns the exit status: 0 every input done (or skipped as done
 * already), 1 some failed (or are in doubt), 75 (EX_TEMPFAIL) some failed and every failure
 * was transient (a re-run may do them). -1 with e set when the run could not start (a
 * directory that cannot be used: EX_CONFIG, EX_CANTCREAT; the Maildir locked by another
 * run: EX_TEMPFAIL): then nothing was touched.
 */
int batch_run(const struct batch *b, char **files, int nfiles, batch_fn *fn, void *ctx,
    struct err *e);

#endif
