"""What `make run` and `make test` install, with dpkg-query and apt-get
replaced by fakes that install nothing and write down what they were asked:
make run asks for what building and running need, and nothing a test needs;
make test's packages go in with services forbidden to start (policy-rc.d),
and a service one of them enabled is disabled again."""
import os
import re
import shutil
import stat
import subprocess
import tempfile

from lib import ROOT, check

FAKE_DPKG = """#!/bin/sh
exit 1
"""

# install: write the packages, then act as prometheus's postinst would:
# enable its unit, and try to start it through policy-rc.d
FAKE_APT = """#!/bin/sh
[ "$1" = update ] && exit 0
pkgs="" opts=""
for a in "$@"; do
	case "$a" in
	install) ;;
	-*) opts="$opts $a" ;;
	*) pkgs="$pkgs $a" ;;
	esac
done
echo "install$pkgs" >> "$FAKE_LOG"
echo "options$opts" >> "$FAKE_LOG"
for p in $pkgs; do
	if [ "$p" = prometheus ]; then
		mkdir -p "$TT_SYSTEMD_DIR/multi-user.target.wants"
		ln -sf /lib/systemd/system/prometheus.service \\
			"$TT_SYSTEMD_DIR/multi-user.target.wants/prometheus.service"
		"$TT_POLICY_RC" prometheus start
		echo "policy-rc.d start prometheus: $?" >> "$FAKE_LOG"
	fi
done
"""


def make_vars():
    text = open(os.path.join(ROOT, "Makefile")).read()

    def words(name):
        m = re.search(r"^%s := ((?:.*\\\n)*.*)$" % name, text, re.M)
        check(m, "no %s in the Makefile" % name)
        return set(m.group(1).replace("\\\n", " ").split())
    return words("BUILD_PKGS"), words("TEST_PKGS")


def run_make(target, work):
    fake = os.path.join(work, "bin")
    os.makedirs(fake, exist_ok=True)
    for name, body in (("dpkg-query", FAKE_DPKG), ("apt-get", FAKE_APT)):
        path = os.path.join(fake, name)
        with open(path, "w") as f:
            f.write(body)
        os.chmod(path, stat.S_IRWXU)
    log = os.path.join(work, "log")
    env = dict(os.environ, PATH=fake + ":" + os.environ["PATH"], FAKE_LOG=log,
               TT_POLICY_RC=os.path.join(work, "policy-rc.d"),
               TT_SYSTEMD_DIR=os.path.join(work, "systemd"))
    res = subprocess.run(["make", "-C", ROOT, "--no-print-directory", target],
                         capture_output=True, text=True, env=env, timeout=120)
    check(res.returncode == 0, "make %s: %s%s" % (target, res.stdout, res.stderr))
    return open(log).read() if os.path.exists(log) else "", res.stdout + res.stderr


def test_make_run_installs_only_build_and_run_packages():
    build, test = make_vars()
    check("prometheus" in test and "hping3" in test and "tmux" in test,
          "the test tools moved: %s" % sorted(test))
    check(not build & {"prometheus", "hping3", "tmux", "nftables", "jq", "mandoc"},
          "BUILD_PKGS has test tools: %s" % sorted(build))
    work = tempfile.mkdtemp(prefix="tcptrail-setup-")
    try:
        log, _ = run_make("deps", work)
        asked = {w for l in log.splitlines() if l.startswith("install") for w in l.split()[1:]}
        check(asked == build, "make run's deps asked for %s" % sorted(asked))
        # make run itself: the same deps target, then the build
        dry = subprocess.run(["make", "-C", ROOT, "-n", "run"], capture_output=True, text=True)
        check("install-quietly" not in dry.stdout and "prometheus" not in dry.stdout,
              "make run would install test packages:\n" + dry.stdout[:2000])
    finally:
        shutil.rmtree(work)


def test_make_test_installs_quietly():
    build, test = make_vars()
    work = tempfile.mkdtemp(prefix="tcptrail-setup-")
    try:
        log, out = run_make("test-deps", work)
        lines = [l for l in log.splitlines() if l.startswith("install")]
        check(len(lines) == 2, "installs %s" % lines)
        check(set(lines[1].split()[1:]) == test, "test packages asked: %s" % lines[1])
        opts = [l.split()[1:] for l in log.splitlines() if l.startswith("options")]
        check("--no-install-recommends" in opts[1] and "--no-install-recommends" not in opts[0],
              "apt-get's options: %s" % opts)
        check("policy-rc.d start prometheus: 101" in log,
              "a service could start while test packages installed:\n" + log)
        wants = os.path.join(work, "systemd", "multi-user.target.wants")
        check(not os.listdir(wants), "left enabled: %s" % os.listdir(wants))
        check("left prometheus.service disabled" in out, "nothing said: %r" % out)
        check(not os.path.exists(os.path.join(work, "policy-rc.d")),
              "the installer left its policy-rc.d behind")
    finally:
        shutil.rmtree(work)
