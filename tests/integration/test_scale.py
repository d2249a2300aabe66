"""At scale: 50,000 real established loopback connections (100,000
sockets) held by a fleet of processes, as make bench-scale builds a
million. The tracer started among them must invent nothing while they idle,
name the owner of every CLOSE_WAIT socket, and give every connection's two
ends whole histories when they all close at once, losing nothing."""
import os
import sys

from lib import ROOT, TCPTRAIL, check

sys.path.insert(0, os.path.join(ROOT, "tests", "bench"))

N = 50000


def test_fifty_thousand_connections_idle_leaks_mass_close():
    import scale
    res = scale.run(N, TCPTRAIL, idle=15.0, with_top=False, log=lambda s: None)
    s = res["summary"]
    check(s["summary"], "no exit summary")
    check(res["idle_hist_mine"] == 0, "%d histories written for open connections while idle"
          % res["idle_hist_mine"])
    check(res["idle_lost"] == 0, "%d records reported lost while idle" % res["idle_lost"])
    check(not res["vanished_lines"], "said at start: %s" % res["vanished_lines"])
    check(not res["warnings_repeated"], "a warning said more than once: %s" % res["warnings"])
    check(res["tracked"] is not None and res["tracked"] >= 2 * N,
          "metrics track %s sockets, %d open" % (res["tracked"], 2 * N))
    lk = res["leaks"]
    check(lk["rc"] == 0 and not lk["bad_lines"], "leaks exited %d, %d lines not JSON: %s"
          % (lk["rc"], lk["bad_lines"], lk["stderr"]))
    check(lk["found"] == lk["expected"] == N // 10, "leaks found %d of %d CLOSE_WAIT sockets"
          % (lk["found"], lk["expected"]))
    check(not lk["wrong"], "%d leaks without their holder's pid, e.g. %s"
          % (lk["wrong"], lk["first_wrong"]))
    lost = scale.benchlib.lost_total(s)
    check(lost == 0 and res["lost_lines"] == 0, "lost %s (%s), %d in lost records"
          % (lost, scale.benchlib.fmt_causes(s), res["lost_lines"]))
    check(s["counts"].get("vanished") == 0, "vanished: %s" % s["summary"])
    check(res["bad"] + res["idle_bad"] == 0, "%d lines not JSON" % (res["bad"] + res["idle_bad"]))
    check(res["hist_mine"] == 2 * N and res["whole"] == 2 * N,
          "%d histories for %d sockets, %d whole; not whole: %s"
          % (res["hist_mine"], 2 * N, res["whole"], res["causes"]))
