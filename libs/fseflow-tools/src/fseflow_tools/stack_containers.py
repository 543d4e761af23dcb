"""The embedded stack's services as containers of the fseflow image (`fseflow up --image IMAGE`,
docs/decisions.md D83): the broker, PostgreSQL and the tools stay on the host; each service runs
`python -m MODULE` in its own container, on the host's network, with the environment a process
would get and the stack's folder (certificates, Scor supports, seal key) mounted at the same path.

The recorded pid is the foreground `podman run`: it proxies SIGTERM to the service and ends with
it, so readiness, restart and `down` work as for a process."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

# runc and cgroupfs: the defaults (crun, systemd) fail on machines like CI's (brief, issue 12);
# the ulimits keep podman from asking for more than an unprivileged cgroup gives.
PODMAN = ("podman", "--runtime", "runc", "--cgroup-manager", "cgroupfs")
ULIMITS = ("--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024")


def container_name(home: str, instance: str) -> str:
    """One name per stack and instance, so two stacks on one host never collide."""
    return f"fseflow-{hashlib.sha256(home.encode()).hexdigest()[:8]}-{instance}"


def run_command(
    *, image: str, home: str, instance: str, module: str, env: dict[str, str], env_file: Path
) -> list[str]:
    """`podman run` of ``module`` in ``image``; ``env`` goes through a 0600 file, never argv
    (it holds Kafka passwords on Apache Kafka)."""
    env_file.parent.mkdir(parents=True, exist_ok=True)
    env_file.touch(mode=0o600)
    env_file.write_text("".join(f"{key}={value}\n" for key, value in sorted(env.items())))
    return [
        *PODMAN,
        "run",
        "--rm",
        "--replace",  # a container left by a SIGKILLed podman gives way to the new one
        "--name",
        container_name(home, instance),
        "--network",
        "host",
        *ULIMITS,
        # As deploy/k8s runs it: read-only root (podman puts a tmpfs on /tmp), no capability.
        "--read-only",
        "--cap-drop",
        "all",
        "--security-opt",
        "no-new-privileges",
        "--env-file",
        str(env_file),
        # :U gives the folder to the image's non-root user, which must read the keys and write
        # the Scor supports; root on the host still reads and writes everything.
        "--volume",
        f"{home}:{home}:U",
        image,
        "python",
        "-m",
        module,
    ]


def kill(home: str, instance: str) -> None:
    """SIGKILL the container itself: killing the podman client leaves it running."""
    subprocess.run(
        [*PODMAN, "kill", "--signal", "KILL", container_name(home, instance)],
        capture_output=True,
        check=False,
        timeout=30,
    )


def image_missing(image: str) -> str | None:
    """Why ``image`` cannot run here (no podman, not built), or None."""
    if shutil.which("podman") is None:
        return "podman is not installed (make container-tools)"
    found = subprocess.run(["podman", "image", "exists", image], capture_output=True, check=False, timeout=30)
    if found.returncode != 0:
        return f"image {image} is not in the local store (make image)"
    return None
