"""Hostile files and lost state, through the CLI as a user runs it (a subprocess each):
where a render writes, what it pays for when local state is lost or damaged, and one
writer per journal.

The runtime cases render against ``storyboard emulator serve`` on a free loopback port
(started here, stopped by pid) and count createTask calls from its ``/emulator/stats``.
Every hostile run is bounded (10 CPU seconds, 300 MB) and never prints a traceback or
"internal error".
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from storyboard.atomic import atomic_path
from storyboard.run.backend import choose_backend
from storyboard.run.lock import JournalBusy, journal_lock, lock_path
from storyboard.run.render import prepare
from storyboard.run.sidecar import ClipSidecar, adopt_clips, clip_name, write_sidecar
from storyboard.store import SCHEMA_VERSION, StateStore, _journal_error
from tests.emulator_server import CliEmulator, kie_env, start_cli, stats

from .bounds import HANG_SECONDS, MAX_CPU_SECONDS, MAX_RSS_MB

ROOT = Path(__file__).resolve().parents[2]
CASES = Path(__file__).parent / "state"
_MEASURED = """
import atexit, os, resource

def _peak():  # this process's own high-water mark (not the forking parent's) and its children's
    with open("/proc/self/status") as status:
        own = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    with open(os.environ["HOSTILE_PEAK_FILE"], "w") as out:
        out.write(str(max(own, children)))

