/* Opening the file records are written to. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "log.h"
#include "outfile.h"

int outfile_open(const char *path)
{
	int fd;

	if (!path)
		return STDOUT_FILENO;
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		p_err("cannot open output file '%s': %s", path, strerror(errno));
	return fd;
}

void outfile_close(int fd)
{
	if (fd > STDOUT_FILENO)
		close(fd);
}
