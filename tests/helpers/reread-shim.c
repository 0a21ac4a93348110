/* reread-shim.c — LD_PRELOAD shim for tests of programs that read a file twice (mime-pack):
 * the first time the program rewinds a descriptor of the file REREAD_FILE names, that file is
 * changed as another process could change it between the two reads. REREAD_BYTES (hex) is
 * written at offset REREAD_AT (in place), or appended when REREAD_AT is unset; with
 * REREAD_AT set and REREAD_BYTES empty the file is cut to REREAD_AT bytes. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static void
change(int fd)
{
	static int done;
	const char *f = getenv("REREAD_FILE"), *b = getenv("REREAD_BYTES");
	const char *at = getenv("REREAD_AT");
	char path[64], target[4096];
	unsigned char bytes[4096];
	size_t n = 0;
	ssize_t k;
	int w;

	if (done || f == NULL || b == NULL)
		return;
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	if ((k = readlink(path, target, sizeof target - 1)) < 0)
		return;
	target[k] = '\0';
	if (strcmp(target, f) != 0)
		return;
	done = 1;
	for (; b[0] && b[1] && n < sizeof bytes; b += 2) {
		char h[3] = { b[0], b[1], '\0' };

		bytes[n++] = (unsigned char)strtoul(h, NULL, 16);
	}
	if ((w = open(f, O_WRONLY | (at ? 0 : O_APPEND))) < 0)
		_exit(99);
	if (at && n == 0 ? ftruncate(w, atoll(at)) != 0 :
	    (at ? pwrite(w, bytes, n, atoll(at)) : write(w, bytes, n)) != (ssize_t)n)
		_exit(99);
	close(w);
}

off_t
lseek(int fd, off_t off, int whence)
{
	static off_t (*real)(int, off_t, int);

	if (real == NULL)
		real = (off_t (*)(int, off_t, int))dlsym(RTLD_NEXT, "lseek");
	if (off == 0 && whence == SEEK_SET)
		change(fd);
	return real(fd, off, whence);
}

off_t lseek64(int fd, off_t off, int whence) __attribute__((alias("lseek")));
