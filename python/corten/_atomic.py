"""Atomic file writes: a crash at any moment leaves either the old complete file
or the new complete file, never a mixture or a truncated one.

The data goes to a temporary file in the destination's folder (same file
system, so the rename is atomic), is flushed and fsynced, then renamed over the
destination; the folder is fsynced so the rename itself survives a power cut.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
from collections.abc import Iterator
from typing import BinaryIO

# Test hook: when set to N, the N-th atomic write of this process kills the
# process (SIGKILL) after half of the temporary file is written.
_KILL_ENV = "CORTEN_TEST_KILL_IN_WRITE"
_writes = 0


def _fsync_dir(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # some systems cannot open folders; the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[str]:
    """Yield a temporary path next to `path`; when the block succeeds, the file
    written there is fsynced and renamed over `path`. On error it is removed."""
    path = os.path.abspath(os.fspath(path))
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    while True:  # mode 0o666 less the umask, as open() gives (mkstemp's files are private)
        tmp = os.path.join(folder, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            break
        except FileExistsError:
            continue
    try:
        yield tmp
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(folder)


def remove_stale(path: str | os.PathLike) -> list[str]:
    """Delete temporary files an interrupted atomic write of `path` left behind
    (call when no other process writes `path`); returns their names."""
    path = os.path.abspath(os.fspath(path))
    folder, prefix = os.path.dirname(path), "." + os.path.basename(path) + "."
    gone = []
    with contextlib.suppress(FileNotFoundError):
        for name in os.listdir(folder):
            if name.startswith(prefix) and name.endswith(".tmp"):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(folder, name))
                    gone.append(name)
    return gone


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """A binary file to write; when the block succeeds it atomically replaces `path`."""
    global _writes
    _writes += 1
    kill_at = os.environ.get(_KILL_ENV)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        yield f
        f.flush()
        if kill_at and int(kill_at) == _writes:  # the test hook: die with half of the file written
            f.truncate(f.tell() // 2)
            os.fsync(f.fileno())
            os.kill(os.getpid(), signal.SIGKILL)


def write_bytes(path: str | os.PathLike, data: bytes | bytearray | memoryview) -> None:
    """Atomically replace `path` with `data`."""
    with atomic_open(path) as f:
        f.write(data)


def write_text(path: str | os.PathLike, text: str) -> None:
    """Atomically replace `path` with `text` (UTF-8)."""
    write_bytes(path, text.encode("utf-8"))
