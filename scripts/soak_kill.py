#!/usr/bin/env python3
"""kill -9 soak: runs a small noisy-labels recipe once uninterrupted, then N times killed with SIGKILL at a
random moment (loading, mid-epoch, while a checkpoint or the label correction is written) and resumed with
`winnow run --resume` (no --force: the killed process's lock is free) until it completes. Every trial must end
with the uninterrupted run's weights, corrected labels and metrics, pass `PRAGMA integrity_check`, and hold no
duplicate rows. With --ranks 2 every run goes through `mpirun -np 2` and each trial kills rank 0 or rank 1 (chosen
at random): killing rank 1 makes mpirun end the job and rank 0 mark the run failed; killing rank 0 leaves the run
`running` with its lock free, which `--resume` takes over. Resumes use the same number of ranks.
Then (one process only) as many trials of `winnow export manifest --archive` killed with SIGKILL at a random
moment: each output must be absent or complete (equal to an uninterrupted export), and the retry (with --force
where an output survived) must write the uninterrupted export and leave no temporary file behind.
--exports-only skips the run trials (the uninterrupted run is still made, as the export's source).
Usage: scripts/soak_kill.py [--winnow .build/release/winnow] [--trials 20] [--seed 0] [--ranks 1] [--exports-only]
Prints one line per trial and exits 1 on the first difference."""
import argparse, fcntl, os, random, signal, sqlite3, subprocess, sys, tarfile, tempfile, time

RECIPE = "Recipes/noisy-labels/sama-reweight-correct.yaml"
OVERRIDES = ["--set", "training.epochs=3"]
TIMING = {"meta_seconds"}  # wall-clock metrics differ between runs by nature
TIMING_PREFIXES = ("phase_seconds.",)  # the seconds of each training phase per epoch (BilevelRun)


LAUNCHER = []  # set by --ranks: mpirun and its options


def run(winnow, db, *extra, check=True):
    return subprocess.run([*LAUNCHER, winnow, "run", *extra, "--db", db], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True, check=check)


def wait_for_run_lock(db, run_id=1, timeout=60):
    """Waits until no process holds run `run_id`'s lock beside `db` (True), or `timeout` seconds pass (False).

    mpirun can return while a rank it is ending still holds the lock; `--resume` then rightly refuses the run as
    still running, so the soak waits for the lock as a user would wait for the processes to end."""
    name = os.path.splitext(os.path.basename(db))[0]
    path = os.path.join(os.path.dirname(db), "checkpoints", f"{name}-run-{run_id}.lock")
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open(path, "r+") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(lock, fcntl.LOCK_UN)
                return True
        except FileNotFoundError:
            return True
        except BlockingIOError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.2)


def rank_process(launcher_pid, rank, executable):
    """The pid of the `executable` process of `rank` under the mpirun process `launcher_pid` (None if gone)."""
    children, stack = [], [launcher_pid]
    while stack:
        pid = stack.pop()
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                kids = [int(k) for k in f.read().split()]
        except OSError:
            kids = []
        children += kids
        stack += kids
    for pid in children:
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                env = dict(item.split(b"=", 1) for item in f.read().split(b"\0") if b"=" in item)
            with open(f"/proc/{pid}/comm") as f:
                name = f.read().strip()
        except OSError:
            continue
        # The kernel keeps the first 15 characters of the executable's name.
        if name == os.path.basename(executable)[:15] and env.get(b"OMPI_COMM_WORLD_RANK") == str(rank).encode():
            return pid
    return None


def contents(db):
    """What a run recorded, without timing: metrics, weights, labels; and the store's own checks."""
    with sqlite3.connect(db) as c:
        integrity = c.execute("PRAGMA integrity_check").fetchone()[0]
        duplicates = sum(c.execute(f"SELECT COUNT(*) FROM (SELECT 1 FROM {t} GROUP BY {k} HAVING COUNT(*) > 1)").fetchone()[0]
                         for t, k in [("sample_weights", "run_id, step, sample_id"), ("metrics", "run_id, name, step"),
                                      ("corrected_labels", "run_id, sample_id")])
        status = c.execute("SELECT status FROM runs WHERE id = 1").fetchone()
        metrics = c.execute("SELECT name, step, value FROM metrics WHERE run_id = 1 ORDER BY name, step").fetchall()
        weights = c.execute("SELECT step, sample_id, weight FROM sample_weights WHERE run_id = 1 ORDER BY step, sample_id").fetchall()
        labels = c.execute("SELECT * FROM corrected_labels WHERE run_id = 1 ORDER BY sample_id").fetchall()
    metrics = [m for m in metrics if m[0] not in TIMING and not m[0].startswith(TIMING_PREFIXES)]
    return integrity, duplicates, status and status[0], metrics, weights, labels


def export_outputs(folder):
    """The export's outputs in `folder`: the manifest's bytes and the archive's members (name, bytes); the
    compressed bytes are not compared (the compressor's headers may differ between runs). None where absent."""
    manifest, archive = os.path.join(folder, "kept.jsonl"), os.path.join(folder, "kept.tar.xz")
    members = None
    if os.path.exists(archive):
        with tarfile.open(archive) as t:
            members = [(m.name, t.extractfile(m).read() if m.isfile() else None) for m in t.getmembers()]
    return (open(manifest, "rb").read() if os.path.exists(manifest) else None), members


