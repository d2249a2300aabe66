# tcptrail build: BPF objects -> skeletons -> userspace binary, all in build/.
#
#   make && sudo build/tcptrail     build, then trace live (packages: BUILD_PKGS)
#   sudo make run [ARGS="--json"]   install what building and running need, build,
#                                   trace live
#   sudo make test                  the whole suite: unit (no root), integration on
#                                   this kernel, then the kernel matrix under qemu
#   sudo make test VMTEST=0         the same without the kernel matrix
#   sudo make vmtest                the kernel matrix alone (5.10, 6.1, 6.12, 6.18,
#                                   7.x, and 6.12 on arm64; docs/kernels.md)
#   make kernels-table              rewrite docs/kernels.md from the last vmtest
#   make bench [BASE=<rev>]         storms, nginx and per-connection cost vs peer
#                                   tools (BASE: that commit too, interleaved)
#   make bench-scale [N=1000000]    N real established connections: start, idle,
#                                   leaks, metrics, top, mass close
#   make vmlinux                    regenerate vmlinux/$(ARCH)/vmlinux.h
#   make SANITIZE=1                 build with ASan/UBSan into build-san/
#   sudo make install               binary, man page, systemd unit, logrotate
#                                   snippet (PREFIX, DESTDIR honoured)
#   sudo make uninstall             remove them

ARCH ?= $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
CLANG ?= clang
BPFTOOL ?= $(shell command -v bpftool 2>/dev/null || echo /usr/sbin/bpftool)
CC ?= gcc

ifeq ($(SANITIZE),1)
OUT ?= build-san
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer
# GCC's flow warnings see the sanitizers' instrumentation and report bounds
# the code never reaches (GCC's manual advises against -Werror with
# sanitizers); the plain build keeps them as errors.
SAN_WARN := -Wno-array-bounds -Wno-stringop-overflow -Wno-maybe-uninitialized
else
OUT ?= build
SAN_FLAGS :=
SAN_WARN :=
endif

VMLINUX := vmlinux/$(ARCH)/vmlinux.h
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	-I$(OUT) -Ibpf -Ivmlinux/$(ARCH)
# src/ by layer: kernel/ talks to the kernel, core/ reconstructs and detects
# (pure logic), emit/ writes records, cmd/ wires them into commands, base/ is
# shared by all.
SRC_DIRS := src/base src/core src/emit src/kernel src/cmd
CFLAGS := -g -O2 -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror \
	-Wno-missing-field-initializers -I$(OUT) -Ibpf $(addprefix -I,$(SRC_DIRS)) $(SAN_FLAGS) \
	$(SAN_WARN)
LDLIBS := -lbpf -lelf -lz -lm -lmicrohttpd -lgnutls -lyaml -lcrypt -lpthread
LDFLAGS := $(SAN_FLAGS)

# The tracer's programs, by concern, linked into one object (they share
# maps); the socket iterators are an object of their own.
TRACER_BPF := state listen syscalls delivery
BPF_NAMES := tcptrail snapshot
BPF_PARTS := $(patsubst %,$(OUT)/%.bpf.o,$(TRACER_BPF))
BPF_OBJS := $(patsubst %,$(OUT)/%.bpf.o,$(BPF_NAMES)) $(BPF_PARTS)
SKELS := $(patsubst %,$(OUT)/%.skel.h,$(BPF_NAMES))

