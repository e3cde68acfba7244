"""A download killed mid-transfer (SIGKILL) leaves nothing DVC could take as done, and the
rerun completes it (the same validated files as an uninterrupted run)."""

from __future__ import annotations

import hashlib
import http.server
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import yaml

from tests.conftest import ROOT, write_isbi

NAMES = ("train-volume.tif", "train-labels.tif", "test-volume.tif")


class SlowServer(http.server.ThreadingHTTPServer):
    """Serves files from ``root`` in small chunks with pauses; counts bytes sent."""

    def __init__(self, root: Path):
        self.root, self.sent, self.slow = root, 0, True
        super().__init__(("127.0.0.1", 0), SlowHandler)


class SlowHandler(http.server.BaseHTTPRequestHandler):
    server: SlowServer

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        path = self.server.root / self.path.lstrip("/")
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            for start in range(0, len(data), 64 * 1024):
                self.wfile.write(data[start : start + 64 * 1024])
                self.server.sent += 64 * 1024
                if self.server.slow:
                    time.sleep(0.05)
        except (BrokenPipeError, ConnectionResetError):
            pass


def test_killed_download_leaves_no_output_and_the_rerun_completes(tmp_path: Path):
    www = write_isbi(tmp_path / "www")
    server = SlowServer(www)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    files = [{"name": n, "sha256": hashlib.sha256((www / n).read_bytes()).hexdigest(),
              "urls": [url + n]} for n in NAMES]
    params = yaml.safe_load((ROOT / "params.yaml").read_text())  # complete: stages check it
    params["download"]["isbi2012"] = {"files": files}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    env = {k: v for k, v in os.environ.items() if k != "SEGSTUDY_DATA_MIRROR"}
    env.update(PYTHONPATH=str(ROOT / "src"), SEGSTUDY_CACHE=str(tmp_path / "cache"))
    cmd = [sys.executable, str(ROOT / "stages" / "download.py"), "isbi2012"]
    try:
        proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while server.sent < 2 * 1024 * 1024 and time.time() < deadline:
            time.sleep(0.02)
        assert server.sent >= 2 * 1024 * 1024, "download never started"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        out = tmp_path / "data" / "raw" / "isbi2012"
        assert not out.exists(), "a killed download must not leave a final output"

        server.slow = False
        rerun = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True,
                               timeout=120)
        assert rerun.returncode == 0, rerun.stderr
        for n in NAMES:
            assert (out / n).read_bytes() == (www / n).read_bytes()
        assert not list(out.parent.glob(".tmp-*")), "no temporary leftovers"
    finally:
        server.shutdown()
        server.server_close()
