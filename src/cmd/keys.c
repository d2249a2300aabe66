/* Keys from the terminal, read without waiting: the tracing loop polls
 * them from its timer table.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include "keys.h"

void keys_open(struct keys *k, bool *quit)
{
	struct termios t;

	k->fd = -1;
	k->raw = false;
	k->quit = quit;
	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &k->saved))
		return;
	t = k->saved;
	t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	t.c_cc[VMIN] = 0;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSANOW, &t))
		return;
	k->raw = true;
	k->fd = STDIN_FILENO;
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
	if (k->raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &k->saved);
	k->raw = false;
	k->fd = -1;
}
