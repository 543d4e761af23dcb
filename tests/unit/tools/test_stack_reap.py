"""Stopping a process the stack started from another command (so not this process's child): the
stop returns once it is gone and its ports are free — a `restart --grace 0` used to start the new
process while the killed one still held its port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest

from fseflow_tools import stack

# A parent that starts a listening child ignoring SIGTERM, prints its pid and port, and never
# reaps it: the child is not ours, and once killed stays a zombie of that parent.
PARENT = textwrap.dedent(
    """
    import subprocess, sys, time
    child = subprocess.Popen([sys.executable, "-c", '''
    import signal, socket, sys, threading, time
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    threading.Thread(target=time.sleep, args=(600,), daemon=True).start()
    print(server.getsockname()[1], flush=True)
    time.sleep(600)
    '''], stdout=subprocess.PIPE, text=True)
    print(child.pid, child.stdout.readline().strip(), flush=True)
    time.sleep(600)
    """
)


@pytest.fixture
def parent() -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    yield process
    process.kill()
    process.wait()


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_a_stop_with_no_grace_returns_once_the_killed_process_is_gone(parent: subprocess.Popen[str]) -> None:
    assert parent.stdout is not None
    pid_text, port_text = parent.stdout.readline().split()
    pid, port = int(pid_text), int(port_text)
    assert not _bindable(port)
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, 0)  # not ours to reap
    os.kill(pid, signal.SIGTERM)  # ignored by it
    stack._reap(pid, 0)
    assert stack._gone(pid)
    assert _bindable(port)
