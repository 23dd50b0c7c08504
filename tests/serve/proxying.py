"""A TLS reverse proxy for the review page's tests, listening on 127.0.0.1 only and passing to the page
on 127.0.0.1: Debian's nginx with a self-signed certificate for nas.example made here with openssl, or
Debian's Caddy with its own internal CA (the recipes of docs/nas/reverse-proxy.md)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ci import unavailable

NAME = "nas.example"
# nginx's plain proxy_pass (Host is the page's own) or the recipe of docs/nas/reverse-proxy.md
FORWARDED = """
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-Host $http_host;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def certificate(folder: Path) -> tuple[Path, Path]:
    if not shutil.which("openssl"):
        unavailable("openssl is not installed (apt-get install -y openssl)")
    cert, key = folder / "nas.crt", folder / "nas.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={NAME}",
         "-addext", f"subjectAltName=DNS:{NAME}", "-keyout", key, "-out", cert],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def _serving(process: subprocess.Popen[bytes], port: int, what: str) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if process.poll() is not None:
                said = process.stderr.read() if process.stderr else ""
                raise AssertionError(f"{what} did not start: {said!r}") from None
            assert time.monotonic() < deadline, f"{what} did not listen within 20 s"
            time.sleep(0.1)


@contextmanager
def caddy(folder: Path, upstream: str, port: int) -> Iterator[str]:
    """Caddy on 127.0.0.1:``port`` with TLS (``tls internal``: its own CA, trusted by none), before ``upstream``."""
    binary = shutil.which("caddy")
    if binary is None:
        unavailable("caddy is not installed (apt-get install -y caddy)")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Caddyfile").write_text(f"""{{
  admin off
  skip_install_trust
  auto_https disable_redirects
  storage file_system {folder}/data
}}
https://{NAME}:{port} {{
  bind 127.0.0.1
  tls internal
  reverse_proxy {upstream.split("//")[1].rstrip("/")}
}}
""")
    env = {**os.environ, "HOME": str(folder), "XDG_DATA_HOME": str(folder), "XDG_CONFIG_HOME": str(folder)}
    command = [binary, "run", "--config", str(folder / "Caddyfile"), "--adapter", "caddyfile"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    try:
        _serving(process, port, "caddy")
        yield f"https://{NAME}:{port}/"
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def nginx(folder: Path, upstream: str, forwarded: bool, port: int) -> Iterator[str]:
    """nginx on 127.0.0.1:``port`` with TLS, in front of ``upstream`` (http://127.0.0.1:PORT/): its https URL."""
    binary = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if binary is None:
        unavailable("nginx is not installed (apt-get install -y nginx)")
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = certificate(folder)
    user = "user root root;" if os.geteuid() == 0 else ""
    (folder / "nginx.conf").write_text(f"""
{user}
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{ worker_connections 64; }}
http {{
  access_log {folder}/access.log;
  client_body_temp_path {folder}/body; proxy_temp_path {folder}/proxy; fastcgi_temp_path {folder}/fastcgi;
  uwsgi_temp_path {folder}/uwsgi; scgi_temp_path {folder}/scgi;
  server {{
    listen 127.0.0.1:{port} ssl;
    server_name {NAME};
    ssl_certificate {cert};
    ssl_certificate_key {key};
    location / {{
      proxy_pass {upstream.rstrip("/")};{FORWARDED if forwarded else ""}
    }}
  }}
}}
""")
    process = subprocess.Popen(
        [binary, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        _serving(process, port, "nginx")
        yield f"https://{NAME}:{port}/"
    finally:
        process.terminate()
        process.wait(timeout=10)
