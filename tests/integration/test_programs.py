"""Each BPF program loads, or falls back, on its own: the -v table on this
kernel, and every optional program made to be refused in turn (the
TCPTRAIL_BPF_BREAK hook has the verifier refuse it for real)."""
import json
import os
import re
import socket
import subprocess
import time

from lib import TCPTRAIL, Tracer, check, leaking_server, listener, one, program_table

def kernel_has():
    """What this kernel offers, read here from its BTF by bpftool (another
    reader than tcptrail's), never from what tcptrail says of itself."""
    c = subprocess.run(["bpftool", "btf", "dump", "file", "/sys/kernel/btf/vmlinux",
                        "format", "c"], capture_output=True, text=True, check=True).stdout

    def tracepoint(name):
        m = re.search(r"typedef void \(\*btf_trace_%s\)\((.*)\);" % name, c)
        return m.group(1).split(",") if m else None

    reset = tracepoint("tcp_send_reset")
    return {
        "tcp_retransmit_synack": tracepoint("tcp_retransmit_synack") is not None,
        "tcp_send_reset": reset is not None,
        "tcp_send_reset_reason": reset is not None and len(reset) >= 4,
        "tcp_receive_reset": tracepoint("tcp_receive_reset") is not None,
        "listen_overflow_reason": "SKB_DROP_REASON_TCP_LISTEN_OVERFLOW =" in c,
        "syscall_tracepoints": os.path.exists(
            "/sys/kernel/tracing/events/syscalls/sys_exit_accept4"),
        # v5.11 added the function that lets tracing programs keep storage
        "sk_storage_tracing": "bpf_sk_storage_tracing_allowed" in open("/proc/kallsyms").read(),
    }


def allowed_off(name, why, table):
    """An 'off' program must name a feature this kernel lacks, or the
    loaded program that supersedes it."""
    if why.startswith("superseded by "):
        other = why[len("superseded by "):]
        return table.get(other, ("",))[0] == "loaded"
    if why.startswith("the kernel lacks "):
        feature = why[len("the kernel lacks "):]
        has = kernel_has()
        return feature in has and not has[feature]
    return False


def start_table(env=None):
    tracer = Tracer(env=env)
    return tracer, program_table(tracer.stderr)


def one_connection():
    srv, port = listener()
    cli = socket.create_connection(("127.0.0.1", port))
    conn, _ = srv.accept()
    cli.close()
    conn.close()
    srv.close()
    time.sleep(0.2)
    return port


def test_every_program_loads_on_this_kernel():
    tracer, table = start_table()
    tracer.stop()
    for name, (status, why) in table.items():
        check(status != "refused", "%s refused here: %s" % (name, why))
        if status == "off":
            check(allowed_off(name, why, table), "%s is off (%s) on %s" % (name, why,
                                                                            os.uname().release))
    # where the kernel lets programs keep socket storage, the lives are kept
    # there (sk_storage_tracing: the function that allows it exists)
    storage = "bpf_sk_storage_tracing_allowed" in open("/proc/kallsyms").read()
    first = ("state_keep", "state_keep_nest") if storage else ("state_send", "state_send_nest")
    for core in first + ("dump_tcp", "dump_task_files"):
        check(table.get(core, ("",))[0] == "loaded", "%s: %s" % (core, table.get(core)))


def test_each_optional_program_falls_back_alone():
    tracer, base = start_table()
    tracer.stop()
    # a refused state_keep is replaced by state_send: that is its fallback
    fallback = {"state_keep": {"state_send", "state_send_nest", "state_keep_nest"}}
    for name, (status, _) in base.items():
        if status != "loaded":
            continue
        tracer, table = start_table({"TCPTRAIL_BPF_BREAK": name})
        port = one_connection()
        tracer.stop()
        check(table[name][0] == "refused", "%s not refused: %s" % (name, table[name]))
        for other, (st, _) in base.items():
            if other != name and other not in fallback.get(name, ()):
                check(table[other][0] == st, "breaking %s changed %s: %s -> %s"
                      % (name, other, st, table[other][0]))
        if name == "state_keep":
            check(table["state_send"][0] == "loaded", "no fallback for state_keep: %s"
                  % table)
        said = [l for l in tracer.stderr if "refused" in l and name in l and "warning" in l]
        check(len(said) == 1, "breaking %s: %d warnings: %s" % (name, len(said), said))
        one(tracer.histories(rport=port, role="active"), "client history without " + name)


def test_owners_named_when_the_file_iterator_is_refused():
    server, held = leaking_server(18231, 3)
    out = subprocess.run([TCPTRAIL, "leaks", "--json"], capture_output=True, text=True,
                         env={"TCPTRAIL_BPF_BREAK": "dump_task_files", "PATH": "/usr/bin:/bin"})
    server.close()
    check(out.returncode == 0, "leaks failed: %s" % out.stderr)
    recs = [json.loads(l) for l in out.stdout.splitlines()]
    mine = [r for r in recs if r.get("lport") == 18231]
    check(len(mine) == 3, "leaks: %s" % mine)
    check(all(r.get("owners") for r in mine), "owners not named through /proc: %s" % mine)
    check("dump_task_files" in out.stderr and "/proc" in out.stderr, out.stderr)


def test_every_state_program_refused_says_so():
    out = subprocess.run([TCPTRAIL, "-d", "1"], capture_output=True, text=True,
                         env={"TCPTRAIL_BPF_BREAK": "state_keep,state_send",
                              "PATH": "/usr/bin:/bin"})
    check(out.returncode == 1, "exit %d" % out.returncode)
    lines = [l for l in out.stderr.splitlines() if l and "warning" not in l]
    check(len(lines) == 1 and "cannot trace here" in lines[0], "said: %s" % lines)