atexit.register(_peak)
from storyboard.cli import main
main()
"""
MEASURED_CLI = [sys.executable, "-c", _MEASURED]
"""The CLI, writing its peak RSS (kB) at exit: ``wait4``'s figure would include the memory
of the pytest process it was forked from."""


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    cpu_seconds: float
    peak_mb: float

    @property
    def text(self) -> str:
        return self.stdout + self.stderr


def _env(base_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KIE_", "STORYBOARD_"))}
    if base_url is not None:
        env |= kie_env(base_url, POLL_MAX_INTERVAL="0.3")
    return env | {"COLUMNS": "200"}


def start(args: list[str], cwd: Path, base_url: str | None = None) -> subprocess.Popen[bytes]:
    """``storyboard ARGS`` started in ``cwd`` (output to files beside nothing: pipes)."""
    stamp = time.monotonic_ns()
    out = (cwd.parent / f"out-{stamp}.txt").open("w+b")
    errs = (cwd.parent / f"err-{stamp}.txt").open("w+b")
    peak = cwd.parent / f"peak-{stamp}.txt"
    env = _env(base_url) | {"HOSTILE_PEAK_FILE": str(peak)}
    process = subprocess.Popen([*MEASURED_CLI, *args], cwd=cwd, env=env, stdout=out, stderr=errs)
    process.files = (out, errs)  # type: ignore[attr-defined]
    process.peak_file = peak  # type: ignore[attr-defined]
    return process


def finish(process: subprocess.Popen[bytes], *, bounded: bool = True) -> Run:
    """Wait for ``process`` (by pid, with its peak memory); with ``bounded`` (a hostile
    case, not a set-up render) assert it stayed within 10 CPU seconds (its ffmpeg children
    included) and 300 MB."""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    texts = []
    for handle in process.files:  # type: ignore[attr-defined]
        handle.seek(0)
        texts.append(handle.read().decode("utf-8", "replace"))
        handle.close()
        Path(handle.name).unlink()
    cpu = usage.ru_utime + usage.ru_stime
    peak_file: Path = process.peak_file  # type: ignore[attr-defined]
    peak_kb = int(peak_file.read_text()) if peak_file.is_file() else 0
    peak_file.unlink(missing_ok=True)
    run = Run(process.returncode, texts[0], texts[1], cpu, peak_kb / 1024)
    assert "Traceback" not in run.text and "internal error" not in run.text, run.text
    if bounded:
        assert run.cpu_seconds < MAX_CPU_SECONDS, f"used {run.cpu_seconds:.1f} CPU s"
        assert 0 < run.peak_mb < MAX_RSS_MB, f"peak {run.peak_mb:.0f} MB"
    return run


def cli(args: list[str], cwd: Path, base_url: str | None = None, *, bounded: bool = True) -> Run:
    return finish(start(args, cwd, base_url), bounded=bounded)


def setup(args: list[str], cwd: Path, base_url: str | None = None) -> None:
    """A render that prepares a case (not itself hostile: not bounded)."""
    run = cli(args, cwd, base_url, bounded=False)
    assert run.code == 0, run.text


@dataclass
class Emulator:
    base_url: str
    baseline: int = 0

    def calls(self) -> int:
        return int(stats(self.base_url)["create_task_calls"])

    def creates(self) -> int:
        """createTask calls since the test started."""
        return self.calls() - self.baseline


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[float, str]]:
    """``storyboard emulator serve`` on free loopback ports, one per task latency, started
    on first use and stopped by pid at the end of the module."""
    started: list[CliEmulator] = []

    class Lazy(dict[float, str]):
        def __missing__(self, latency: float) -> str:
            storage = tmp_path_factory.mktemp("emulator")
            options = ("--latency", str(latency), "--storage-dir", str(storage))
            started.append(start_cli(*options, env=_env(None)))
            self[latency] = started[-1].base_url
            return self[latency]

    try:
        yield Lazy()
    finally:
        for server in started:
            server.stop()


@pytest.fixture
def emulator_latency() -> float:
    """Seconds from createTask to a finished task (a test parametrizes it to override)."""
    return 0.2


@pytest.fixture
def emulator(servers: dict[float, str], emulator_latency: float) -> Emulator:
    """The served emulator of this latency, counting createTask from now."""
    served = Emulator(servers[emulator_latency])
    served.baseline = served.calls()
    return served


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the examples in ``tmp_path/p`` (``tmp_path`` is the outside world)."""
    shutil.copytree(
        ROOT / "examples", tmp_path / "p", ignore=shutil.ignore_patterns("out", ".storyboard")
    )
    return tmp_path / "p"


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` → its SHA-256."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def clips(project: Path) -> list[Path]:
    return sorted((project / ".storyboard" / "clips").glob("*.mp4"))


def temp_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if ".sb-tmp" in p.name or p.name.endswith(".part")]


# -- the journal as the source of truth for money ------------------------------------------


def test_a_deleted_clip_is_downloaded_again_not_paid_again(
    project: Path, emulator: Emulator
) -> None:
    setup(["render", "single-shot.yaml", "--no-assemble"], project, emulator.base_url)
    assert emulator.creates() == 1
    (clip,) = clips(project)
    content = clip.read_bytes()
    clip.unlink()
    run = cli(["render", "single-shot.yaml", "--no-assemble"], project, emulator.base_url)
    assert run.code == 0, run.text
    assert emulator.creates() == 1  # 0 new createTask
    assert "deleted" in run.stderr and "downloading it again" in run.stderr
    assert clip.read_bytes() == content


def test_a_lost_or_emptied_journal_is_rebuilt_from_the_clips_on_disk(
    project: Path, emulator: Emulator
) -> None:
    board = ["render", "single-shot.yaml", "--no-assemble", "--json"]
    setup(board, project, emulator.base_url)
    journal = project / ".storyboard" / "state.sqlite"
    for lose in (lambda: journal.write_bytes(b""), journal.unlink):
        lose()
        run = cli(board, project, emulator.base_url)
        assert run.code == 0, run.text
        assert json.loads(run.stdout.splitlines()[-1])["tasks_created"] == 0
        assert "journaled them again from their sidecars" in run.stdout
    assert emulator.creates() == 1  # 0 new createTask


def test_a_damaged_journal_names_the_file_and_doctor_rebuilds_it(
    project: Path, emulator: Emulator
) -> None:
    board = ["render", "single-shot.yaml", "--no-assemble"]
    setup(board, project, emulator.base_url)
    journal = project / ".storyboard" / "state.sqlite"
    damaged = b"this is not a journal " * 300
    journal.write_bytes(damaged)
    run = cli(board, project, emulator.base_url)
    assert run.code == 2
    assert str(journal) in run.stderr and "damaged" in run.stderr
    assert f"storyboard doctor {journal}" in run.stderr
    doctor = cli(["doctor", str(journal)], project)
    assert doctor.code == 0, doctor.text
    (kept,) = journal.parent.glob("state.sqlite.damaged-*")
    assert kept.read_bytes() == damaged  # set aside, never deleted
    assert "1 clip(s) journaled" in doctor.stdout
    assert cli(["doctor", str(journal), "--check"], project).code == 0
    assert cli(board, project, emulator.base_url).code == 0
    assert emulator.creates() == 1


@pytest.mark.parametrize("kind", ["folder", "fifo", "newer"])
def test_an_unusable_journal_is_one_clear_error(project: Path, kind: str) -> None:
    journal = project / ".storyboard" / "state.sqlite"
    journal.parent.mkdir()
    if kind == "folder":
        journal.mkdir()
    elif kind == "fifo":
        os.mkfifo(journal)
    else:
        with sqlite3.connect(journal) as db:
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        db.close()
    run = cli(["render", "single-shot.yaml", "--no-assemble"], project)
    assert run.code == 2 and f"journal {journal}" in run.stderr, run.text
    expected = {
        "folder": "not a regular file",
        "fifo": "not a regular file",
        "newer": "newer storyboard",
    }[kind]
    assert expected in run.stderr


def test_a_journal_of_the_previous_release_is_migrated_and_resumed(project: Path) -> None:
    """A journal written before schema versions (kept as SQL text) is upgraded in place,
    and its finished clip is reused: no new task."""
    board = project / "single-shot.yaml"
    prepared = prepare(board, choose_backend("offline"))
    (planned,) = prepared.plan.generations.values()
    clip = project / ".storyboard" / "clips" / "hello.mp4"
    clip.parent.mkdir(parents=True)
    clip.write_bytes(b"a clip from the previous release")
    canonical = json.dumps(planned.canonical).replace("'", "''")
    sql = (CASES / "journal-v0.sql").read_text(encoding="utf-8")
    sql = sql.replace('{"canonical": "@CANONICAL@"}', canonical).replace("@KEY@", planned.key)
    sql = sql.replace("@STORYBOARD@", str(board.resolve())).replace("@CLIP@", str(clip))
    journal = project / ".storyboard" / "state.sqlite"
    journal.unlink()
    with sqlite3.connect(journal) as db:
        db.executescript(sql)
    db.close()
    run = cli(["render", "single-shot.yaml", "--no-assemble", "--json"], project)
    assert run.code == 0, run.text
    assert json.loads(run.stdout.splitlines()[-1])["tasks_created"] == 0
    with sqlite3.connect(journal) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        columns = {row[1] for row in db.execute("PRAGMA table_info(tasks)")}
    db.close()
    assert {"record_id", "credits_consumed"} <= columns  # added by the version 2 step


def _journal_rows(journal: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(journal) as db:
        rows = db.execute(sql).fetchall()
    db.close()
    return rows


@pytest.mark.parametrize("state", ["submitted", "done"])
def test_a_journal_of_the_previous_release_resumes_its_task_on_the_service(
    project: Path, emulator: Emulator, state: str
) -> None:
    """End to end against a served emulator: the task a render created is written into
    a version-0 journal (the previous release's tables and rows) as in flight
    (``submitted``) or finished with its clip deleted (``done``); ``storyboard render``
    migrates the journal and polls or downloads that task: no new createTask."""
    board = ["render", "single-shot.yaml", "--no-assemble", "--json"]
    setup(board, project, emulator.base_url)
    assert emulator.creates() == 1
    journal = project / ".storyboard" / "state.sqlite"
    ((key, canonical, task_id, url),) = _journal_rows(
        journal, "SELECT key, canonical, task_id, result_url FROM generations"
    )
    for path in [journal, *project.glob(".storyboard/state.sqlite-*")]:
        path.unlink()
    shutil.rmtree(project / ".storyboard" / "clips")  # the clip and its sidecar: only the journal
    sql = (CASES / "journal-v0.sql").read_text(encoding="utf-8")
    sql = sql.replace('{"canonical": "@CANONICAL@"}', canonical.replace("'", "''"))
    sql = sql.replace("@KEY@", key).replace("@STORYBOARD@", str((project / board[1]).resolve()))
    done = state == "done"
    generation = (state, task_id, url if done else None, str(project / "gone.mp4"))
    task = (task_id, "success" if done else "submitted", time.time() if done else None)
    with sqlite3.connect(journal) as db:
        db.executescript(sql)
        for table in ("generations", "runs", "scenes", "uploads"):
            db.execute(f"UPDATE {table} SET namespace = ?", (f"kie:{emulator.base_url}",))
        db.execute(
            "UPDATE generations SET state = ?, task_id = ?, result_url = ?, clip_path = ?",
            generation,
        )
        db.execute("UPDATE tasks SET task_id = ?, state = ?, finished_at = ?", task)
        assert db.execute("PRAGMA user_version").fetchone()[0] == 0
    db.close()
    run = cli(board, project, emulator.base_url)
    assert run.code == 0, run.text
    summary = json.loads(run.stdout.splitlines()[-1])
    assert summary["tasks_created"] == 0 and emulator.creates() == 1  # no new createTask
    (result,) = summary["generations"].values()
    assert result["status_before"] == "resume" and result["task_ids"] == [task_id]
    assert _journal_rows(journal, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert _journal_rows(journal, "SELECT state, task_id FROM generations") == [("done", task_id)]
    (clip,) = clips(project)
    assert clip.stat().st_size > 0


# -- one writer per journal ----------------------------------------------------------------


def _frozen_mid_generation(
    process: subprocess.Popen[bytes], journal: Path, emulator: Emulator
) -> None:
    """Wait until ``process`` holds the journal's lock and has created its task, then
    stop it (SIGSTOP, by pid): it stays alive, mid-run, however loaded the machine is."""
    deadline = time.monotonic() + HANG_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, "the first render ended before it was frozen"
        try:
            holder = json.loads(lock_path(journal).read_text() or "{}").get("pid")
        except (OSError, ValueError):
            holder = None
        if holder == process.pid and emulator.creates() == 1:
            os.kill(process.pid, signal.SIGSTOP)
            return
        time.sleep(0.02)
    raise AssertionError("the first render never took the lock and created its task")


@pytest.fixture
def first_render(project: Path, emulator: Emulator) -> Iterator[subprocess.Popen[bytes]]:
    """A render of single-shot.yaml, frozen while its task is generating; resumed (SIGCONT)
    and awaited by the test, or killed by pid if the test failed first."""
    first = start(["render", "single-shot.yaml", "--no-assemble"], project, emulator.base_url)
    try:
        _frozen_mid_generation(first, project / ".storyboard" / "state.sqlite", emulator)
        yield first
    finally:
        if first.returncode is None:
            os.kill(first.pid, signal.SIGKILL)
            os.kill(first.pid, signal.SIGCONT)
            first.wait(timeout=10)


@pytest.mark.parametrize("emulator_latency", [5.0])  # the first is mid-generation
@pytest.mark.parametrize("second", [[], ["--resubmit-uncertain"]])
def test_a_second_render_on_the_same_journal_exits_at_once(
    project: Path, emulator: Emulator, first_render: subprocess.Popen[bytes], second: list[str]
) -> None:
    board = ["render", "single-shot.yaml", "--no-assemble"]
    other = cli([*board, *second], project, emulator.base_url)
    assert other.code == 2
    assert f"in use by pid {first_render.pid}" in other.stderr and "--wait" in other.stderr
    assert "in flight" not in other.text and "resubmit" not in other.text
    os.kill(first_render.pid, signal.SIGCONT)
    assert finish(first_render, bounded=False).code == 0
    assert emulator.creates() == 1  # exactly one task per generation


@pytest.mark.parametrize("emulator_latency", [5.0])
def test_with_wait_the_second_render_reuses_what_the_first_made(
    project: Path, emulator: Emulator, first_render: subprocess.Popen[bytes]
) -> None:
    other = start(
        ["render", "single-shot.yaml", "--no-assemble", "--wait"], project, emulator.base_url
    )
    errors = other.files[1]  # type: ignore[attr-defined]
    deadline = time.monotonic() + HANG_SECONDS
    while b"waiting for" not in Path(errors.name).read_bytes():
        assert other.poll() is None and time.monotonic() < deadline, "it did not wait"
        time.sleep(0.02)
    os.kill(first_render.pid, signal.SIGCONT)
    assert finish(first_render, bounded=False).code == 0
    waited = finish(other, bounded=False)
    assert waited.code == 0, waited.text
    assert f"waiting for pid {first_render.pid}" in waited.stderr
    assert "1 cached" in waited.stderr and waited.peak_mb < MAX_RSS_MB
    assert emulator.creates() == 1


# -- where a render writes -----------------------------------------------------------------


def _set_output(board: Path, value: str) -> int:
    """Point ``output:`` at ``value``; the line it is on."""
    lines = board.read_text(encoding="utf-8").splitlines()
    number = next(n for n, line in enumerate(lines, 1) if line.startswith("output:"))
    lines[number - 1] = f"output: {value}"
    board.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return number


@pytest.mark.parametrize(
    ("board", "output", "what"),
    [
        ("continuity-chain.yaml", "refs/cat.mp4", "the asset 'refs/cat.mp4'"),
        ("rehearsal-room.yaml", "./refs/../refs/cat.mp4", "the asset 'refs/cat.mp4'"),
        ("single-shot.yaml", "refs/room.mp4", "contact"),  # its contact sheet: refs/room…
        ("single-shot.yaml", ".storyboard/clips/x.mp4", "clips folder"),
        ("single-shot.yaml", "../outside.mp4", "outside the storyboard's folder"),
        ("single-shot.yaml", "@ABS@", "outside the storyboard's folder"),
        ("continuity-chain.yaml", "out/link.mp4", "the asset 'refs/cat.mp4'"),  # a symlink
    ],
)
def test_an_output_in_the_file_that_is_an_input_or_outside_is_refused_at_its_line(
    project: Path, board: str, output: str, what: str
) -> None:
    if what == "contact":  # refs/room.contact.png is not an input; make it one
        shutil.copy(project / "refs" / "room.png", project / "refs" / "room.contact.png")
        text = (project / board).read_text().replace("refs/room.png", "refs/room.contact.png")
        (project / board).write_text(text)
        what = "the asset 'refs/room.contact.png' (with its hand-off room.contact.png)"
    if output == "out/link.mp4":
        (project / "out").mkdir()
        (project / "out" / "link.mp4").symlink_to(project / "refs" / "cat.mp4")
    value = str(project.parent / "abs.mp4") if output == "@ABS@" else output
    line = _set_output(project / board, value)
    before, outside = snapshot(project), sorted(project.parent.iterdir())
    run = cli(["render", board], project)
    assert run.code == 2, run.text
    assert f"{board}:{line}:" in run.stderr
    assert "output.path" in run.stderr and what in run.stderr
    assert snapshot(project) == before  # inputs byte-identical, nothing written
    assert sorted(project.parent.iterdir()) == outside  # no byte outside the folder


@pytest.mark.parametrize(
    ("option", "what"),
    [
        ("single-shot.yaml", "the storyboard itself"),
        ("refs/room.png", "the asset 'refs/room.png'"),
        ("audio/theme.mp3", "the music"),
        (".storyboard/state.sqlite", "the journal"),
    ],
)
def test_an_output_option_that_is_an_input_is_refused(
    project: Path, option: str, what: str
) -> None:
    board = project / "single-shot.yaml"
    text = board.read_text().replace("edit:\n", "edit:\n  music: {path: audio/theme.mp3}\n")
    board.write_text(text)
    (project / ".storyboard").mkdir()
    (project / ".storyboard" / "state.sqlite").write_bytes(b"")
    before = snapshot(project)
    run = cli(["render", "single-shot.yaml", "-o", option], project)
    assert run.code == 2, run.text
    assert f"-o {option}" in run.stderr and what in run.stderr
    assert snapshot(project) == before


def test_allow_outside_lets_the_file_write_outside(project: Path) -> None:
    line = _set_output(project / "single-shot.yaml", "../elsewhere/edit.mp4")
    assert line > 0
    run = cli(["render", "single-shot.yaml", "--allow-outside"], project)
    assert run.code == 0, run.text
    assert (project.parent / "elsewhere" / "edit.mp4").stat().st_size > 0


def test_an_absolute_output_option_outside_is_written_with_a_note(project: Path) -> None:
    target = project.parent / "typed.mp4"
    run = cli(["render", "single-shot.yaml", "-o", str(target)], project)
    assert run.code == 0, run.text
    assert "outside the storyboard's folder" in run.stderr and target.stat().st_size > 0


def test_an_output_option_naming_a_folder_writes_inside_it(project: Path) -> None:
    (project / "renders").mkdir()
    run = cli(["render", "single-shot.yaml", "-o", "renders"], project)
    assert run.code == 0, run.text
    assert (project / "renders" / "good-boy.mp4").stat().st_size > 0
    assert (project / "renders" / "good-boy.contact.png").stat().st_size > 0
    assert not temp_files(project)


# -- atomic writes ---------------------------------------------------------------------------


def test_atomic_path_leaves_nothing_on_failure(tmp_path: Path) -> None:
    dest = tmp_path / "edit.mp4"
    dest.write_bytes(b"the previous edit")
    with pytest.raises(RuntimeError), atomic_path(dest) as temp:
        temp.write_bytes(b"half")
        raise RuntimeError("ffmpeg died")
    assert dest.read_bytes() == b"the previous edit"
    assert sorted(tmp_path.iterdir()) == [dest]


def test_a_temp_file_left_by_a_kill_is_removed_by_the_next_write(tmp_path: Path) -> None:
    dest = tmp_path / "edit.contact.png"
    stale = tmp_path / ".edit.contact.0badf00d.sb-tmp.png"
    stale.write_bytes(b"")  # what a kill -9 mid-write leaves
    with atomic_path(dest) as temp:
        temp.write_bytes(b"png")
    assert sorted(tmp_path.iterdir()) == [dest]


def test_a_render_stopped_while_assembling_leaves_no_partial_output(project: Path) -> None:
    """SIGTERM during the assembly: the previous edit stays whole, no temp file remains."""
    setup(["render", "single-shot.yaml", "--no-assemble"], project)
    out = project / "out"
    process = start(["render", "single-shot.yaml"], project)
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline and process.poll() is None:
        if out.is_dir() and any(out.iterdir()):
            break  # the assembly is writing
        time.sleep(0.005)
    process.send_signal(signal.SIGTERM)
    run = finish(process)
    assert run.code in {0, 130}, run.text
    assert not temp_files(project)
    for written in out.glob("*") if out.is_dir() else []:
        assert written.stat().st_size > 0


# -- units: the pieces above, without a subprocess -------------------------------------------


@pytest.mark.parametrize(
    ("error", "says"),
    [
        (sqlite3.DatabaseError("file is not a database"), "storyboard doctor"),
        (sqlite3.OperationalError("attempt to write a readonly database"), "writable"),
        (sqlite3.OperationalError("unable to open database file"), "writable"),
    ],
)
def test_sqlite_errors_become_one_line_naming_the_journal(
    tmp_path: Path, error: sqlite3.Error, says: str
) -> None:
    message = str(_journal_error(tmp_path / "state.sqlite", error))
    assert message.startswith(f"journal {tmp_path / 'state.sqlite'}: ") and says in message


def test_the_lock_names_its_holder_and_is_released(tmp_path: Path) -> None:
    journal = tmp_path / "state.sqlite"
    busy = pytest.raises(JournalBusy, match=f"in use by pid {os.getpid()}")
    with journal_lock(journal), busy, journal_lock(journal):
        pass  # pragma: no cover - never reached
    with journal_lock(journal):  # released: free again
        pass


def test_only_intact_clips_of_the_right_service_are_adopted(tmp_path: Path) -> None:
    folder = tmp_path / "clips"
    folder.mkdir()
    for name, namespace, content, size in [
        ("good", "kie:x", b"clip", 4),
        ("offline", "offline", b"clip", 4),
        ("truncated", "kie:x", b"cl", 4),
    ]:
        clip = folder / clip_name(name, name)
        clip.write_bytes(content)
        write_sidecar(
            clip,
            ClipSidecar(
                key=name,
                namespace=namespace,
                scene_id=name,
                storyboard="sb",
                task_id=f"t-{name}",
                result_url="u",
                credits=1.0,
                size=size,
                canonical={},
            ),
        )
    with StateStore(tmp_path / "state.sqlite") as store:
        scenes = {"good": "good", "offline": "offline", "truncated": "truncated"}
        adopted = adopt_clips(store, folder, scenes, "kie:x")
        record = store.generation("good")
    assert adopted == ["good"]
    assert record is not None and record.clip == folder / clip_name("good", "good")
    assert record.task_id == "t-good"
