"""Start the real app as its own process on 127.0.0.1, as an operator would."""
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stop_process(process: subprocess.Popen, timeout: float = 10) -> None:
    """Ask a server process to stop; kill it if it does not within `timeout` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class LiveServer:
    """`flask run` (development) or, with production=True, gunicorn with its shipped config."""

    def __init__(self, env: dict[str, str], production: bool = False, log_path: Path | None = None):
        self.env = {**os.environ, **env}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.production = production
        self.log_path = log_path
        self.process = None

    def command(self, *args: str) -> str:
        result = subprocess.run([*FLASK, *args], cwd=ROOT, env=self.env, capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def start(self) -> "LiveServer":
        if self.production:
            command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{self.port}"]
        else:
            command = [*FLASK, "run", "--host", "127.0.0.1", "--port", str(self.port)]
        if self.log_path:
            with open(self.log_path, "ab") as log:  # the child keeps its own copy of the handle
                self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=log)
        else:
            self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=1):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the server did not start")

    def stop(self) -> None:
        if self.process:
            stop_process(self.process)


def json_request(server, source_ip: str, method: str, path: str, body=None, token: str | None = None,
                 headers: dict[str, str] | None = None, context=None, timeout: float = 10):
    """One JSON request to a live `server` from the loopback address `source_ip`, over HTTPS when
    an ssl `context` is given: (status, headers, payload)."""
    connect = dict(timeout=timeout, source_address=(source_ip, 0))
    connection = (http.client.HTTPSConnection("127.0.0.1", server.port, context=context, **connect) if context
                  else http.client.HTTPConnection("127.0.0.1", server.port, **connect))
    sent = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {}),
            **(headers or {})}
    connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=sent)
    response = connection.getresponse()
    answer = response.status, response.headers, json.loads(response.read() or b"null")
    connection.close()
    return answer


def demo_server(directory: Path, **env: str) -> LiveServer:
    """`flask run` on a fresh SQLite database in `directory`, migrated and seeded with the demo, started."""
    live = LiveServer({"DATABASE_URL": f"sqlite:///{directory / 'demo.sqlite'}", "SECRET_KEY": "demo-test-" + "k" * 32,
                       "RATELIMIT_ENABLED": "false", **env})
    live.command("db", "upgrade")
    live.command("seed-demo")
    return live.start()


class RedisServer:
    """A private redis-server on a free loopback port, so a test may stop and start it."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self) -> "RedisServer":
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


class PostgresServer:
    """A private PostgreSQL cluster on a free loopback port, so a test may restart it."""

    def __init__(self, directory: Path):
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
        self.bin = bins[-1] if bins else None
        self.directory = directory
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def available(self) -> bool:
        return self.bin is not None and (self.bin / "initdb").exists()

    def _as_postgres(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=60)

    def start(self) -> "PostgresServer":
        data = self.directory / "data"
        if not data.exists():
            self.directory.mkdir(parents=True, exist_ok=True)
            if os.geteuid() == 0:
                shutil.chown(self.directory, "postgres", "postgres")
            self._as_postgres(str(self.bin / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust")
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(data), "-w", "-l", str(self.directory / "log"),
                          "-o", f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1", "start")
        return self

    def stop(self) -> None:
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.directory / "data"), "-w", "-m", "fast", "stop")

    def restart(self) -> None:
        """Stop (dropping every connection) and start again on the same port."""
        self.stop()
        self.start()


class NginxServer:
    """The nginx of `deploy/nginx.conf`, run as written but on loopback ports: its upstream is
    `app_ports`, its HTTPS server has a throwaway certificate. In the foreground (daemon off),
    so `stop` ends exactly the master process this object started, and its workers with it."""

    def __init__(self, directory: Path, app_ports: list[int]):
        self.directory = directory
        self.app_ports = app_ports
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.process = None

    def _site(self) -> str:
        site = (ROOT / "deploy" / "nginx.conf").read_text()
        replacements = [("listen 80;", f"listen 127.0.0.1:{free_port()};"),
                        ("listen 443 ", f"listen 127.0.0.1:{self.port} "),
                        ("/etc/letsencrypt/live/community.example.com/", f"{self.directory}/"),
                        *[(f"server 127.0.0.1:{shipped} ", f"server 127.0.0.1:{port} ")
                          for shipped, port in zip((8001, 8002), self.app_ports, strict=True)]]
        for shipped, local in replacements:
            assert shipped in site, f"deploy/nginx.conf no longer has {shipped!r}: adapt this test"
            site = site.replace(shipped, local)
        return site

    def start(self) -> "NginxServer":
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=127.0.0.1", "-keyout", str(self.directory / "privkey.pem"),
                        "-out", str(self.directory / "fullchain.pem")], check=True, capture_output=True, timeout=60)
        (self.directory / "roundtable.conf").write_text(self._site())
        temp_paths = "\n".join(f"    {kind}_temp_path {self.directory}/{kind};"
                               for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        (self.directory / "nginx.conf").write_text(
            ("user root;\n" if os.geteuid() == 0 else "")  # its workers must write the temp folders here
            + f"daemon off;\nworker_processes 1;\npid {self.directory}/nginx.pid;\n"
            f"error_log {self.directory}/error.log;\nevents {{ worker_connections 256; }}\n"
            f"http {{\n    access_log {self.directory}/access.log;\n{temp_paths}\n"
            f"    include {self.directory}/roundtable.conf;\n}}\n")
        configuration = ["nginx", "-p", str(self.directory), "-c", str(self.directory / "nginx.conf")]
        checked = subprocess.run([*configuration, "-t"], capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0, checked.stderr
        self.process = subprocess.Popen(configuration, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("nginx did not start: " + (self.directory / "error.log").read_text())

    def stop(self) -> None:
        if self.process:
            stop_process(self.process)
