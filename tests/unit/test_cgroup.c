/* Cgroup paths: container ids and pod UIDs as runtimes name them, the
 * cgroup2 mount in mountinfo, subtrees.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <stdio.h>
#include "cgroup_names.h"
#include "cgroup_path.h"
#include "filter.h"
#include "harness.h"

#define ID64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID64B "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define UID "0b1c2d3e-1111-2222-3333-444455556666"
#define UIDU "0b1c2d3e_1111_2222_3333_444455556666"

static void container_ids_from_paths(void)
{
	static const struct {
		const char *path, *container, *pod;
	} cases[] = {
		{ "/system.slice/docker-" ID64 ".scope", ID64, "" },
		{ "/system.slice/containerd.service", "", "" },
		{ "/docker/" ID64, ID64, "" },
		{ "/machine.slice/libpod-" ID64 ".scope", ID64, "" },
		{ "/machine.slice/libpod-" ID64 ".scope/container", ID64, "" },
		{ "/kubepods.slice/kubepods-burstable.slice/"
		  "kubepods-burstable-pod0b1c2d3e_1111_2222_3333_444455556666.slice/"
		  "cri-containerd-" ID64 ".scope", ID64, "0b1c2d3e-1111-2222-3333-444455556666" },
		{ "/kubepods/besteffort/pod0b1c2d3e-1111-2222-3333-444455556666/" ID64, ID64,
		  "0b1c2d3e-1111-2222-3333-444455556666" },
		{ "/kubepods.slice/kubepods-pod0b1c2d3e_1111_2222_3333_444455556666.slice/"
		  "crio-" ID64 ".scope", ID64, "0b1c2d3e-1111-2222-3333-444455556666" },
		/* not quite */
		{ "/", "", "" },
		{ "/system.slice/docker-" ID64 "0.scope", "", "" },
		{ "/system.slice/docker-0123.scope", "", "" },
		{ "/user.slice/pod0b1c2d3e-1111-2222-3333-444455556666", "", "" },
		{ "/docker/0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", "", "" },
		{ "/srv/" ID64, "", "" },
		{ "/kubepods/pod0b1c2d3e-1111-2222-3333-44445555666/x", "", "" },
		/* inside a container: its id, whatever it names below */
		{ "/system.slice/docker-" ID64 ".scope/x/docker-" ID64B ".scope", ID64, "" },
		{ "/docker/" ID64 "/kubepods/besteffort/pod" UID "/" ID64B, ID64, "" },
		{ "/kubepods.slice/kubepods-pod" UIDU ".slice/cri-containerd-" ID64 ".scope/"
		  "docker-" ID64B ".scope", ID64, UID },
		{ "/kubepods/besteffort/pod" UID, "", UID },
		/* hostile: the runtimes' names where only a delegated user (or a
		 * container) could have made them
		 */
		{ "/user.slice/user-1000.slice/user@1000.service/app.slice/docker-" ID64 ".scope",
		  "", "" },
		{ "/user.slice/user-1000.slice/user@1000.service/system.slice/docker-" ID64
		  ".scope", "", "" },
		{ "/user.slice/user-1000.slice/user@1000.service/docker/" ID64, "", "" },
		{ "/user.slice/user-1000.slice/user@1000.service/kubepods.slice/kubepods-pod" UIDU
		  ".slice/cri-containerd-" ID64 ".scope", "", "" },
		{ "/user.slice/user-1000.slice/user@1000.service/libpod-" ID64 ".scope", "", "" },
		{ "/tttest.slice/docker-" ID64 ".scope", "", "" },
		{ "/tttest.slice/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod"
		  UIDU ".slice/cri-containerd-" ID64 ".scope", "", "" },
		{ "/system.slice/x.service/docker-" ID64 ".scope", "", "" },
		{ "/system.slice.d/docker-" ID64 ".scope", "", "" },
		{ "/xsystem.slice/docker-" ID64 ".scope", "", "" },
		{ "/system.slic/docker-" ID64 ".scope", "", "" },
		{ "/dockerx/" ID64, "", "" },
		{ "/srv/docker/" ID64, "", "" },
		{ "/kubepods-x/pod" UID "/" ID64, "", "" },
		{ "/kubepods/a/b/pod" UID "/" ID64, "", "" },
		{ "/system.slice/docker-" ID64 ".scopex", "", "" },
		{ "/system.slice/docker-" ID64 ".scop", "", "" },
		{ "/system.slice/docker--" ID64 ".scope", "", "" },
		{ "/system.slice/Docker-" ID64 ".scope", "", "" },
		{ "/system.slice/docker-" ID64 "/.scope", "", "" },
		{ "system.slice/docker-" ID64 ".scope", ID64, "" },	/* relative: the same place */
		{ "//system.slice//docker-" ID64 ".scope", ID64, "" },
		{ "", "", "" },
		{ "////", "", "" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cgroup_ids ids;

		cgroup_path_parse(cases[i].path, &ids);
		CHECK_STR(ids.container_id, cases[i].container);
		CHECK_STR(ids.pod_uid, cases[i].pod);
		if (strcmp(ids.container_id, cases[i].container) ||
		    strcmp(ids.pod_uid, cases[i].pod))
			fprintf(stderr, "  case %zu: %s\n", i, cases[i].path);
	}
}

