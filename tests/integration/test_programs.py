"""Which BPF programs load on this kernel: tcptrail -v's program table,
judged against what the test finds in the kernel itself, and the start-up
time. Runs on the host and inside every kernel of the matrix, where it also
leaves the kernel's row of docs/kernels.md (TCPTRAIL_ROW names the file)."""
import json
import os

from lib import Tracer, check
from programs import FEATURES, Table, kernel_features

SAMPLE = """tcptrail: program handle_set_state: loaded
tcptrail: program handle_send_reset_reason: off (the kernel lacks tcp_send_reset_reason)
tcptrail: program dump_task_files: refused by the verifier (R1 type=untrusted_ptr_ expected=sock)
tcptrail: kernel tick rate: 250 Hz (measured)
tcptrail: started in 2917 ms
tcptrail: tracing; Ctrl-C to stop""".splitlines()


def test_program_table_reader_on_sample_lines():
    """The reader takes each of the three states with its detail and the
    start-up time, and finds fault with a refusal, with a program off for a
    feature the kernel has or one it does not know, with malformed or
    repeated lines, and with a missing table or time."""
    t = Table(SAMPLE)
    check(t.programs == {"handle_set_state": ("loaded", None),
                         "handle_send_reset_reason": ("off", "tcp_send_reset_reason"),
                         "dump_task_files": ("refused", "R1 type=untrusted_ptr_ expected=sock")},
          "read %s" % t.programs)
    check(t.started_ms == 2917 and not t.errors, "read %s, %s" % (t.started_ms, t.errors))
    lacking = dict.fromkeys(FEATURES, True)
    lacking["tcp_send_reset_reason"] = False
    faults = t.faults(lacking)
    check(len(faults) == 1 and "dump_task_files refused" in faults[0], "faults %s" % faults)
    faults = t.faults(dict.fromkeys(FEATURES, True))
    check(len(faults) == 2 and any("yet this kernel has it" in f for f in faults),
          "a program off for a feature the kernel has: %s" % faults)
    t = Table(["tcptrail: program a: off (the kernel lacks time_travel)",
               "tcptrail: program a: loaded",
               "tcptrail: program b: loaded, mostly",
               "tcptrail: started in 12 ms",
               "tcptrail: started in 13 ms",
               "tcptrail: started in 3.5 ms"])
    faults = t.faults(dict.fromkeys(FEATURES, True))
    for want in ("cannot judge", "listed twice", "unreadable program line",
                 "a second start-up line", "unreadable start-up line"):
        check(any(want in f for f in faults), "no fault says %r: %s" % (want, faults))
    faults = Table(["tcptrail: tracing; Ctrl-C to stop"]).faults(dict.fromkeys(FEATURES, True))
    check(faults == ["tcptrail -v printed no program table",
                     "tcptrail -v printed no start-up time"], "without a table: %s" % faults)


def test_every_program_loads_or_the_kernel_lacks_its_feature():
    """tcptrail -v lists its programs: none refused by the verifier, and
    each one off names a feature this kernel lacks by the test's own
    evidence (tracefs, or the release for helpers). Its own start-up time,
    exec to the tracing line, lies within what the test saw from outside."""
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
    # The tracer's own clock starts at its exec, after the test's: it can
    # only be later by a tick of the process start time's rounding; what
    # the test adds (fork, the pipe, this thread's wake-up) is far less
    # than the start-up itself.
    check(wall_ms / 2 <= table.started_ms <= wall_ms + 20,
          "tcptrail says it started in %d ms; the test saw %.0f ms" % (table.started_ms, wall_ms))
