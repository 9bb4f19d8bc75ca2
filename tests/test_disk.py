"""The index folder on a real disk that fills up, a file size limit, and a read-only mount.

A full disk and a read-only folder are made for real: a 2 MB tmpfs and a read-only bind mount,
each inside a private mount namespace (`unshare --user --map-root-user --mount`), so no root is
needed and nothing outside the test sees them. Where the machine does not allow namespaces those
tests are skipped; the file size limit (RLIMIT_FSIZE) works everywhere and fails a build half-way.
"""

from __future__ import annotations

import json
import resource
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import cli_env

QUESTION = "Who composed Love Wins All?"
NEW_ARTICLE = (
    "---\ntitle: A fourth article\noutlet: Test Weekly\ndate: 2024-02-01\n---\n"
    + "The music video was filmed over five days in Budapest, the crew said on Thursday.\n" * 40
)


def _namespaces_allowed() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True, check=False)
    return probe.returncode == 0


needs_namespaces = pytest.mark.skipif(not _namespaces_allowed(), reason="this machine forbids user namespaces")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return cli_env(tmp_path, tmp_path / "disk" / "index", log_level="WARNING")


def storybot(*args: str, env: dict[str, str], limit_bytes: int | None = None) -> subprocess.CompletedProcess[str]:
    def limit() -> None:
        if limit_bytes is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
        preexec_fn=limit,  # the child runs no threads before exec
    )


