"""A real, throwaway Kubernetes API server for validating manifests: etcd and kube-apiserver
(tools/k8s/build.sh) on loopback in a temporary folder, the operators' CRDs installed with
server-side apply, namespaces created for real, every other object applied with server-side dry
run, so that defaulting, CEL rules and admission run as in a cluster. No controller manager, no
scheduler, no kubelet: nothing is ever run, and the operators' webhooks are absent.

    with ApiServer(tools) as api:
        api.install_crds(crd_files(reference))
        results = api.dry_run(objects)
"""

from __future__ import annotations

import json
import secrets
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from fseflow_tools import dev_ca
from fseflow_tools.k8s.tools import Tools

FIELD_MANAGER = "fseflow-validate"
READY_TIMEOUT_S = 180.0
CRD_TIMEOUT_S = 60.0
REQUEST_TIMEOUT_S = 60.0


class ApiServerError(RuntimeError):
    pass


@dataclass(frozen=True)
class ObjectResult:
    """What the API server said of one object: `error` is empty when it was accepted."""

    kind: str
    namespace: str
    name: str
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error

    @property
    def label(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"


@dataclass(frozen=True)
class Resource:
    plural: str
    namespaced: bool


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _write_serving_certificate(directory: Path) -> None:
    """A CA (ca.crt) and the server's certificate for 127.0.0.1 and localhost (kube-apiserver.crt,
    .key) from the development CA's code, plus the service-account token signer (sa.key, sa.pub)."""
    ca = dev_ca.create_ca(directory, "fseflow validation CA")
    dev_ca.issue(
        ca, directory, "kube-apiserver", role="service", service="kube-apiserver",
        server_names=("localhost", "127.0.0.1"), valid_days=1,
    )  # fmt: skip
    # The service-account token signer: kube-apiserver refuses to start without one.
    signer = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (directory / "sa.key").write_bytes(
        signer.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    (directory / "sa.pub").write_bytes(
        signer.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


class ApiServer:
    """etcd and kube-apiserver on free loopback ports; `stop()` (or leaving the `with`) ends both
    and removes their folder."""

    def __init__(self, tools: Tools, *, log_level: int = 1) -> None:
        self._tools = tools
        self._log_level = log_level
        self._folder = tempfile.TemporaryDirectory(prefix="fseflow-apiserver-")
        self.home = Path(self._folder.name)
        self._token = secrets.token_hex(16)
        self._processes: list[subprocess.Popen[bytes]] = []
        self._resources: dict[tuple[str, str], Resource] = {}
        self.port = 0
        self._ssl = ssl.create_default_context()
        self.started_in_s = 0.0

    def __enter__(self) -> ApiServer:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        log = (self.home / f"{name}.log").open("wb")
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        self._processes.append(process)
        return process

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.home / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def start(self) -> None:
        started = time.monotonic()
        certs = self.home / "pki"
        certs.mkdir()
        _write_serving_certificate(certs)
        # One administrator, by bearer token, in the group every RBAC policy allows.
        (certs / "tokens.csv").write_text(f'{self._token},fseflow-admin,fseflow-admin,"system:masters"\n')
        self._ssl = ssl.create_default_context(cafile=str(certs / "ca.crt"))

        client_port, peer_port = _free_port(), _free_port()
        etcd = self._spawn(
            "etcd",
            [
                str(self._tools.path("etcd")),
                "--name=validation",
                f"--data-dir={self.home / 'etcd'}",
                f"--listen-client-urls=http://127.0.0.1:{client_port}",
                f"--advertise-client-urls=http://127.0.0.1:{client_port}",
                f"--listen-peer-urls=http://127.0.0.1:{peer_port}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{peer_port}",
                f"--initial-cluster=validation=http://127.0.0.1:{peer_port}",
                # A throwaway store: nothing to keep across a crash.
                "--unsafe-no-fsync",
                "--log-level=warn",
            ],
        )
        self.port = _free_port()
        self._spawn(
            "kube-apiserver",
            [
                str(self._tools.path("kube-apiserver")),
                f"--etcd-servers=http://127.0.0.1:{client_port}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={self.port}",
                f"--cert-dir={certs}",
                f"--tls-cert-file={certs / 'kube-apiserver.crt'}",
                f"--tls-private-key-file={certs / 'kube-apiserver.key'}",
                f"--token-auth-file={certs / 'tokens.csv'}",
                "--authorization-mode=RBAC",
                f"--service-account-key-file={certs / 'sa.pub'}",
                f"--service-account-signing-key-file={certs / 'sa.key'}",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                # Addresses the API server hands out to Services; nothing is routed to them.
                "--service-cluster-ip-range=10.96.0.0/24",
                # No kubelets or endpoints to keep up to date on a validation server.
                "--endpoint-reconciler-type=none",
                "--profiling=false",
                f"--v={self._log_level}",
            ],
        )
        self._wait_ready(etcd)
        self.started_in_s = time.monotonic() - started

    def _wait_ready(self, etcd: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        last = "no answer yet"
        while time.monotonic() < deadline:
            for name, process in (("etcd", etcd), ("kube-apiserver", self._processes[-1])):
                if process.poll() is not None:
                    raise ApiServerError(
                        f"{name} exited with status {process.returncode} before the API server was "
                        f"ready:\n{self.log_tail(name)}"
                    )
            try:
                status, body = self.request("GET", "/readyz")
            except OSError as error:  # not listening yet
                last = str(error)
            else:
                if status == 200:
                    return
                last = f"{status} {body[:300]!r}"
            time.sleep(0.25)
        raise ApiServerError(
            f"kube-apiserver not ready after {READY_TIMEOUT_S:.0f}s (last: {last}):\n"
            f"{self.log_tail('kube-apiserver')}"
        )

    def stop(self) -> None:
        for process in reversed(self._processes):  # the API server before its store
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)
        self._processes.clear()
        self._folder.cleanup()

    def request(
        self, method: str, path: str, body: Any = None, content_type: str = "application/json"
    ) -> tuple[int, str]:
        """One HTTPS request as the administrator: (status, body), errors included."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"https://127.0.0.1:{self.port}{path}",
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self._token}", "Content-Type": content_type},
        )
        try:
            # An https URL of our own loopback server, never one from input.
            with urllib.request.urlopen(  # noqa: S310
                request, context=self._ssl, timeout=REQUEST_TIMEOUT_S
            ) as response:
                return int(response.status), response.read().decode()
        except urllib.error.HTTPError as error:
            return int(error.code), error.read().decode()

    def resource(self, api_version: str, kind: str) -> Resource:
        """The REST resource serving a kind, from the server's discovery (cached per version)."""
        key = (api_version, kind)
        if key not in self._resources:
            path = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
            status, body = self.request("GET", path)
            if status == 200:
                for entry in json.loads(body)["resources"]:
                    if "/" not in entry["name"]:  # not a subresource
                        found = Resource(entry["name"], bool(entry["namespaced"]))
                        self._resources[(api_version, entry["kind"])] = found
            if key not in self._resources:
                raise ApiServerError(f"this API server serves no kind {kind} in {api_version}")
        return self._resources[key]

    def _object_path(self, obj: dict[str, Any]) -> tuple[str, str]:
        api_version, kind = str(obj["apiVersion"]), str(obj["kind"])
        resource = self.resource(api_version, kind)
        base = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
        namespace = ""
        if resource.namespaced:
            namespace = str(obj["metadata"].get("namespace") or "default")
            base += f"/namespaces/{namespace}"
        return f"{base}/{resource.plural}/{obj['metadata']['name']}", namespace

    def apply(self, obj: dict[str, Any], *, dry_run: bool) -> ObjectResult:
        """Server-side apply of one object (unknown or duplicate fields refused)."""
        kind, name = str(obj.get("kind", "?")), str(obj.get("metadata", {}).get("name", "?"))
        try:
            path, namespace = self._object_path(obj)
        except (ApiServerError, KeyError) as error:
            return ObjectResult(kind, str(obj.get("metadata", {}).get("namespace", "")), name, str(error))
        query = {"fieldManager": FIELD_MANAGER, "force": "true", "fieldValidation": "Strict"}
        if dry_run:
            query["dryRun"] = "All"
        status, body = self.request(
            "PATCH", f"{path}?{urllib.parse.urlencode(query)}", obj, "application/apply-patch+yaml"
        )
        if status in (200, 201):
            return ObjectResult(kind, namespace, name)
        try:
            message = str(json.loads(body).get("message", body))
        except ValueError:
            message = body
        return ObjectResult(kind, namespace, name, f"HTTP {status}: {message}")

    def install_crds(self, files: Iterable[Path]) -> list[ObjectResult]:
        """Apply every CustomResourceDefinition in the files for real, then wait until each is
        established (served); the Kafka CRD is too large for client-side apply's annotation."""
        results: list[ObjectResult] = []
        for path in files:
            for document in yaml.safe_load_all(path.read_text()):
                if document:
                    results.append(self.apply(document, dry_run=False))
        failed = [result for result in results if not result.ok]
        if failed:
            raise ApiServerError("CRDs refused: " + "; ".join(f"{r.name}: {r.error}" for r in failed))
        for result in results:
            self._wait_established(result.name)
        self._resources.clear()  # discovery now lists the new groups
        return results

    def _wait_established(self, name: str) -> None:
        deadline = time.monotonic() + CRD_TIMEOUT_S
        while time.monotonic() < deadline:
            status, body = self.request(
                "GET", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}"
            )
            if status == 200:
                conditions = json.loads(body).get("status", {}).get("conditions", [])
                if any(c["type"] == "Established" and c["status"] == "True" for c in conditions):
                    return
            time.sleep(0.2)
        raise ApiServerError(f"CRD {name} not established after {CRD_TIMEOUT_S:.0f}s")

    def dry_run(
        self, objects: Iterable[dict[str, Any]], existing_namespaces: Iterable[str] = ()
    ) -> list[ObjectResult]:
        """The rendered Namespaces are created for real first (namespaced objects need them), and
        `existing_namespaces` (those a deployment expects the cluster to have); then every other
        object is applied with dryRun=All. One result per object, in the input's order: an object
        in a namespace nobody creates fails, as it would on a fresh cluster."""
        objects = list(objects)
        results: dict[int, ObjectResult] = {}
        for name in existing_namespaces:
            made = self.apply(
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}, dry_run=False
            )
            if not made.ok:
                raise ApiServerError(f"namespace {name} could not be created: {made.error}")
        for index, obj in enumerate(objects):
            if obj.get("apiVersion") == "v1" and obj.get("kind") == "Namespace":
                results[index] = self.apply(obj, dry_run=False)
        for index, obj in enumerate(objects):
            if index not in results:
                results[index] = self.apply(obj, dry_run=True)
        return [results[index] for index in range(len(objects))]
