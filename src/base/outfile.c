/* Opening the files tcptrail writes, safely. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include "log.h"
#include "outfile.h"

/* The null device is 1:3 on Linux (Documentation/admin-guide/devices.txt). */
static bool is_null_device(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && major(st->st_rdev) == 1 && minor(st->st_rdev) == 3;
}

/* Open with flags, refusing links and anything but a regular file or the
 * null device. O_NONBLOCK keeps a planted FIFO from blocking the open; it
 * is cleared once the file is known to be regular.
 */
static int open_checked(const char *path, int flags, mode_t mode, const char *what)
{
	struct stat st;
	int fd = open(path, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, mode);

	if (fd < 0) {
		int err = errno;

		/* Say what is there rather than what open() made of it: in a
		 * sticky directory a planted link may give EACCES, not ELOOP.
		 */
		if (!lstat(path, &st) && S_ISLNK(st.st_mode))
			p_err("%s '%s' is a symbolic link; tcptrail does not write through links",
			      what, path);
		else if (!lstat(path, &st) && S_ISFIFO(st.st_mode))
			p_err("%s '%s' is a FIFO; tcptrail writes regular files only", what, path);
		else if (err == EEXIST)
			p_err("%s '%s' already exists; a recording is always a new file", what,
			      path);
		else
			p_err("cannot open %s '%s': %s", what, path, strerror(err));
		return -1;
	}
	if (fstat(fd, &st) || !(S_ISREG(st.st_mode) || is_null_device(&st))) {
		p_err("%s '%s' is not a regular file; tcptrail writes regular files only "
		      "(use '-o -' for standard output)", what, path);
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

int outfile_open(const char *path)
{
	if (!path || !strcmp(path, "-"))
		return STDOUT_FILENO;
	return open_checked(path, O_WRONLY | O_CREAT | O_APPEND, 0644, "output file");
}

int outfile_create(const char *path, const char *what)
{
	return open_checked(path, O_WRONLY | O_CREAT | O_EXCL, 0600, what);
}

void outfile_close(int fd)
{
	if (fd > STDERR_FILENO)
		close(fd);
}

bool outfile_same(int a, int b)
{
	struct stat x, y;

	if (a < 0 || b < 0 || fstat(a, &x) || fstat(b, &y))
		return false;
	/* the null device may well be named twice */
	if (is_null_device(&x))
		return false;
	return x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}
