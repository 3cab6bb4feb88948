"""The timing half of tools/bench.sh: runs the commands in turn (A B A B ...) after one
warm-up each and prints medians and pair-by-pair ratios. Inputs come from the environment
that bench.sh sets."""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

env = os.environ
talhorn, yamllint, work = env["TALHORN_BIN"], env["YAMLLINT"], env["WORK"]
runs, sizes = int(env["RUNS"]), env["SIZES"].split()
WALL, CPU, RSS = 0, 1, 2

# Each build goes into a fresh folder: the one before is moved aside, not deleted, and the
# folders moved aside are deleted after the timing (those of an earlier bench here, minutes
# before the builds). On a file system without a journal (this machine's ext4), creating a
# file passes over every inode freed in the last 30 seconds, reading each one's record
# (`recently_deleted`): a build just after deleting the last build's 2,000 files measured
# the deletion (0.8-1.2 s of system time in runs AE and AF), not the build.
intent, out = f"{work}/intent/cluster.yaml", f"{work}/intent/out"
built = f"{work}/intent/built"
shutil.rmtree(out, ignore_errors=True)
shutil.rmtree(built, ignore_errors=True)


def fresh():
    """Moves the last build's folder aside, into `built`."""
    if os.path.exists(out):
        os.makedirs(built, exist_ok=True)
        os.rename(out, f"{built}/{len(os.listdir(built))}")


def spawn(cmd, cpus=None):
    """Starts cmd, kept to `cpus` when they are given. The affinity is set on this process
    for the moment of the start, and the child inherits it: `taskset` would add an exec of
    its own (about a millisecond here) to every timed run, on one core and on two."""
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    if cpus is None:
        return subprocess.Popen(cmd, **quiet)
    own = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cpus)
    try:
        return subprocess.Popen(cmd, **quiet)
    finally:
        os.sched_setaffinity(0, own)


def run(cmd, before=None, cpus=None):
    """Wall seconds, CPU seconds (user + sys) and peak RSS (MiB) of one run of cmd."""
    if before:
        before()
    start = time.perf_counter()
    proc = spawn(cmd, cpus)
    _, _, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def gnu_time():
    """GNU time, when installed: it measures peak memory from a small process."""
    path = shutil.which("time") or "/usr/bin/time"
    try:
        found = subprocess.run([path, "--version"], capture_output=True, text=True)
    except OSError:
        return None
    return path if "GNU" in found.stdout + found.stderr else None


GNU_TIME = gnu_time()


