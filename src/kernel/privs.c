/* Dropping capabilities after load, without libcap: capset(2) and prctl(2). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include "log.h"
#include "privs.h"

/* What the running tracer still uses, and why:
 * CAP_SYS_ADMIN        setns() into each network namespace to read its
 *                      sockets, counters and sysctls
 * CAP_SYS_PTRACE       open other processes' /proc/PID/ns/net and fd tables
 * CAP_DAC_READ_SEARCH  list /proc/PID/fd of other users' processes
 * CAP_BPF, CAP_PERFMON read the maps and iterators already loaded (kernels
 *                      that check them on every bpf() call)
 */
static const int keep[] = {
	CAP_SYS_ADMIN, CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH, CAP_BPF, CAP_PERFMON,
};

static int last_cap(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int last = CAP_LAST_CAP;

	if (f) {
		if (fscanf(f, "%d", &last) != 1)
			last = CAP_LAST_CAP;
		fclose(f);
	}
	return last;
}

static int kept(const int *keep, size_t nkeep, int cap)
{
	for (size_t i = 0; i < nkeep; i++)
		if (keep[i] == cap)
			return 1;
	return 0;
}

/* Keep only keep[] (nothing when nkeep is 0) in every set, the bounding
 * set included, and set no_new_privs.
 */
static int narrow(const int *keep, size_t nkeep)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	int last = last_cap(), err = 0;

	if (syscall(SYS_capget, &hdr, data)) {
		err = -errno;
		p_warn("cannot read this process's capabilities: %s", strerror(errno));
		return err;
	}
	/* nothing to give up (a plain user) */
	if (!(data[0].permitted | data[1].permitted))
		return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ? -errno : 0;
	/* The bounding set first: dropping from it needs CAP_SETPCAP, which
	 * the capset below gives up. Without CAP_SETPCAP (a systemd unit's
	 * CapabilityBoundingSet leaves it out) whoever started us has set the
	 * bounding set already, and the capset below still narrows what we
	 * hold.
	 */
	for (int cap = 0; cap <= last; cap++)
		if (!kept(keep, nkeep, cap) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) &&
		    errno != EINVAL && errno != EPERM && !err)
			err = -errno;
	for (int i = 0; i < 2; i++) {
		uint32_t mask = 0;

		for (size_t k = 0; k < nkeep; k++)
			if (keep[k] / 32 == i)
				mask |= 1u << (keep[k] % 32);
		data[i].effective &= mask;
		data[i].permitted &= mask;
		data[i].inheritable = 0;
	}
	if (syscall(SYS_capset, &hdr, data) && !err)
		err = -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) && !err)
		err = -errno;
	return err;
}

int privs_drop(void)
{
	int err = narrow(keep, sizeof(keep) / sizeof(keep[0]));

	if (err)
		p_warn("cannot drop the capabilities tracing no longer needs: %s",
		       strerror(-err));
	return err;
}

int privs_drop_all(void)
{
	int err = narrow(NULL, 0);

	if (err)
		p_warn("cannot drop this process's capabilities: %s", strerror(-err));
	return err;
}