def in_namespace(script: str, env: dict[str, str]) -> dict[str, object]:
    """Run a Python script as root of a private user and mount namespace; it prints one JSON object."""
    driver = textwrap.dedent(
        """
        import json, os, subprocess, sys

        def run(*args):
            done = subprocess.run([sys.executable, "-m", "cli", *args], capture_output=True, text=True, timeout=300)
            return {"rc": done.returncode, "out": done.stdout, "err": done.stderr}

        def sh(command):
            subprocess.run(command, shell=True, check=True)

        index = os.environ["STORYBOT_INDEX_DIR"]
        disk = os.path.dirname(index)
        result = {}
        """
    ) + textwrap.dedent(script)
    done = subprocess.run(
        ["unshare", "-rm", sys.executable, "-c", driver + "\nprint(json.dumps(result))"],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


def _one_line(stderr: str) -> str:
    """The one error line (progress lines of a build come before it), and no traceback."""
    lines = [line for line in stderr.splitlines() if line.startswith("storybot:")]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    assert stderr.rstrip().endswith(lines[0])
    return lines[0]


@needs_namespaces
def test_a_full_disk_fails_the_build_in_one_line_keeps_the_old_index_and_the_next_build_succeeds(
    env: dict[str, str],
) -> None:
    Path(env["STORYBOT_INDEX_DIR"]).parent.mkdir()
    result = in_namespace(
        f"""
        sh(f"mount -t tmpfs -o size=2m tmpfs {{disk}}")
        result["first"] = run("index", "build")
        free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
        with open(os.path.join(disk, "filler"), "wb") as handle:
            handle.write(b"x" * (free - 40_000))  # room for a manifest, not for a generation
        with open(os.path.join(os.environ["STORYBOT_ARTICLES_DIR"], "fourth.md"), "w") as handle:
            handle.write({NEW_ARTICLE!r})
        result["full"] = run("index", "build")
        result["full_again"] = run("index", "build")
        result["generations_when_full"] = sorted(n for n in os.listdir(index) if n.startswith("gen-"))
        result["ask_when_full"] = run("ask", "--json", {QUESTION!r})
        os.remove(os.path.join(disk, "filler"))
        result["freed"] = run("index", "build")
        result["ask_after"] = run("ask", "--json", "How long was the video filmed in Budapest?")
        """,
        env,
    )
    assert result["first"]["rc"] == 0, result["first"]  # type: ignore[index]
    for attempt in ("full", "full_again"):
        failed = result[attempt]
        assert failed["rc"] == 1  # type: ignore[index]
        line = _one_line(failed["err"])  # type: ignore[index]
        assert line.startswith(f"storybot: not enough disk space in {env['STORYBOT_INDEX_DIR']} (needed about ")
        assert line.endswith(" MB); the index in use is unchanged")
    assert len(result["generations_when_full"]) == 1  # type: ignore[arg-type]
    asked = json.loads(result["ask_when_full"]["out"])  # type: ignore[index]
    assert asked["citations"], "the old index still answers"
    assert result["freed"]["rc"] == 0, result["freed"]  # type: ignore[index]
    assert "1 added" in result["freed"]["out"]  # type: ignore[index]
    after = json.loads(result["ask_after"]["out"])  # type: ignore[index]
    assert any(source["outlet"] == "Test Weekly" for c in after["citations"] for source in c["sources"])


def test_a_build_that_cannot_finish_writing_removes_its_half_written_generation(env: dict[str, str]) -> None:
    assert storybot("index", "build", env=env).returncode == 0
    index = Path(env["STORYBOT_INDEX_DIR"])
    serving = json.loads((index / "manifest.json").read_text())["generation"]
    (Path(env["STORYBOT_ARTICLES_DIR"]) / "fourth.md").write_text(NEW_ARTICLE)

    # Files may grow to 20 kB: the vector file of the new generation (about 80 kB) cannot be written.
    failed = storybot("index", "build", env=env, limit_bytes=20_000)

    assert failed.returncode == 1
    assert _one_line(failed.stderr) == (
        f"storybot: cannot write the index in {index} (File too large); the index in use is unchanged"
    )
    assert [p.name for p in index.glob("gen-*")] == [serving]
    assert json.loads((index / "manifest.json").read_text())["generation"] == serving
    assert storybot("ask", QUESTION, env=env).returncode == 0
    rebuilt = storybot("index", "build", env=env)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "1 added" in rebuilt.stdout


@needs_namespaces
def test_a_read_only_index_folder_answers_and_a_build_says_why_in_one_line(env: dict[str, str]) -> None:
    assert storybot("index", "build", env=env).returncode == 0
    (Path(env["STORYBOT_ARTICLES_DIR"]) / "fourth.md").write_text(NEW_ARTICLE)
    result = in_namespace(
        """
        sh(f"mount --bind {index} {index} && mount -o remount,bind,ro {index}")
        result["ask"] = run("ask", "--json", "Who composed Love Wins All?")
        result["build"] = run("index", "build")
        result["stats"] = run("index", "stats")
        """,
        env,
    )
    assert result["ask"]["rc"] == 0, result["ask"]  # type: ignore[index]
    assert json.loads(result["ask"]["out"])["citations"]  # type: ignore[index]
    assert result["build"]["rc"] == 1  # type: ignore[index]
    assert _one_line(result["build"]["err"]) == (  # type: ignore[index]
        f"storybot: cannot write the index folder {env['STORYBOT_INDEX_DIR']} (Read-only file system); "
        "make it writable or set STORYBOT_INDEX_DIR to a folder that is"
    )
    assert result["stats"]["rc"] == 0  # type: ignore[index]


@needs_namespaces
def test_the_bot_with_no_index_in_a_read_only_folder_says_so_and_exits_2(env: dict[str, str]) -> None:
    index = Path(env["STORYBOT_INDEX_DIR"])
    index.mkdir(parents=True)
    bot_env = env | {"DISCORD_TOKEN": "a.fake.token", "STORYBOT_DISCORD_API_BASE": "http://127.0.0.1:9/api/v10"}
    result = in_namespace(
        """
        sh(f"mount --bind {index} {index} && mount -o remount,bind,ro {index}")
        done = subprocess.run([sys.executable, "-m", "bot"], capture_output=True, text=True, timeout=300)
        result["bot"] = {"rc": done.returncode, "err": done.stderr}
        """,
        bot_env,
    )
    assert result["bot"]["rc"] == 2, result["bot"]  # type: ignore[index]
    assert _one_line(result["bot"]["err"]) == (  # type: ignore[index]
        f"storybot: no index to serve, and none can be built: cannot write the index folder {index} "
        "(Read-only file system); make it writable or set STORYBOT_INDEX_DIR to a folder that is"
    )