def peak_rss(cmd):
    """Peak resident set (MiB) of one run of cmd. A process started from this Python starts
    with Python's own resident set as its peak (the kernel keeps a process's peak across
    exec), which hides anything smaller; GNU time starts it from a small process instead."""
    if GNU_TIME is None:
        return run(cmd)[RSS]
    with tempfile.NamedTemporaryFile("r") as out:
        subprocess.run(
            [GNU_TIME, "-f", "%M", "-o", out.name, *cmd],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return int(out.read().split()[-1]) / 1024


def interleave(n, a, b, before_a=None, a_repeats=1):
    """n counted runs of a and of b, alternating, after one warm-up of each. With a_repeats,
    each of a's samples is the median (figure by figure) of that many runs of a in a row: a
    short command's single run depends on the host's moment more than a long one's does."""
    run(a, before_a)
    run(b)
    pairs = [(median_run([run(a, before_a) for _ in range(a_repeats)]), run(b)) for _ in range(n)]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def median_run(samples):
    """The median wall, CPU and peak RSS of several runs of one command."""
    return tuple(statistics.median(s[field] for s in samples) for field in (WALL, CPU, RSS))


def med(samples, field):
    return statistics.median(s[field] for s in samples)


def ratio(num, den, field):
    return statistics.median(n[field] / max(d[field], 1e-4) for n, d in zip(num, den))


def line(label, value):
    print(f"{label:<48} {value}", flush=True)


def lint(path, *prefix):
    return [*prefix, talhorn, "lint", path, "--format", "json", "--exit-zero"]


# A lint of the tree takes hundredths of a second, yamllint's seconds: each lint sample of the
# CPU ratio is the median of this many lints in a row, so that one moment of a busy host does
# not make the sample (it costs a second or two beside yamllint's minute).
LINT_REPEATS = 5

# The CPUs of the scaling figure: the first two this process may use.
CORES = sorted(os.sched_getaffinity(0))[:2]


# The scaling figure is noisy on a shared machine (its speed, and what a second core gives,
# change from one minute to the next): more rounds than the other figures, and in each round
# the lint on one core, on two, and two one-core lints side by side, one on each core: what
# two cores give this very work when nothing in it is serial (the ceiling at that moment;
# 2.0 on two idle cores).
SCALING_ROUNDS = max(runs, 20)
# What counts as a moment when the second core was there to be had.
QUIET_CEILING = 1.8


def side_by_side(cmd, cpus):
    """Wall seconds of cmd started once on each of `cpus`, together, until both finished."""
    start = time.perf_counter()
    procs = [spawn(cmd, {cpu}) for cpu in cpus]
    for proc in procs:
        proc.wait()
    return time.perf_counter() - start


def scaling(tree):
    """Per round: the lint on one core, on two, and the ceiling, after a warm-up of each. The
    one-core and two-core runs take turns at going first, so that neither always follows the
    same run."""
    cmd, one_core, two_cores = lint(tree), set(CORES[:1]), set(CORES)
    run(cmd, cpus=one_core), run(cmd, cpus=two_cores), side_by_side(cmd, CORES)
    rounds = []
    for round_number in range(SCALING_ROUNDS):
        if round_number % 2 == 0:
            one, two = run(cmd, cpus=one_core), run(cmd, cpus=two_cores)
        else:
            two, one = run(cmd, cpus=two_cores), run(cmd, cpus=one_core)
        pair = side_by_side(cmd, CORES)
        rounds.append((one, two, 2 * one[WALL] / pair))
    return rounds


def scaling_figures(tree):
    """The 1 -> 2 core lines of one tree."""
    rounds = scaling(tree)
    one, two = [r[0] for r in rounds], [r[1] for r in rounds]
    ceilings = [r[2] for r in rounds]
    line(f"talhorn wall on 1 core ({SCALING_ROUNDS} rounds)", f"{med(one, WALL):9.3f} s")
    line("talhorn wall on 2 cores", f"{med(two, WALL):9.3f} s")
    line("scaling 1 -> 2 cores (goal >= 1.7)", f"{ratio(one, two, WALL):9.2f} x")
    # What the host did to the lint's own work: the same work costs more CPU on two cores
    # when the two virtual CPUs slow each other down (1.0 when they do not).
    line("CPU on 2 cores over CPU on 1 core", f"{ratio(two, one, CPU):9.2f} x")
    line("ceiling: two 1-core lints side by side", f"{statistics.median(ceilings):9.2f} x")
    quiet = [r for r in rounds if r[2] >= QUIET_CEILING]
    if quiet:
        quiet_ratio = ratio([r[0] for r in quiet], [r[1] for r in quiet], WALL)
        figure = f"{quiet_ratio:9.2f} x"
    else:
        figure = "      n/a"
    line(f"scaling in the {len(quiet)} rounds with a ceiling >= {QUIET_CEILING}", figure)


for size in sizes:
    tree = f"{work}/tree-{size}"
    n = min(runs, 3) if int(size) > 5000 else runs
    print(
        f"-- {size} files: median of {n} runs, interleaved with yamllint "
        f"(each talhorn run the median of {LINT_REPEATS} in a row)",
        flush=True,
    )
    t, y = interleave(n, lint(tree), [yamllint, "-d", "relaxed", tree], a_repeats=LINT_REPEATS)
    line("talhorn lint CPU (user+sys)", f"{med(t, CPU):9.3f} s")
    line("yamllint -d relaxed CPU", f"{med(y, CPU):9.3f} s")
    line("CPU ratio yamllint/talhorn (goal >= 100)", f"{ratio(y, t, CPU):9.1f} x")
    line("talhorn lint wall", f"{med(t, WALL):9.3f} s")
    how = "GNU time" if GNU_TIME else "wait4, floored at this Python's own"
    rss_t = statistics.median(peak_rss(lint(tree)) for _ in range(n))
    rss_y = statistics.median(peak_rss([yamllint, "-d", "relaxed", tree]) for _ in range(n))
    line(f"talhorn lint peak RSS ({how})", f"{rss_t:9.1f} MiB")
    line(f"yamllint peak RSS ({how})", f"{rss_y:9.1f} MiB")
    if len(CORES) < 2:
        line("scaling 1 -> 2 cores", "not measured: this process may use one CPU only")
        continue
    scaling_figures(tree)
    # The same files as one cluster: the work inside a cluster shared out.
    print(f"-- {size} files as one cluster", flush=True)
    scaling_figures(f"{work}/one-{size}")

print(f"-- one file (the pre-commit case): median of {runs} runs", flush=True)
# A Talos node patch, and the intent (`cluster.yaml`), whose schema check is the longest part
# of a one-file lint when it has to be compiled.
for label, one_file in (("one file", env["ONE_FILE"]), ("the intent", env["ONE_INTENT"])):
    t, y = interleave(runs, [talhorn, "lint", one_file], [yamllint, "-d", "relaxed", one_file])
    line(f"talhorn lint {label} wall (goal <= 10 ms)", f"{med(t, WALL) * 1000:9.1f} ms")
    line(f"yamllint {label} wall", f"{med(y, WALL) * 1000:9.1f} ms")

print(f"-- build of a 1,000-node intent: median of {runs} runs", flush=True)
check = [talhorn, "build", intent, "-o", out, "--check"]
b, c = interleave(runs, [talhorn, "build", intent, "-o", out], check, fresh)
line("build into a fresh folder wall (goal <= 0.5 s)", f"{med(b, WALL):9.3f} s")
line("build into a fresh folder CPU (user+sys)", f"{med(b, CPU):9.3f} s")
line("build --check wall (goal <= 150 ms)", f"{med(c, WALL) * 1000:9.1f} ms")
line("build --check CPU (user+sys)", f"{med(c, CPU) * 1000:9.1f} ms")
shutil.rmtree(built, ignore_errors=True)
