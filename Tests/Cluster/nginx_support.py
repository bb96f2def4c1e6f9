"""Debian's nginx with one of our deploy configs (deploy/*.conf), run as a foreground
process in a temporary folder: the config's `server 127.0.0.1:PORT;` lines of its upstream are replaced by the
given node ports and its `listen 8080;` by a free port."""
import os
import re
import shutil
import socket
import subprocess
import tempfile

from cluster_support import free_port, wait_until

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

MAIN = """daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 512; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    include {dir}/site.conf;
}}
"""


class Nginx:
    """nginx with the deploy config `config`, pointed at `ports`, listening on a free port; each line in `drop`
    is taken out of the config first."""

    def __init__(self, config, ports, drop=()):
        self.dir = tempfile.mkdtemp(prefix="cluster-nginx-")
        # nginx started as root runs its workers as `nobody`, who must reach the temporary files in here (large
        # answers are buffered to disk).
        os.chmod(self.dir, 0o711)
        self.port = free_port()
        with open(config) as f:
            site = f.read()
        servers = "".join(f"    server 127.0.0.1:{port};\n" for port in ports)
        site = re.sub(r"(    server 127\.0\.0\.1:\d+;\n)+", servers, site)
        site = site.replace("listen 8080;", f"listen 127.0.0.1:{self.port};")
        for line in drop:
            site = site.replace(line, "")
        with open(os.path.join(self.dir, "site.conf"), "w") as f:
            f.write(site)
        with open(os.path.join(self.dir, "nginx.conf"), "w") as f:
            f.write(MAIN.format(dir=self.dir))
        self.proc = subprocess.Popen([NGINX, "-e", os.path.join(self.dir, "error.log"), "-p", self.dir,
                                      "-c", os.path.join(self.dir, "nginx.conf")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_until(lambda: self.proc.poll() is not None or self._listening(), what="nginx listening")
        if self.proc.poll() is not None:
            raise RuntimeError(f"nginx exited: {self.proc.stderr.read().decode()[-800:]}")

    def _listening(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)
