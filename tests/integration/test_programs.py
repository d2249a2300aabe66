"""Each BPF program loads, or falls back, on its own: the -v table on this
kernel, judged against what the test finds in the kernel itself (tracefs,
the release for helpers; never what tcptrail says), the start-up time, and
every optional program made to be refused in turn (the TCPTRAIL_BPF_BREAK
hook has the verifier refuse it for real). Runs on the host and inside
every kernel of the matrix, where it also leaves the kernel's row of
docs/kernels.md (TCPTRAIL_ROW names the file)."""
import json
import os
import socket
import subprocess
import time

from lib import TCPTRAIL, Tracer, check, leaking_server, listener, one, program_table
from programs import FEATURES, Table, kernel_features

SAMPLE = """tcptrail: program handle_set_state: loaded
tcptrail: program handle_send_reset_reason: off (the kernel lacks tcp_send_reset_reason)
tcptrail: program handle_send_reset: off (superseded by handle_set_state)
tcptrail: program dump_task_files: refused by the verifier (R1 type=untrusted_ptr_ expected=sock)
tcptrail: kernel tick rate: 250 Hz (measured)
tcptrail: started in 2917 ms
tcptrail: tracing; Ctrl-C to stop""".splitlines()
ALL = dict.fromkeys(FEATURES, True)


def test_program_table_reader_on_sample_lines():
    """The reader takes each of the three states with its reason and the
    start-up time, and finds fault with a refusal, with a program off for a
    feature the kernel has or one it does not know, for a program not
    loaded, or for no feature at all, with malformed or repeated lines, and
    with a missing table or time."""
    t = Table(SAMPLE)
    check(t.programs == {
        "handle_set_state": ("loaded", None),
        "handle_send_reset_reason": ("off", "the kernel lacks tcp_send_reset_reason"),
        "handle_send_reset": ("off", "superseded by handle_set_state"),
        "dump_task_files": ("refused", "R1 type=untrusted_ptr_ expected=sock")},
        "read %s" % t.programs)
    check(t.started_ms == 2917 and not t.errors, "read %s, %s" % (t.started_ms, t.errors))
    faults = t.faults(dict(ALL, tcp_send_reset_reason=False))
    check(len(faults) == 1 and "dump_task_files refused" in faults[0], "faults %s" % faults)
    faults = t.faults(ALL)
    check(len(faults) == 2 and "yet this kernel has it" in faults[1],
          "a program off for a feature the kernel has: %s" % faults)
    t = Table(["tcptrail: program a: off (the kernel lacks time_travel)",
               "tcptrail: program a: loaded",
               "tcptrail: program b: loaded, mostly",
               "tcptrail: program c: off (superseded by d)",
               "tcptrail: program d: off (superseded by c)",
               "tcptrail: program e: off (disabled by TCPTRAIL_SYSCALLS=off)",
               "tcptrail: program f: off",
               "tcptrail: started in 12 ms",
               "tcptrail: started in 13 ms",
               "tcptrail: started in 3.5 ms"])
    faults = t.faults(ALL)
    for want in ("cannot judge", "listed twice", "unreadable program line: 'tcptrail: "
                 "program b", "c is off (superseded by d): that program is off",
                 "not a feature the kernel lacks", "unreadable program line: 'tcptrail: "
                 "program f", "a second start-up line", "unreadable start-up line"):
        check(any(want in f for f in faults), "no fault says %r: %s" % (want, faults))
    faults = Table(["tcptrail: tracing; Ctrl-C to stop"]).faults(ALL)
    check(faults == ["tcptrail -v printed no program table",
                     "tcptrail -v printed no start-up time"], "without a table: %s" % faults)


def test_every_program_loads_or_the_kernel_lacks_its_feature():
    """tcptrail -v lists its programs: none refused by the verifier, and
    each one off names a feature this kernel lacks by the test's own
    evidence, or a loaded program that supersedes it. Its own start-up
    time, exec to the tracing line, lies within what the test saw."""
    features = kernel_features()
    tracer = Tracer(json_out=False)
    wall_ms = (tracer.ready_at - tracer.exec_at) * 1000
    tracer.stop()
    table = Table(tracer.stderr)
    row = {"release": os.uname().release, "machine": os.uname().machine,
           "features": features,
           "programs": {name: list(v) for name, v in sorted(table.programs.items())},
           "startup_ms": table.started_ms, "startup_wall_ms": round(wall_ms)}
    if os.environ.get("TCPTRAIL_ROW"):
        with open(os.environ["TCPTRAIL_ROW"], "w") as f:
            json.dump(row, f, sort_keys=True)
    faults = table.faults(features)
    check(not faults, "; ".join(faults))
    # tcptrail counts from its process's start time, in clock ticks, so it
    # may say up to a tick more than the test, which starts counting before
    # the fork; what the test adds (fork, the pipe, this thread's wake-up)
    # is far less than the start-up itself.
    check(wall_ms / 2 <= table.started_ms <= wall_ms + 20,
          "tcptrail says it started in %d ms; the test saw %.0f ms" % (table.started_ms, wall_ms))


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


def test_lives_kept_in_the_kernel_where_it_allows():
    """Where the kernel lets tracing programs keep socket storage, the lives
    are kept there (state_keep), elsewhere sent per transition (state_send);
    the iterators load everywhere."""
    tracer, table = start_table()
    tracer.stop()
    storage = kernel_features()["sk_storage_tracing"]
    first = ("state_keep", "state_keep_nest") if storage else ("state_send", "state_send_nest")
    for core in first + ("dump_tcp", "dump_task_files"):
        check(table.get(core, ("",))[0] == "loaded", "%s: %s" % (core, table.get(core)))


def test_each_optional_program_falls_back_alone():
    tracer, base = start_table()
    tracer.stop()
    # a refused state_keep is replaced by state_send: that is its fallback
    fallback = {"state_keep": {"state_send", "state_send_nest", "state_keep_nest"}}
    for name, (status, _) in base.items():
        # state_send alone follows state changes where state_keep cannot
        # (5.10): refusing it is the required case, tested below
        only_state = name == "state_send" and base.get("state_keep", ("",))[0] != "loaded"
        if status != "loaded" or only_state:
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
