"""An Azurite blob emulator for one test module: started on a free loopback port with a temp
location, stopped afterwards. `make azurite` installs the pinned Azurite into .tools/azurite.

Without Node.js or without that install the fixture fails in one line saying how to install
it, rather than skipping: a skipped storage test would hide that the export path is untested.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
AZURITE_BLOB = REPO / ".tools" / "azurite" / "node_modules" / ".bin" / "azurite-blob"
ACCOUNT = "devstoreaccount1"
# Azurite's documented development account key (public, the emulator's only account)
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


@dataclass(frozen=True)
class Azurite:
    port: int

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/{ACCOUNT}"

    def connection_string(self, key: str = ACCOUNT_KEY) -> str:
        return (f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={key};"
                f"BlobEndpoint={self.endpoint};")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _require_installed() -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("Azurite needs Node.js and npm: install them (e.g. apt-get install nodejs npm), then run "
                    "`make azurite`", pytrace=False)
    if not AZURITE_BLOB.exists():
        pytest.fail(f"Azurite is not installed at {AZURITE_BLOB.relative_to(REPO)}: run `make azurite`", pytrace=False)


@pytest.fixture(scope="module")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    _require_installed()
    port = _free_port()
    location = tmp_path_factory.mktemp("azurite")
    proc = subprocess.Popen(
        [str(AZURITE_BLOB), "--blobHost", "127.0.0.1", "--blobPort", str(port), "--location", str(location),
         "--skipApiVersionCheck", "--silent", "--loose"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if proc.poll() is not None:
                    err = proc.stderr.read().decode(errors="replace").strip() if proc.stderr else ""
                    pytest.fail(f"azurite-blob exited with {proc.returncode}: {err[:300]}", pytrace=False)
                if time.monotonic() > deadline:
                    pytest.fail("azurite-blob did not listen within 30 s", pytrace=False)
                time.sleep(0.1)
        yield Azurite(port)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()