static void cgroup2_mount_and_subtrees(void)
{
	static const char hybrid[] =
		"25 30 0:22 / /sys rw,nosuid shared:7 - sysfs sysfs rw\n"
		"31 25 0:26 / /sys/fs/cgroup ro,nosuid shared:9 - tmpfs tmpfs ro,mode=755\n"
		"32 31 0:27 / /sys/fs/cgroup/unified rw,nosuid shared:10 - cgroup2 cgroup2 rw\n"
		"33 31 0:28 / /sys/fs/cgroup/systemd rw shared:11 - cgroup cgroup rw,name=systemd\n";
	static const char unified[] =
		"29 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev shared:4 - cgroup2 cgroup2 rw,nsdelegate\n";
	static const char v1only[] =
		"33 31 0:28 / /sys/fs/cgroup/cpu rw shared:11 - cgroup cgroup rw,cpu\n";
	char m[256];

	CHECK(cgroup_path_find_mount(hybrid, m, sizeof(m)));
	CHECK_STR(m, "/sys/fs/cgroup/unified");
	CHECK(cgroup_path_find_mount(unified, m, sizeof(m)));
	CHECK_STR(m, "/sys/fs/cgroup");
	CHECK(!cgroup_path_find_mount(v1only, m, sizeof(m)));
	CHECK(!cgroup_path_find_mount("", m, sizeof(m)));
	CHECK(cgroup_path_within("/a/b", "/a"));
	CHECK(cgroup_path_within("/a", "/a/"));
	CHECK(!cgroup_path_within("/ab", "/a"));
	CHECK(cgroup_path_within("/x", "/"));
	CHECK(!cgroup_path_within("/", "/a"));
}

/* ids 1 (root), 2 (a docker scope), 3 (a service); 4 is gone */
static const struct cgroup_info *lookup(void *ctx, uint64_t id)
{
	static struct cgroup_info info;
	static const char *const paths[] = {
		NULL, "/", "/system.slice/docker-" ID64 ".scope", "/system.slice/web.service", NULL,
	};

	(void)ctx;
	memset(&info, 0, sizeof(info));
	info.id = id;
	info.path = id < 5 ? paths[id] : NULL;
	if (info.path)
		cgroup_path_parse(info.path, &info.ids);
	return &info;
}

static void filters_by_place(void)
{
	struct filter f;
	char err[128];

	filter_init(&f);
	f.lookup = lookup;
	CHECK(filter_match_where(&f, 7, 0));	/* nothing asked: everything */
	f.netns = 7;
	CHECK(filter_match_where(&f, 7, 4) && !filter_match_where(&f, 8, 2));
	f.netns = 0;
	f.cgroup = "/system.slice";
	CHECK(filter_match_where(&f, 7, 2) && filter_match_where(&f, 7, 3));
	CHECK(!filter_match_where(&f, 7, 1) && !filter_match_where(&f, 7, 4));
	CHECK(!filter_match_where(&f, 7, 0));	/* unknown is not kept */
	f.cgroup = NULL;
	CHECK(filter_parse_container(&f, "0123", err, sizeof(err)) == 0);
	CHECK(filter_match_where(&f, 7, 2) && !filter_match_where(&f, 7, 3));
	CHECK(filter_parse_container(&f, "1234", err, sizeof(err)) == 0);
	CHECK(!filter_match_where(&f, 7, 2));
	CHECK(filter_match_listener(&f, AF_INET, NULL, 80, 7, 2, 0, NULL) == false);
	CHECK(filter_parse_container(&f, "012", err, sizeof(err)) == -1);
}

/* A recording's cgroup names: the table grows from nothing past its first
 * sizes, keeps every id, replaces a renamed one, and stops at its bound.
 */
static void recorded_names_grow(void)
{
	struct cgroup_names *t = cgroup_names_new();
	char path[32];
	uint32_t n = CGROUP_NAMES_MAX + 10, found = 0;

	CHECK(t != NULL);
	if (!t)
		return;
	CHECK(cgroup_names_lookup(t, 5) == NULL);
	for (uint32_t i = 1; i <= n; i++) {
		snprintf(path, sizeof(path), "/g%u", i);
		cgroup_names_set(t, (uint64_t)i << 32 | i, path);
	}
	for (uint32_t i = 1; i <= n; i++) {
		const struct cgroup_info *c = cgroup_names_lookup(t, (uint64_t)i << 32 | i);

		snprintf(path, sizeof(path), "/g%u", i);
		if (c && c->path && !strcmp(c->path, path))
			found++;
	}
	CHECK(found == CGROUP_NAMES_MAX);
	cgroup_names_set(t, 1ull << 32 | 1, "/docker/" ID64);
	CHECK(!strcmp(cgroup_names_lookup(t, 1ull << 32 | 1)->ids.container_id, ID64));
	cgroup_names_set(t, 2ull << 32 | 2, NULL);
	CHECK(cgroup_names_lookup(t, 2ull << 32 | 2)->path == NULL);
	cgroup_names_free(t);
}

TEST_LIST(cgroup_tests) = {
	TEST_ENTRY(recorded_names_grow),
	TEST_ENTRY(filters_by_place),
	TEST_ENTRY(container_ids_from_paths),
	TEST_ENTRY(cgroup2_mount_and_subtrees),
	{ 0 },
};
