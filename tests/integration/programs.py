"""What the running kernel offers tcptrail's BPF programs, found by the
test itself, and the reader of tcptrail's -v program table that is checked
against it. The kernel table of docs/kernels.md is made of these rows."""
import os
import re

TRACEFS = "/sys/kernel/tracing"


def release():
    """The kernel's version as numbers, from uname (never from tcptrail)."""
    nums = re.match(r"(\d+)\.(\d+)", os.uname().release)
    return int(nums.group(1)), int(nums.group(2))


def _event(path):
    return os.path.isdir(os.path.join(TRACEFS, "events", path))


def _format_has(path, pattern):
    try:
        with open(os.path.join(TRACEFS, "events", path, "format")) as f:
            return re.search(pattern, f.read()) is not None
    except FileNotFoundError:
        return False


def _kallsyms_has(symbol):
    with open("/proc/kallsyms") as f:
        return re.search(r" %s$" % symbol, f.read(), re.M) is not None


class Feature:
    """A kernel facility some program needs: what it is, the mainline
    release and commit that brought it (docs/kernels.md cites them), and how
    this test finds whether the running kernel has it. Tracepoints are
    looked up in tracefs (a kernel's own list, whatever its version or
    backports); helpers a program type may call are listed nowhere outside
    the verifier, so for those the release decides."""

    def __init__(self, what, since, commit, present, evidence):
        self.what, self.since, self.commit = what, since, commit
        self.present, self.evidence = present, evidence


FEATURES = {
    "tcp_retransmit_synack": Feature(
        "the tcp:tcp_retransmit_synack tracepoint",
        (4, 15), "cf34ce3da1e4 (tcp: add tracepoint trace_tcp_retransmit_synack())",
        lambda: _event("tcp/tcp_retransmit_synack"), "tracefs tcp/tcp_retransmit_synack"),
    "tcp_send_reset": Feature(
        "the tcp:tcp_send_reset tracepoint",
        (4, 15), "c24b14c46bb8 (tcp: add tracepoint trace_tcp_send_reset)",
        lambda: _event("tcp/tcp_send_reset"), "tracefs tcp/tcp_send_reset"),
    "tcp_send_reset_reason": Feature(
        "tcp:tcp_send_reset carries the reset's reason",
        (6, 10), "b533fb9cf4f7 (rstreason: make it work in trace world)",
        lambda: _format_has("tcp/tcp_send_reset", r"field:[^;]*\breason;"),
        "a reason field in tracefs tcp/tcp_send_reset/format"),
    "tcp_receive_reset": Feature(
        "the tcp:tcp_receive_reset tracepoint",
        (4, 15), "with tcp_send_reset, in the same series (Song Liu, 2017)",
        lambda: _event("tcp/tcp_receive_reset"), "tracefs tcp/tcp_receive_reset"),
    "tcp_retransmit_skb": Feature(
        "the tcp:tcp_retransmit_skb tracepoint",
        (4, 15), "e086101b150a (tcp: add a tracepoint for tcp retransmission)",
        lambda: _event("tcp/tcp_retransmit_skb"), "tracefs tcp/tcp_retransmit_skb"),
    "tcp_retransmit_skb_err": Feature(
        "tcp:tcp_retransmit_skb carries the retransmission's error",
        (6, 17), "ad892e912b84 (tcp: trace retransmit failures in tcp_retransmit_skb)",
        lambda: _format_has("tcp/tcp_retransmit_skb", r"field:[^;]*\berr;"),
        "an err field in tracefs tcp/tcp_retransmit_skb/format"),
    "listen_overflow_reason": Feature(
        "skb:kfree_skb names accept-queue overflows (SKB_DROP_REASON_TCP_LISTEN_OVERFLOW)",
        (6, 15), "a11a791ca81e (tcp: add four drop reasons to tcp_check_req())",
        lambda: _format_has("skb/kfree_skb", r"\bTCP_LISTEN_OVERFLOW\b"),
        "TCP_LISTEN_OVERFLOW among the drop reasons of tracefs skb/kfree_skb/format"),
    "syscall_tracepoints": Feature(
        "tracepoints on accept(), accept4() and shutdown()",
        None, "Built with CONFIG_FTRACE_SYSCALLS (a build option, not a release)",
        lambda: all(_event("syscalls/sys_%s_%s" % (way, call))
                    for way in ("enter", "exit") for call in ("accept", "accept4", "shutdown")),
        "tracefs syscalls/sys_{enter,exit}_{accept,accept4,shutdown}"),
    "sk_storage_tracing": Feature(
        "socket local storage from tracing programs (bpf_sk_storage_get)",
        (5, 11), "8e4597c627fb (bpf: Allow using bpf_sk_storage in FENTRY/FEXIT/RAW_TP)",
        lambda: release() >= (5, 11) or _kallsyms_has("bpf_sk_storage_tracing_allowed"),
        "the kernel's release, or that commit's bpf_sk_storage_tracing_allowed in /proc/kallsyms"),
    "socket_cookie_tracing": Feature(
        "socket cookies from tracing programs (bpf_get_socket_cookie)",
        (5, 12), "c5dbb89fc2ac (bpf: Expose bpf_get_socket_cookie to tracing programs)",
        lambda: release() >= (5, 12), "the kernel's release"),
}


