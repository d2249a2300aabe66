/* Keys from the terminal, read without waiting: the tracing loop polls
 * them from its timer table.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>
#include "keys.h"

struct keys {
	int fd;			/* -1: the terminal went away */
	bool *quit;		/* set when q is typed */
	struct termios saved;	/* the terminal's mode, given back at close */
};

int keys_open(struct keys **out, bool *quit)
{
	struct termios saved, t;
	struct keys *k;

	*out = NULL;
	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved))
		return 0;
	if (!(k = calloc(1, sizeof(*k))))
		return -ENOMEM;
	t = saved;
	t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	t.c_cc[VMIN] = 0;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSANOW, &t)) {
		free(k);
		return 0;
	}
	k->fd = STDIN_FILENO;
	k->quit = quit;
	k->saved = saved;
	*out = k;
	return 0;
}

bool keys_quit(struct keys *k)
{
	char buf[64];
	ssize_t n;

	if (k->fd < 0)
		return false;
	/* VMIN 0, VTIME 0: read returns at once with what was typed */
	while ((n = read(k->fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] == 'q' || buf[i] == 'Q')
				return true;
	if (n == 0 || errno == EAGAIN || errno == EINTR)
		return false;
	k->fd = -1;	/* the terminal went away: no more keys */
	return false;
}

void keys_job(void *arg, uint64_t now_ns)
{
	struct keys *k = arg;

	(void)now_ns;
	if (keys_quit(k) && k->quit)
		*k->quit = true;
}

void keys_close(struct keys *k)
{
	if (!k)
		return;
	tcsetattr(STDIN_FILENO, TCSANOW, &k->saved);
	free(k);
}