def export_soak(winnow, db, folder, trials, rng):
    """SIGKILL during `export manifest --archive` of the reference run; returns 0 when every trial holds."""
    def export(out, *extra):
        return [winnow, "export", "manifest", "--run", "1", "--by", "weight", "--keep", "0.5", "--db", db,
                "--output", os.path.join(out, "kept.jsonl"), "--archive", os.path.join(out, "kept.tar.xz"), *extra]
    reference = os.path.join(folder, "export-reference")
    os.mkdir(reference)
    start = time.monotonic()
    subprocess.run(export(reference), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    duration = time.monotonic() - start
    expected = export_outputs(reference)
    print(f"soak: uninterrupted export {duration:.2f} s")
    for trial in range(1, trials + 1):
        out = os.path.join(folder, f"export-{trial}")
        os.mkdir(out)
        delay = rng.uniform(0.01, duration)
        process = subprocess.Popen(export(out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        killed = process.poll() is None
        if killed:
            process.send_signal(signal.SIGKILL)
        process.wait()
        problems = [f"{name} half-written" for name, got, want in zip(["manifest", "archive"], export_outputs(out), expected)
                    if got is not None and got != want]
        survived = [name for name in ["kept.jsonl", "kept.tar.xz"] if os.path.exists(os.path.join(out, name))]
        retry = subprocess.run(export(out, *(["--force"] if survived else [])), stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
        if retry.returncode != 0:
            problems.append(f"the retry failed: {retry.stderr.strip()}")
        elif export_outputs(out) != expected:
            problems.append("the retry's outputs differ from the uninterrupted export")
        hidden = [name for name in os.listdir(out) if name.startswith(".")]
        if hidden:
            problems.append(f"temporary files left after the retry: {hidden}")
        moment = f"killed after {delay:.2f} s" if killed else f"finished before the kill at {delay:.2f} s"
        kept = ", ".join(survived) if survived else "nothing"
        print(f"soak: export trial {trial}: {moment}, {kept} left, retry: " + ("; ".join(problems) if problems else "identical"))
        if problems:
            return 1
    print(f"soak: {trials} export trials passed, 0 failed")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--winnow", default=".build/release/winnow")
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ranks", type=int, default=1)
    parser.add_argument("--exports-only", action="store_true", help="only the export trials")
    args = parser.parse_args()
    if args.trials < 1:
        parser.error("--trials must be at least 1")
    if args.ranks < 1 or args.ranks > 8:
        parser.error("--ranks must be 1…8")
    if args.exports_only and args.ranks > 1:
        parser.error("--exports-only runs in one process (no --ranks)")
    if args.ranks > 1:
        LAUNCHER[:] = ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", str(args.ranks)]
        os.environ["OPENBLAS_NUM_THREADS"] = "1"
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="winnow-soak-") as folder:
        reference = os.path.join(folder, "reference.sqlite")
        start = time.monotonic()
        run(args.winnow, reference, RECIPE, *OVERRIDES)
        duration = time.monotonic() - start
        expected = contents(reference)
        print(f"soak: uninterrupted run {duration:.1f} s, {len(expected[4])} weight rows, {len(expected[5])} labels")
        if args.exports_only:
            return export_soak(args.winnow, reference, folder, args.trials, rng)
        for trial in range(1, args.trials + 1):
            db = os.path.join(folder, f"trial-{trial}.sqlite")
            delay = rng.uniform(0.05, duration)
            process = subprocess.Popen([*LAUNCHER, args.winnow, "run", RECIPE, *OVERRIDES, "--db", db],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(delay)
            killed = process.poll() is None
            victim = "the process"
            if killed and args.ranks > 1:
                rank = rng.randrange(args.ranks)
                pid = rank_process(process.pid, rank, args.winnow)
                killed = pid is not None
                if killed:
                    victim = f"rank {rank}"
                    os.kill(pid, signal.SIGKILL)
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    print(f"soak: trial {trial}: mpirun still running 60 s after {victim} was killed", file=sys.stderr)
                    process.kill()
                    return 1
            elif killed:
                process.send_signal(signal.SIGKILL)
            process.wait()
            resumes = 0
            state = contents(db)[2] if os.path.exists(db) else None
            while state != "completed":
                if state is None:  # killed before the run was recorded: nothing to resume
                    run(args.winnow, db, RECIPE, *OVERRIDES)
                else:
                    if not wait_for_run_lock(db):
                        print(f"soak: trial {trial}: the run's lock is still held 60 s after the launcher ended",
                              file=sys.stderr)
                        return 1
                    result = run(args.winnow, db, "--resume", "1", check=False)
                    if result.returncode != 0:
                        print(f"soak: trial {trial}: resume failed: {result.stderr.strip()}", file=sys.stderr)
                        return 1
                    resumes += 1
                state = contents(db)[2]
            got = contents(db)
            problems = []
            if got[0] != "ok":
                problems.append(f"integrity_check says {got[0]}")
            if got[1]:
                problems.append(f"{got[1]} duplicate keys")
            for name, index in [("metrics", 3), ("weights", 4), ("corrected labels", 5)]:
                if got[index] != expected[index]:
                    problems.append(f"{name} differ from the uninterrupted run")
            if got[3] != expected[3]:
                differing = sorted(set(got[3]) ^ set(expected[3]))[:6]
                problems.append("first differing metric rows (name, step, value): " + ", ".join(map(str, differing)))
            moment = f"{victim} killed after {delay:.2f} s" if killed else f"finished before the kill at {delay:.2f} s"
            print(f"soak: trial {trial}: {moment}, {resumes} resume(s): " + ("; ".join(problems) if problems else "identical"))
            if problems:
                return 1
        print(f"soak: {args.trials} passed, 0 failed")
        if args.ranks == 1:
            return export_soak(args.winnow, reference, folder, args.trials, rng)
    return 0


if __name__ == "__main__":
    sys.exit(main())