def kernel_features():
    """Each feature key: does the running kernel have it."""
    if not os.path.isdir(os.path.join(TRACEFS, "events")):
        raise RuntimeError("tracefs is not mounted at %s: no evidence to judge by" % TRACEFS)
    return {name: bool(f.present()) for name, f in FEATURES.items()}


PROGRAM = re.compile(r"tcptrail: program (?P<name>[A-Za-z0-9_]+): (?:(?P<state>loaded)"
                     r"|(?P<state2>off|refused by the verifier) \((?P<why>.+)\))")
STARTED = re.compile(r"tcptrail: started in (?P<ms>\d+) ms")
LACKS = "the kernel lacks "
SUPERSEDED = "superseded by "


class Table:
    """tcptrail -v's report of its programs, read from its stderr lines:
    programs maps each name to ("loaded", None), ("off", WHY) or
    ("refused", WHY); started_ms is its start-up time; errors lists every
    line that breaks the format."""

    def __init__(self, lines):
        self.programs, self.started_ms, self.errors = {}, None, []
        for line in lines:
            if line.startswith("tcptrail: program "):
                self._program(line)
            elif line.startswith("tcptrail: started in "):
                m = STARTED.fullmatch(line)
                if not m:
                    self.errors.append("unreadable start-up line: %r" % line)
                elif self.started_ms is not None:
                    self.errors.append("a second start-up line: %r" % line)
                else:
                    self.started_ms = int(m.group("ms"))

    def _program(self, line):
        m = PROGRAM.fullmatch(line)
        if not m:
            self.errors.append("unreadable program line: %r" % line)
        elif m.group("name") in self.programs:
            self.errors.append("program %s listed twice" % m.group("name"))
        elif m.group("state"):
            self.programs[m.group("name")] = ("loaded", None)
        else:
            self.programs[m.group("name")] = (m.group("state2").split()[0], m.group("why"))

    def faults(self, features):
        """What is wrong with this table on a kernel with these features:
        no table, no start-up time, a refusal, or a program off for another
        reason than a feature this kernel lacks or a loaded program that
        supersedes it (a feature the kernel has, one this test cannot
        judge, an environment switch the test did not set)."""
        out = list(self.errors)
        if not self.programs:
            out.append("tcptrail -v printed no program table")
        if self.started_ms is None:
            out.append("tcptrail -v printed no start-up time")
        for name, (state, why) in sorted(self.programs.items()):
            if state == "refused":
                out.append("program %s refused by the verifier (%s)" % (name, why))
            elif state == "off":
                fault = self._off_fault(why, features)
                if fault:
                    out.append("program %s is off (%s): %s" % (name, why, fault))
        return out

    def _off_fault(self, why, features):
        if why.startswith(SUPERSEDED):
            other = self.programs.get(why[len(SUPERSEDED):], ("not listed",))[0]
            return None if other == "loaded" else "that program is " + other
        if not why.startswith(LACKS):
            return "not a feature the kernel lacks"
        feature = why[len(LACKS):]
        if feature not in features:
            return "a feature this test cannot judge"
        if features[feature]:
            return "yet this kernel has it (%s)" % FEATURES[feature].evidence
        return None