# Modules without kernel access: linked into both the tool and the unit tests.
HTTP_SRCS := src/emit/metrics_http.c src/emit/http_server.c
CMD_CORE_SRCS := src/cmd/opts.c src/cmd/opts_help.c src/cmd/replay_stream.c src/cmd/timers.c
CORE_SRCS := $(filter-out $(HTTP_SRCS),$(wildcard src/base/*.c src/core/*.c src/emit/*.c)) \
	$(CMD_CORE_SRCS) src/kernel/netstat.c
# Modules that talk to the kernel or the network, and the commands.
KERNEL_SRCS := $(filter-out src/kernel/netstat.c,$(wildcard src/kernel/*.c)) \
	$(filter-out $(CMD_CORE_SRCS),$(wildcard src/cmd/*.c)) $(HTTP_SRCS) src/main.c
CORE_OBJS := $(patsubst src/%.c,$(OUT)/%.o,$(CORE_SRCS))
KERNEL_OBJS := $(patsubst src/%.c,$(OUT)/%.o,$(KERNEL_SRCS))
UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_OBJS := $(patsubst tests/unit/%.c,$(OUT)/unit/%.o,$(UNIT_SRCS))

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.PHONY: all deps test-deps testdeps benchdeps vmdeps vmbuild run test vmtest kernels-table \
	unit integration bench bench-scale fuzz vmlinux clean install uninstall

all: $(OUT)/tcptrail

$(OUT) $(OUT)/unit $(patsubst src/%,$(OUT)/%,$(SRC_DIRS)):
	$(Q)mkdir -p $@

$(OUT)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) $(VMLINUX) | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/tcptrail.bpf.o: $(BPF_PARTS)
	$(call msg,BPF-LINK,$@)
	$(Q)$(BPFTOOL) gen object $@ $^

$(OUT)/%.skel.h: $(OUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

# The BPF objects and skeletons are kept (not make intermediates), so a
# second make does nothing.
.SECONDARY: $(BPF_OBJS) $(SKELS) $(OUT)/prof.bpf.o $(OUT)/prof.skel.h

$(OUT)/%.o: src/%.c | $(OUT) $(patsubst src/%,$(OUT)/%,$(SRC_DIRS))
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# Only the objects that include a skeleton wait for it; -MMD keeps the
# rest of their dependencies exact.
$(OUT)/kernel/tracer.o $(OUT)/kernel/tracer_setup.o: $(OUT)/tcptrail.skel.h
$(OUT)/kernel/snapshot.o: $(OUT)/snapshot.skel.h

$(OUT)/unit/%.o: tests/unit/%.c | $(OUT)/unit
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(OUT)/tcptrail: $(CORE_OBJS) $(KERNEL_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(OUT)/storm: tests/bench/storm.c | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@ -lpthread

$(OUT)/holder: tests/bench/holder.c | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@

# The parts of a state-change record, priced one by one (make bench).
$(OUT)/prof.bpf.o: tests/bench/prof.bpf.c bpf/tcptrail.h bpf/core_fixes.bpf.h bpf/close_read.bpf.h $(VMLINUX) | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/bpfprof: tests/bench/bpfprof.c $(OUT)/prof.skel.h | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< $(LDLIBS) -o $@

$(OUT)/gen_journal: tests/bench/gen_journal.c $(CORE_OBJS) | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(OUT)/unit_tests: $(UNIT_OBJS) $(CORE_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

-include $(wildcard $(OUT)/*.d $(OUT)/*/*.d)

# Install what a fresh Debian/Ubuntu machine lacks. Cheap when all is there.
# Each list names what one purpose needs; a feature adds its own tools to
# the list of the purpose that needs them, never to BUILD_PKGS for a test.
#   BUILD_PKGS  building and running tcptrail (make, make run)
#   TEST_PKGS   the test suite and benchmarks (make test, bench, fuzz): peer
#               tools, traffic generators, terminals, linters, a browser for
#               the report's page, a real Prometheus (and promtool), openssl
#               for the TLS tests' certificates, htpasswd for bcrypt hashes, and
#               the real server and load generator of make bench (nginx, wrk)
#   VM_PKGS     the kernel matrix (make vmtest): qemu and the initramfs; for
#               its arm64 VM, tcptrail cross-built through Debian's multiarch
BUILD_PKGS := clang llvm libbpf-dev libelf-dev zlib1g-dev bpftool make gcc libmicrohttpd-dev \
	libgnutls28-dev libyaml-dev libcrypt-dev
TEST_PKGS := python3 iproute2 libbpf-tools tmux hping3 nftables jq libclang-rt-dev \
	prometheus mandoc logrotate systemd chromium openssl apache2-utils nginx-light wrk curl
VM_PKGS := qemu-system-x86 qemu-system-arm busybox-static cpio xz-utils binutils python3 \
	iproute2 gcc-aarch64-linux-gnu libbpf-dev:arm64 libelf-dev:arm64 zlib1g-dev:arm64 \
	libmicrohttpd-dev:arm64 libgnutls28-dev:arm64 libyaml-dev:arm64 libcrypt-dev:arm64
OUT_ARM64 := build-arm64
# $(1): packages; $(2): an installer to run apt-get through; $(3): apt-get's
# options. The test packages go through tests/install-quietly.sh (no service
# they bring may start or stay enabled) without Recommends (prometheus would
# bring node_exporter's service along).
define install_missing
	@missing=""; for p in $(1); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		if [ "$$(id -u)" != 0 ]; then echo "tcptrail: installing packages needs root: run with sudo" >&2; exit 1; fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(2) apt-get install -y -qq $(3) $$missing >/dev/null || exit 1; \
	fi
endef
deps:
	$(call install_missing,$(BUILD_PKGS))
test-deps: deps
	$(call install_missing,$(TEST_PKGS),sh tests/install-quietly.sh,--no-install-recommends)
testdeps: test-deps  # its former name
vmdeps:
	@dpkg --print-foreign-architectures | grep -qx arm64 || { \
		if [ "$$(id -u)" != 0 ]; then echo "tcptrail: adding arm64 to dpkg's architectures needs root: run with sudo" >&2; exit 1; fi; \
		echo "dpkg --add-architecture arm64"; dpkg --add-architecture arm64 && apt-get update -qq; }
	$(call install_missing,$(VM_PKGS))
benchdeps: test-deps  # its former name

# What the kernel matrix boots: this build, and the same for arm64 (never
# sanitized: the cross toolchain has no arm64 sanitizer runtime here).
vmbuild:
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory ARCH=arm64 CC=aarch64-linux-gnu-gcc OUT=$(OUT_ARM64) \
		SANITIZE=0 all

run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(OUT)/tcptrail $(ARGS)

BENCH_TOOLS := $(OUT)/storm $(OUT)/holder $(OUT)/gen_journal $(OUT)/bpfprof

VMTEST ?= 1
test: test-deps $(if $(filter 1,$(VMTEST)),vmdeps vmbuild)
	$(Q)$(MAKE) --no-print-directory all $(OUT)/unit_tests $(BENCH_TOOLS)
	$(Q)OUT=$(OUT) OUT_ARM64=$(OUT_ARM64) VMTEST=$(VMTEST) bash tests/run.sh

vmtest: test-deps vmdeps vmbuild
	$(Q)OUT=$(OUT) OUT_ARM64=$(OUT_ARM64) bash tests/vm/run.sh

# docs/kernels.md from the rows the last make vmtest left (it fails when
# the committed table no longer matches what the kernels did).
kernels-table:
	$(Q)test -s $(OUT)/vmtest-rows.jsonl || { echo "no $(OUT)/vmtest-rows.jsonl: run make vmtest first" >&2; exit 1; }
	$(Q)python3 tests/vm/table.py $(OUT)/vmtest-rows.jsonl docs/kernels.md

unit: $(OUT)/unit_tests
	$(Q)$(OUT)/unit_tests
	$(Q)python3 tests/unit/headers_narrow.py

# Both benchmarks read the tracer only through its command line and
# outputs, so BASE can be any earlier commit.
bench: test-deps
	$(Q)$(MAKE) --no-print-directory all $(OUT)/storm
	$(Q)OUT=$(OUT) python3 tests/bench/bench.py $(if $(BASE),--base $(BASE)) $(BENCH_ARGS)

N ?= 1000000
bench-scale: deps
	$(Q)$(MAKE) --no-print-directory all $(OUT)/holder
	$(Q)OUT=$(OUT) python3 tests/bench/scale.py $(N) $(BENCH_ARGS)

# Fuzzing under libFuzzer, with ASan and UBSan, from seeds made here:
# the recording reader (through replay's own code), the command line, and
# the writers (random records through both views, read back by the unit
# tests' oracle). FUZZ_SECONDS per target.
FUZZ_OUT := build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS := -g -O1 -std=gnu11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -Ibpf $(addprefix -I,$(SRC_DIRS)) -Itests/unit
FUZZ_LIB_SRCS := $(CORE_SRCS)
FUZZ_TARGETS := replay opts emit report webconfig
FUZZ_EXTRA_emit := tests/unit/emit_cases.c tests/unit/emit_cases_json.c \
	tests/unit/emit_cases_text.c tests/unit/want.c tests/unit/json_check.c
fuzz: test-deps
	$(Q)mkdir -p $(patsubst %,$(FUZZ_OUT)/corpus-%,$(FUZZ_TARGETS))
	$(Q)$(MAKE) --no-print-directory $(OUT)/gen_journal $(OUT)/tcptrail
	$(Q)for t in $(FUZZ_TARGETS); do \
		case $$t in emit) extra="$(FUZZ_EXTRA_emit)";; *) extra="";; esac; \
		$(CLANG) $(FUZZ_CFLAGS) tests/fuzz/fuzz_$$t.c $$extra $(FUZZ_LIB_SRCS) $(LDLIBS) \
			-o $(FUZZ_OUT)/fuzz_$$t || exit 1; \
	done
	$(Q)for n in 1 3 40; do $(OUT)/gen_journal $$n $(FUZZ_OUT)/corpus-replay/gen$$n.rec; done
	$(Q)cp tests/golden/v5.rec $(FUZZ_OUT)/corpus-replay/golden-v5.rec
	$(Q)printf -- '--json\0-o\0x.json\0--lport\0 80,443' > $(FUZZ_OUT)/corpus-opts/trace
	$(Q)printf -- 'leaks\0--json\0--all' > $(FUZZ_OUT)/corpus-opts/leaks
	$(Q)printf -- 'replay\0f.rec\0--json' > $(FUZZ_OUT)/corpus-opts/replay
	$(Q)printf -- 'report\0--since\0002026-11-21T10:00:00Z\0x.json' > $(FUZZ_OUT)/corpus-opts/report
	$(Q)$(OUT)/gen_journal 3 $(FUZZ_OUT)/gen3.rec && $(OUT)/tcptrail replay $(FUZZ_OUT)/gen3.rec \
		--json > $(FUZZ_OUT)/corpus-report/gen3.json 2>/dev/null
	$(Q)cp tests/golden/v5.json $(FUZZ_OUT)/corpus-report/
	$(Q){ sed -n 's/^\t{ "\([a-z0-9-]*\)",.*/"--\1"/p' src/cmd/opts.c; \
		printf '"%s"\n' leaks replay top -j -o -4 -6 -l -r -d -v -h -V; } > $(FUZZ_OUT)/opts.dict
	$(Q)for k in 0 1 2 3 4 5 6 7 8 9 10 11 12 13; do \
		{ printf "\\$$(printf %03o $$k)"; head -c 4096 /dev/zero | tr '\0' '\377'; } \
			> $(FUZZ_OUT)/corpus-emit/kind$$k; \
	done
	$(Q)sed -n '/^```yaml web-config-/,/^```$$/p' docs/metrics.md | grep -v '^```' \
		> $(FUZZ_OUT)/corpus-webconfig/docs.yml
	$(Q)for t in $(FUZZ_TARGETS); do \
		case $$t in opts) dict=-dict=$(FUZZ_OUT)/opts.dict;; *) dict="";; esac; \
		$(FUZZ_OUT)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=1024 \
			-max_len=65536 -print_final_stats=1 $$dict $(FUZZ_OUT)/corpus-$$t \
			2>$(FUZZ_OUT)/fuzz_$$t.log || { tail -40 $(FUZZ_OUT)/fuzz_$$t.log; exit 1; }; \
		echo "fuzz_$$t: $$(grep -o 'stat::number_of_executed_units: [0-9]*' $(FUZZ_OUT)/fuzz_$$t.log | cut -d' ' -f2) runs in $(FUZZ_SECONDS) s, no finding"; \
	done

vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $(VMLINUX).tmp
	mv $(VMLINUX).tmp $(VMLINUX)

# Installation: dist/ holds what a machine needs besides the binary.
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= /etc
INSTALLED := $(SBINDIR)/tcptrail $(MANDIR)/man8/tcptrail.8 $(UNITDIR)/tcptrail.service \
	$(SYSCONFDIR)/logrotate.d/tcptrail

install: $(OUT)/tcptrail
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(SYSCONFDIR)/logrotate.d
	$(Q)install -m 0755 $(OUT)/tcptrail $(DESTDIR)$(SBINDIR)/tcptrail
	$(Q)install -m 0644 dist/tcptrail.8 $(DESTDIR)$(MANDIR)/man8/tcptrail.8
	$(Q)sed 's|@SBINDIR@|$(SBINDIR)|g' dist/tcptrail.service.in > $(DESTDIR)$(UNITDIR)/tcptrail.service.tmp
	$(Q)chmod 0644 $(DESTDIR)$(UNITDIR)/tcptrail.service.tmp
	$(Q)mv -f $(DESTDIR)$(UNITDIR)/tcptrail.service.tmp $(DESTDIR)$(UNITDIR)/tcptrail.service
	$(Q)install -m 0644 dist/tcptrail.logrotate $(DESTDIR)$(SYSCONFDIR)/logrotate.d/tcptrail

uninstall:
	$(call msg,UNINSTALL,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(addprefix $(DESTDIR),$(INSTALLED))

clean:
	rm -rf build build-san build-fuzz $(OUT_ARM64)
