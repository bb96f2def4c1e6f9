"""SpacesApp over https/wss in headless Chromium: `spaces --tls-cert/--tls-key` with a certificate from a CA
made at test time (openssl CLI). Chromium does not know that CA, so the context ignores certificate errors;
python's requests (setup shortcuts) verify against it. The page logs in over https (the session cookie is
`Secure`) and its live updates connect over wss.

    SPACES_BIN_DIR=.build/release .venv/bin/python -m pytest -q Tests/Browser/tls_pages_test.py
"""
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError as error:  # pragma: no cover
    pytest.skip(f"playwright is not importable ({error}); pip install playwright into the venv",
                allow_module_level=True)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from pages_support import ADMIN_PASSWORD, SESSION_COOKIE, WAIT_MS, SpacesServer, chromium_path  # noqa: E402

pytestmark = pytest.mark.timeout(120)


def openssl(directory, *args):
    subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=directory)


@pytest.fixture(scope="module")
def server():
    directory = tempfile.mkdtemp(prefix="tls-pages-")
    with open(os.path.join(directory, "server.ext"), "w") as ext:
        ext.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl(directory, "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=Pages CA")
    openssl(directory, "req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    openssl(directory, "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.crt", "-days", "2", "-extfile", "server.ext")
    spaces = SpacesServer(extra_args=["--tls-cert", os.path.join(directory, "server.crt"),
                                      "--tls-key", os.path.join(directory, "server.key")],
                          scheme="https", verify=os.path.join(directory, "ca.crt")).start()
    yield spaces
    spaces.stop()
    spaces.cleanup()
    shutil.rmtree(directory, ignore_errors=True)


def test_login_over_https_and_live_updates_over_wss(server):
    space_id, _ = server.create_space()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        try:
            context = browser.new_context(ignore_https_errors=True, base_url=server.url, locale="en-US")
            context.set_default_timeout(WAIT_MS)
            page = context.new_page()
            sockets = []
            page.on("websocket", lambda ws: sockets.append(ws.url))
            page.goto("/login")
            page.fill("#field-username", "admin")
            page.fill("#field-password", ADMIN_PASSWORD)
            page.click("form[action^='/login'] button[type=submit]")
            page.wait_for_url(server.url + "/")
            expect(page.locator("header .who")).to_have_text("Signed in as admin")
            cookie = next(c for c in context.cookies() if c["name"] == SESSION_COOKIE)
            assert cookie["secure"] is True, cookie
            page.goto(f"/ai_project/{space_id}")
            expect(page.locator("#live-state")).to_have_attribute("data-mode", "websocket")
            assert any(url.startswith("wss://") for url in sockets), sockets
        finally:
            browser.close()
