"""The real SpacesApp pages in headless Chromium (Playwright), against `spaces` with python-socketio workers.

- `spaces` comes from SPACES_BIN_DIR (default .build/release): `swift build -c release --product spaces`.
- Chromium is the Debian package (CHROMIUM=/path overrides), driven by Playwright from the venv; the file is
  skipped only when Playwright cannot be imported.
- One server and one browser for the module, a fresh browser context per test, unique space and user names.
  The screenshot test (last) runs its own server, so that the README pictures show only its tidy data.
- Workers are page_worker.PageWorker: they answer by prompt, and `hold:<tag>` requests wait for the test
  (step/release), so queued, processing, progress and cancel are observed without timing races.
- Every wait is bounded (Playwright expect / wait_for_function, 20 s); there are no fixed sleeps.
- Screenshots go to docs/screenshots (SPACES_SCREENSHOTS=<dir> writes them elsewhere).

    .venv/bin/python -m pytest -q Tests/Browser/spaces_pages_test.py
"""
import json
import os
import re
import sys

import pytest

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError as error:  # pragma: no cover
    pytest.skip(f"playwright is not importable ({error}); pip install playwright into the venv",
                allow_module_level=True)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from page_worker import JSON_RESULT, PICTURE_PNG, XSS_TEXT, Answer, PageWorker, data_url  # noqa: E402
from pages_support import (RECORDER_JS, ROOT, WAIT_MS, MediaServer, SpacesServer, chromium_path,  # noqa: E402
                           renders_of, unique)

pytestmark = pytest.mark.timeout(120)
expect.set_options(timeout=WAIT_MS)

SCREENSHOT_DIR = os.environ.get("SPACES_SCREENSHOTS") or os.path.join(ROOT, "docs", "screenshots")


# ---------------------------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="module")
def server(request):
    spaces = SpacesServer().start()
    failed_before = request.session.testsfailed
    yield spaces
    spaces.stop()
    if request.session.testsfailed > failed_before:
        print(f"\nspaces_pages_test: server log kept in {spaces.log_path}")
    else:
        spaces.cleanup()


@pytest.fixture(scope="module")
def media():
    files = MediaServer().start()
    yield files
    files.stop()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser, server):
    """new_page(user=session, locale=..., viewport=...) -> a page in a fresh context, logged in as `user` (a
    requests.Session from server.login/new_user) if given. Uncaught page errors and dialogs fail the test."""
    contexts = []
    problems = []

    def make(user=None, locale="en-US", viewport=None, base=None):
        target = base or server
        context = browser.new_context(locale=locale, viewport=viewport or {"width": 1280, "height": 800},
                                      base_url=target.url)
        context.set_default_timeout(WAIT_MS)
        contexts.append(context)
        if user is not None:
            context.add_cookies(target.cookies_for(user))
        page = context.new_page()
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))

        def on_dialog(dialog):
            problems.append(f"dialog {dialog.type}: {dialog.message}")
            dialog.dismiss()

        page.on("dialog", on_dialog)
        return page

    yield make
    for context in contexts:
        context.close()
    assert not problems, problems


@pytest.fixture
def workers():
    """Starts PageWorkers and stops them after the test: workers(url, space_name, **options)."""
    started = []

    def make(url, space_name, **options):
        worker = PageWorker(url, space_name, **options)
        started.append(worker)
        return worker.start()

    yield make
    for worker in started:
        worker.stop()


# ---------------------------------------------------------------------------------------------------------------
# Helpers


def item(page, request_id):
    return page.locator(f'#requests li.request[data-request-id="{request_id}"]')


def open_space(page, space_id, live="websocket"):
    page.goto(f"/ai_project/{space_id}")
    if live:
        expect(page.locator("#live-state")).to_have_attribute("data-mode", live)


def submit_prompt(page, prompt):
    """Sends `prompt` with the page's form; returns the request id from the page's own POST's answer."""
    page.fill("#field-prompt", prompt)
    with page.expect_response(lambda r: "/websockets/submit/" in r.url and r.request.method == "POST") as answer:
        page.click("#submit-button")
    response = answer.value
    assert response.status == 200, (response.status, response.text())
    request_id = response.json()["request_id"]
    # The answer's handler re-enables the button, lists the request and resets the form, in one go.
    page.wait_for_function("() => !document.getElementById('submit-button').disabled")
    expect(item(page, request_id)).to_have_count(1)
    return request_id


def wait_image_loaded(page, selector):
    page.wait_for_function(
        "(selector) => { const image = document.querySelector(selector);"
        " return !!image && image.complete && image.naturalWidth > 0; }", arg=selector, timeout=WAIT_MS)


def shell_quoted(text):
    """As SpaceAdminPage.shellQuoted: double quotes, with \\ " $ ` escaped."""
    return '"' + re.sub(r'([\\"$`])', r"\\\1", text) + '"'


def assert_subsequence(wanted, seen):
    position = 0
    for state in seen:
        if position < len(wanted) and state == wanted[position]:
            position += 1
    assert position == len(wanted), f"renders {seen} do not contain {wanted} in this order"


# ---------------------------------------------------------------------------------------------------------------
# 1. Accounts


def test_register_logout_login(server, new_page):
    space_id, _ = server.create_space()
    name = unique("reg")
    password = "pw-" + name
    page = new_page()

    page.goto("/register")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.fill("#field-username", name)
    page.fill("#field-password", password)
    page.click("#register-form button[type=submit]")
    page.wait_for_url(server.url + "/")
    expect(page.locator("header .who")).to_have_text(f"Signed in as {name}")

    page.click("header form[action='/logout'] button[type=submit]")
    page.wait_for_url(server.url + "/")
    expect(page.locator("header .who")).to_have_count(0)
    expect(page.locator("header a[href^='/login']")).to_have_count(1)

    # A wrong password: the form again, with the error and the name kept; `next` survives.
    page.goto(f"/login?next=/ai_project/{space_id}")
    page.fill("#field-username", name)
    page.fill("#field-password", "not-the-password")
    page.click("#login-form button[type=submit]")
    error = page.locator("#form-error[role=alert]")
    expect(error).to_have_text("Invalid username or password.")
    expect(page.locator("#login-form #field-username")).to_have_value(name)
    expect(page.locator("header .who")).to_have_count(0)

    page.fill("#field-password", password)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{server.url}/ai_project/{space_id}")
    expect(page.locator("header .who")).to_have_text(f"Signed in as {name}")
    expect(page.locator("#submit-form")).to_be_visible()

    # Registering a taken name: the register form again, with the error.
    page.click("header form[action='/logout'] button[type=submit]")
    page.goto("/register")
    page.fill("#field-username", name)
    page.fill("#field-password", "whatever")
    page.click("#register-form button[type=submit]")
    expect(page.locator("#form-error[role=alert]")).to_have_text("That username is taken.")


# ---------------------------------------------------------------------------------------------------------------
# 2. A request's life on the page, live


def test_request_lifecycle_live(server, media, new_page, workers):
    space_id, space_name = server.create_space()
    worker = workers(server.url, space_name, media_base=media.url)

    # Someone else's request holds the worker, so that ours has to queue first.
    blocker = unique("block")
    server.submit(server.new_user(), space_id, f"hold:{blocker}")
    worker.wait_held(blocker)

    user = server.new_user()
    page = new_page(user=user)
    open_space(page, space_id)
    expect(page.locator("#worker-state")).to_have_attribute("data-connected", "true")
    expect(page.locator("#processing-count")).to_have_attribute("data-count", "1")
    expect(page.locator("#offline-note")).to_be_hidden()
    page.evaluate(RECORDER_JS)
    page.evaluate("() => { window.__samePage = 'still here'; }")

    tag = unique("main")
    request_id = submit_prompt(page, f"hold:{tag}")
    entry = item(page, request_id)
    expect(entry).to_have_attribute("data-status", "queued")
    expect(entry.locator(".status")).to_have_text("Queued")
    expect(entry.locator(".position")).to_have_text("Position 1 in the queue")
    expect(entry.locator("button.cancel")).to_be_visible()
    expect(entry.locator(".elapsed")).to_have_text(re.compile(r"\d+s"))
    expect(page.locator("#queue-size")).to_have_attribute("data-count", "1")

    worker.release(blocker)
    expect(entry).to_have_attribute("data-status", "processing")
    expect(entry.locator(".status")).to_have_text("Processing")
    expect(entry.locator("progress.progress")).to_have_js_property("value", 25)
    expect(entry.locator(".progress-message")).to_have_text("step 1")
    expect(entry.locator(".position")).to_have_count(0)
    expect(page.locator("#queue-size")).to_have_attribute("data-count", "0")

    worker.step(tag)
    expect(entry.locator("progress.progress")).to_have_js_property("value", 50)
    expect(entry.locator(".progress-message")).to_have_text("step 2")

    worker.step(tag)
    expect(entry).to_have_attribute("data-status", "completed")
    expect(entry.locator(".status")).to_have_text("Completed")
    expect(entry.locator(".result .text-output")).to_have_text(f"released {tag}")
    expect(entry.locator("button.cancel")).to_have_count(0)
    expect(entry.locator("progress.progress")).to_have_count(0)
    expect(page.locator("#processing-count")).to_have_attribute("data-count", "0")

    assert page.evaluate("() => window.__samePage") == "still here", "the page reloaded"
    seen = renders_of(page, request_id)
    statuses = [state[0] for state in seen]
    assert [s for i, s in enumerate(statuses) if i == 0 or statuses[i - 1] != s] == \
        ["queued", "processing", "completed"], seen
    assert_subsequence([
        ("queued", None, None, None),
        ("processing", 25, "step 1", None),
        ("processing", 50, "step 2", None),
        ("completed", None, None, f"released {tag}"),
    ], seen)


# ---------------------------------------------------------------------------------------------------------------
# 3. Results by kind


def test_rendered_results(server, media, new_page, workers):
    space_id, space_name = server.create_space()
    worker = workers(server.url, space_name, media_base=media.url)
    page = new_page(user=server.new_user())
    open_space(page, space_id)

    ids = {prompt: submit_prompt(page, prompt)
           for prompt in ["text:hello world", "image", "image_url", "audio", "video", "file", "json", "fail"]}
    for prompt, request_id in ids.items():
        expect(item(page, request_id)).to_have_attribute("data-status", "failed" if prompt == "fail" else "completed")
    worker.wait_answered(len(ids))

    text = item(page, ids["text:hello world"])
    expect(text.locator(".result .text-output")).to_have_text("hello world")
    expect(text.locator(".prompt-text")).to_have_text("text:hello world")

    image = item(page, ids["image"])
    expect(image.locator("img.result-image")).to_have_attribute("src", re.compile(r"^data:image/png;base64,"))
    wait_image_loaded(page, f'li[data-request-id="{ids["image"]}"] img.result-image')

    linked = item(page, ids["image_url"])
    expect(linked.locator("img.result-image")).to_have_attribute("src", media.url + "/img.png")
    wait_image_loaded(page, f'li[data-request-id="{ids["image_url"]}"] img.result-image')

    audio = item(page, ids["audio"])
    expect(audio.locator("audio.result-audio")).to_have_attribute("src", media.url + "/a.wav")
    expect(audio.locator("audio.result-audio")).to_have_js_property("controls", True)

    video = item(page, ids["video"]).locator("video.result-video")
    expect(video).to_have_attribute("src", media.url + "/v.mp4")
    expect(video).to_have_js_property("controls", True)

    link = item(page, ids["file"]).locator("a.result-file")
    expect(link).to_have_attribute("href", media.url + "/notes.txt")
    expect(link).to_have_text("Download notes.txt")
    expect(link).to_have_attribute("rel", re.compile(r"\bnoopener\b"))

    pretty = item(page, ids["json"]).locator("pre.json")
    expect(pretty).to_have_count(1)
    shown = pretty.text_content()
    assert json.loads(shown) == JSON_RESULT
    assert shown == json.dumps(json.loads(shown), indent=2), f"not pretty-printed: {shown!r}"

    failed = item(page, ids["fail"])
    expect(failed.locator(".status")).to_have_text("Failed")
    expect(failed.locator(".request-error")).to_have_text("boom")

    # The list is the server's: a reload shows the same requests, newest first, with their results.
    page.reload()
    expect(page.locator("#requests li.request")).to_have_count(len(ids))
    order = page.locator("#requests li.request").evaluate_all("(items) => items.map((li) => li.dataset.requestId)")
    assert order == list(reversed(list(ids.values())))
    expect(item(page, ids["text:hello world"]).locator(".text-output")).to_have_text("hello world")
    wait_image_loaded(page, f'li[data-request-id="{ids["image"]}"] img.result-image')
    expect(item(page, ids["fail"]).locator(".request-error")).to_have_text("boom")
    expect(page.locator("#no-requests")).to_be_hidden()


# ---------------------------------------------------------------------------------------------------------------
# 4. Cancel


def test_cancel_queued_request(server, new_page, workers):
    space_id, space_name = server.create_space()
    worker = workers(server.url, space_name)
    page = new_page(user=server.new_user())
    open_space(page, space_id)

    tag = unique("first")
    first = submit_prompt(page, f"hold:{tag}")
    worker.wait_held(tag)
    expect(item(page, first)).to_have_attribute("data-status", "processing")
    second = submit_prompt(page, "text:second")
    entry = item(page, second)
    expect(entry).to_have_attribute("data-status", "queued")
    expect(entry.locator(".position")).to_have_text("Position 1 in the queue")

    entry.locator("button.cancel").click()
    expect(entry).to_have_attribute("data-status", "canceled")
    expect(entry.locator(".status")).to_have_text("Canceled")
    expect(entry.locator("button.cancel")).to_have_count(0)
    expect(page.locator("#queue-size")).to_have_attribute("data-count", "0")
    expect(page.locator("#form-error")).to_be_hidden()

    # Released, the worker goes on with the next request sent after the canceled one, never with that one.
    worker.release(tag)
    expect(item(page, first)).to_have_attribute("data-status", "completed")
    third = submit_prompt(page, "text:third")
    expect(item(page, third)).to_have_attribute("data-status", "completed")
    assert worker.prompts == [f"hold:{tag}", "text:third"]

    page.reload()
    expect(item(page, second)).to_have_attribute("data-status", "canceled")
    expect(item(page, third).locator(".text-output")).to_have_text("third")


# ---------------------------------------------------------------------------------------------------------------
# 5. Worker content stays inert


def test_results_cannot_inject_script(server, new_page, workers):
    space_id, space_name = server.create_space()
    workers(server.url, space_name)
    page = new_page(user=server.new_user())
    open_space(page, space_id)

    evil = submit_prompt(page, "xss")
    echoed_prompt = "text:<img src=x onerror=window.__pwned=2><script>window.__pwned=3</script>"
    echoed = submit_prompt(page, echoed_prompt)
    expect(item(page, evil)).to_have_attribute("data-status", "completed")
    expect(item(page, echoed)).to_have_attribute("data-status", "completed")

    expect(item(page, evil).locator(".text-output")).to_have_text(XSS_TEXT)
    expect(item(page, echoed).locator(".text-output")).to_have_text(echoed_prompt[len("text:"):])
    expect(item(page, echoed).locator(".prompt-text")).to_have_text(echoed_prompt)

    requests_list = page.locator("#requests")
    for selector in ["script", "img", "audio", "video", "iframe", "object", "embed", "a.result-file",
                     '[href^="javascript:" i]', '[src^="javascript:" i]', '[href^="data:text" i]']:
        expect(requests_list.locator(selector)).to_have_count(0)
    handlers = page.evaluate("""() => [...document.querySelectorAll('#requests *')]
        .flatMap((node) => [...node.attributes].map((a) => a.name)).filter((name) => name.startsWith('on'))""")
    assert handlers == []

    blocked = item(page, evil).locator(".blocked")
    expect(blocked).to_have_count(3)
    texts = blocked.all_text_contents()
    for url in ["javascript:window.__pwned=1", "javascript:alert(1)", "javascript:alert(2)"]:
        assert any(url in text for text in texts), (url, texts)
    assert all(text.startswith("(link not shown: ") for text in texts), texts
    assert page.evaluate("() => typeof window.__pwned") == "undefined"


# ---------------------------------------------------------------------------------------------------------------
# 6. Fallbacks when WebSockets, or Socket.IO altogether, are blocked


SOCKET_IO = re.compile(r"/socket\.io/")


def test_polling_when_websockets_are_blocked(server, new_page, workers):
    space_id, space_name = server.create_space()
    worker = workers(server.url, space_name)
    page = new_page(user=server.new_user())
    refused = []

    def refuse(ws):
        refused.append(ws.url)
        ws.close()

    page.route_web_socket(SOCKET_IO, refuse)
    open_space(page, space_id, live="polling")
    assert refused, "the page never tried a WebSocket"
    expect(page.locator("#live-state")).to_have_text("Live (polling)")

    tag = unique("poll")
    request_id = submit_prompt(page, f"hold:{tag}")
    entry = item(page, request_id)
    expect(entry.locator(".progress-message")).to_have_text("step 1")
    expect(entry.locator("progress.progress")).to_have_js_property("value", 25)
    worker.release(tag)
    expect(entry).to_have_attribute("data-status", "completed")
    expect(entry.locator(".text-output")).to_have_text(f"released {tag}")
    expect(page.locator("#live-state")).to_have_attribute("data-mode", "polling")


def test_status_polling_when_socketio_is_blocked(server, new_page, workers):
    space_id, space_name = server.create_space()
    worker = workers(server.url, space_name)
    page = new_page(user=server.new_user())
    blocked = []

    def refuse(ws):
        blocked.append(ws.url)
        ws.close()

    def abort(route):
        blocked.append(route.request.url)
        route.abort()

    page.route_web_socket(SOCKET_IO, refuse)
    page.route(SOCKET_IO, abort)
    open_space(page, space_id, live="status-polling")
    assert any(url.startswith("http") for url in blocked), "the page never tried polling"
    expect(page.locator("#worker-state")).to_have_attribute("data-connected", "true")

    tag = unique("status")
    request_id = submit_prompt(page, f"hold:{tag}")
    entry = item(page, request_id)
    expect(entry).to_have_attribute("data-status", "processing")
    expect(entry.locator(".progress-message")).to_have_text("step 1")
    worker.release(tag)
    expect(entry).to_have_attribute("data-status", "completed")
    expect(entry.locator(".text-output")).to_have_text(f"released {tag}")
    expect(page.locator("#live-state")).to_have_attribute("data-mode", "status-polling")


# ---------------------------------------------------------------------------------------------------------------
# 7. Admin: a new space through the form, its worker commands, the live card, the dashboard


def test_admin_creates_space_and_card_goes_online(server, new_page, workers):
    admin = server.admin()
    page = new_page(user=admin)
    name = f'Echo {unique("bot")} "quoted" $HOME'
    token = unique("token")

    page.goto("/admin/space/add")
    page.fill("#field-name", name)
    page.fill("#field-description", "Made by the page test.")
    page.select_option("#field-card_type", "websockets")
    page.check("#field-ws_enable_prompt")
    page.check("#field-ws_enable_file_upload")
    expect(page.locator("#field-ws_enable_audio")).not_to_be_checked()
    expect(page.locator("#field-ws_enable_video")).not_to_be_checked()
    page.fill("#field-max_upload_mb", "5")
    page.fill("#field-timeout_seconds", "60")
    page.fill("#field-worker_token", token)
    page.click("#space-submit")
    page.wait_for_url(re.compile(r"/admin/space/edit/\d+$"))
    space_id = int(page.url.rsplit("/", 1)[1])

    expect(page.locator("#saved-note")).to_have_text("Saved.")
    python = f"python mock_app.py --host {shell_quoted(server.url)} --spaces {shell_quoted(name)}"
    swift = f"spaces-worker --host {shell_quoted(server.url)} --spaces {shell_quoted(name)} --token {shell_quoted(token)}"
    expect(page.locator("#worker-command-python")).to_have_text(python)
    expect(page.locator("#worker-command-swift")).to_have_text(swift)
    expect(page.locator("#field-max_upload_mb")).to_have_value("5")
    expect(page.locator("#field-worker_token")).to_have_value(token)
    page.reload()
    expect(page.locator("#saved-note")).to_have_count(0)  # shown once, after saving

    # The same name again: the form comes back with the error and what was typed.
    page.goto("/admin/space/add")
    page.fill("#field-name", name)
    page.select_option("#field-card_type", "websockets")
    page.click("#space-submit")
    expect(page.locator("#form-error[role=alert]")).to_contain_text("already exists")
    expect(page.locator("#space-form #field-name")).to_have_value(name)

    # The card on the home page goes online when the worker registers with the token, without a reload.
    home = new_page()
    home.goto("/")
    card = home.locator(f'#space-cards li.card[data-space-id="{space_id}"]')
    expect(card.locator("h2")).to_have_text(name)
    badge = card.locator("[data-role=worker-state]")
    expect(badge).to_have_class("badge offline")
    expect(badge).to_have_text("Offline")
    expect(card.locator("[data-role=waiting]")).to_have_text("0 waiting")
    home.evaluate("() => { window.__samePage = 'still here'; }")

    intruder = PageWorker(server.url, name, token="not-the-token", name="intruder")
    try:
        intruder.start(wait=False)
        assert intruder.refused.wait(15), intruder.responses
    finally:
        intruder.stop()
    worker = workers(server.url, name, token=token)
    expect(badge).to_have_class("badge online")
    expect(badge).to_have_text("Online")

    user = server.new_user()
    tag = unique("held")
    held = server.submit(user, space_id, f"hold:{tag}")
    worker.wait_held(tag)
    waiting = server.submit(user, space_id, "text:after")
    expect(card.locator("[data-role=waiting]")).to_have_text("1 waiting")
    worker.release(tag)
    expect(card.locator("[data-role=waiting]")).to_have_text("0 waiting")
    server.wait_status(user, waiting, {"completed"})
    assert home.evaluate("() => window.__samePage") == "still here", "the home page reloaded"

    page.goto("/admin")
    row = page.locator(f'#admin-spaces tr[data-space-id="{space_id}"]')
    expect(row).to_contain_text(name)
    expect(row.locator("td").nth(3)).to_have_text("1 / 1")
    worker_row = page.locator("#admin-workers tbody tr", has_text=name)
    expect(worker_row).to_have_count(1)
    cells = worker_row.locator("td")
    expect(cells.nth(1)).not_to_be_empty()
    expect(cells.nth(2)).to_contain_text("127.0.0.1")
    expect(cells.nth(4)).to_have_text("0 / 1")
    expect(cells.nth(5)).to_have_text("2")
    for request_id in (held, waiting):
        expect(page.locator(f'#admin-requests tr[data-request-id="{request_id}"]')).to_contain_text("Completed")
    users = page.locator(f'#admin-users tr[data-user="{user.username}"]')
    expect(users.locator("input[name=daily_quota]")).to_have_count(1)


# ---------------------------------------------------------------------------------------------------------------
# 8. Chinese


def test_chinese_pages_and_language_switch(server, new_page):
    page = new_page(locale="zh-CN")
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("header nav").first).to_contain_text("登录")
    expect(page.locator("main h1")).to_have_text("登录")

    # The switch to English sets a cookie that wins over Accept-Language on the next pages.
    page.click('.lang-switch a[hreflang="en"]')
    page.wait_for_url(server.url + "/login")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("main h1")).to_have_text("Log in")
    page.goto("/register")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("main h1")).to_have_text("Register")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert cookies.get("spaces_lang") == "en", cookies

    # From an English browser, 中文 sticks across pages.
    english = new_page(locale="en-US")
    english.goto("/")
    expect(english.locator("html")).to_have_attribute("lang", "en")
    english.click('.lang-switch a[hreflang="zh-CN"]')
    english.wait_for_url(server.url + "/")
    expect(english.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(english.locator("main h1")).to_have_text("空间")
    for path, heading in [("/register", "注册"), ("/login", "登录")]:
        english.goto(path)
        expect(english.locator("html")).to_have_attribute("lang", "zh-CN")
        expect(english.locator("main h1")).to_have_text(heading)

    # Server-side errors in Chinese: a taken username on the register form...
    taken = server.new_user()
    chinese = new_page(locale="zh-CN")
    chinese.goto("/register")
    chinese.fill("#field-username", taken.username)
    chinese.fill("#field-password", "whatever")
    chinese.click("#register-form button[type=submit]")
    expect(chinese.locator("#form-error[role=alert]")).to_have_text("该用户名已被使用。")

    # ...and the submit API refusing a space without a worker (shown by the page's script).
    space_id, _ = server.create_space()
    chinese = new_page(locale="zh-CN", user=server.new_user())
    open_space(chinese, space_id)
    expect(chinese.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(chinese.locator("#live-state")).to_have_text("实时")
    expect(chinese.locator("#worker-state")).to_have_text("没有在线的工作端")
    expect(chinese.locator("#offline-note")).to_be_visible()
    chinese.click("#submit-button")
    expect(chinese.locator("#form-error")).to_have_text("没有可发送的内容：请填写提示词或选择文件。")
    chinese.fill("#field-prompt", "你好")
    with chinese.expect_response(lambda r: "/websockets/submit/" in r.url) as answer:
        chinese.click("#submit-button")
    assert answer.value.status == 503
    expect(chinese.locator("#form-error")).to_have_text("请求被拒绝：此空间当前没有已连接的工作端")
    expect(chinese.locator("#requests li.request")).to_have_count(0)


# ---------------------------------------------------------------------------------------------------------------
# 9. Visitors, history, size limits


def test_logged_out_visitor_sees_login_prompt(server, new_page, workers):
    space_id, space_name = server.create_space()
    workers(server.url, space_name)
    page = new_page()
    page.goto(f"/ai_project/{space_id}")
    expect(page.locator("#login-prompt")).to_be_visible()
    expect(page.locator("#submit-form")).to_have_count(0)
    expect(page.locator("#requests")).to_have_count(0)
    expect(page.locator("#worker-state")).to_have_attribute("data-connected", "true")

    # Its log-in link comes back here, where the form now is.
    user = server.new_user()
    page.click("#login-prompt a[href^='/login']")
    page.fill("#field-username", user.username)
    page.fill("#field-password", user.password)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{server.url}/ai_project/{space_id}")
    expect(page.locator("#submit-form")).to_be_visible()
    expect(page.locator("#login-prompt")).to_have_count(0)


def test_history_survives_reload(server, new_page, workers):
    space_id, space_name = server.create_space()
    workers(server.url, space_name)
    page = new_page(user=server.new_user())
    open_space(page, space_id)
    expect(page.locator("#no-requests")).to_be_visible()
    first = submit_prompt(page, "text:remember me")
    second = submit_prompt(page, "image")
    expect(item(page, second)).to_have_attribute("data-status", "completed")

    page.reload()
    expect(page.locator("#requests li.request")).to_have_count(2)
    expect(item(page, first)).to_have_attribute("data-status", "completed")
    expect(item(page, first).locator(".text-output")).to_have_text("remember me")
    wait_image_loaded(page, f'li[data-request-id="{second}"] img.result-image')
    expect(page.locator("#no-requests")).to_be_hidden()


def test_file_size_limit_is_checked_before_upload(server, new_page, workers):
    space_id, space_name = server.create_space(ws_enable_prompt=None, ws_enable_file_upload="on", max_upload_mb="1")
    worker = workers(server.url, space_name)
    page = new_page(user=server.new_user())
    submits = []
    page.on("request", lambda request: submits.append(request.url) if "/websockets/submit/" in request.url else None)
    open_space(page, space_id)
    expect(page.locator("#field-prompt")).to_have_count(0)
    expect(page.locator("#field-audio_file")).to_have_count(0)
    expect(page.locator("#field-other_file-hint")).to_have_text("Up to 1 MB.")

    page.click("#submit-button")
    expect(page.locator("#form-error[role=alert]")).to_have_text("Nothing to send: write a prompt or choose a file.")

    page.set_input_files("#field-other_file", files=[{"name": "big.bin", "mimeType": "application/octet-stream",
                                                      "buffer": b"\0" * (2 * 1024 * 1024)}])
    page.click("#submit-button")
    expect(page.locator("#form-error")).to_have_text("big.bin is larger than the limit of 1 MB.")
    expect(page.locator("#upload-progress")).to_be_hidden()
    assert submits == [], "the page uploaded a file over the limit"

    # A file under the limit goes through.
    page.set_input_files("#field-other_file", files=[{"name": "small.txt", "mimeType": "text/plain",
                                                      "buffer": b"hello " * 1000}])
    with page.expect_response(lambda r: "/websockets/submit/" in r.url) as answer:
        page.click("#submit-button")
    assert answer.value.status == 200, answer.value.text()
    request_id = answer.value.json()["request_id"]
    expect(item(page, request_id)).to_have_attribute("data-status", "completed")
    expect(page.locator("#form-error")).to_be_hidden()
    worker.wait_answered(1)
    assert worker.received[0]["payload"].get("file"), worker.received[0]["payload"]


# ---------------------------------------------------------------------------------------------------------------
# 10. Screenshots for the README (own server: only these spaces and requests are shown)


def test_screenshots(browser, new_page, workers):
    shots = SpacesServer().start()
    try:
        take_screenshots(shots, new_page, workers)
    finally:
        shots.stop()
        shots.cleanup()


def take_screenshots(shots, new_page, workers):
    os.makedirs(SCREENSHOT_DIR, exist_ok=True)
    admin = shots.admin()
    echo_id, echo = shots.create_space(
        "Echo", session=admin, description="Answers with what you send: the smallest possible remote worker.")
    studio_id, studio = shots.create_space(
        "Image Studio", session=admin, ws_enable_file_upload="on",
        description="Draws a picture from a prompt, on a GPU box in the lab. Progress is shown while it works.")
    shots.create_space("Speech to Text", session=admin, ws_enable_prompt=None, ws_enable_audio="on",
                       description="Transcribes audio files. Its worker is offline at the moment.")
    shots.create_space("About this site", session=admin, card_type="standard",
                       description="How spaces, workers and queues fit together.")

    answers = {
        "Draw a lighthouse at dusk": Answer({"text_output": "A lighthouse at dusk, 320×180.",
                                             "image": data_url(PICTURE_PNG)}),
        "Write a haiku about queues": Answer({"text_output": "First in, first served —\nthe worker takes one "
                                                             "at a time;\nthe rest wait their turn."}),
        "Upscale the photo to 4K": Answer({"text_output": "done"}, hold="upscale",
                                          steps=((0.4, "Upscaling tiles 4/10"),)),
    }
    workers(shots.url, echo, name="echo-worker", answers=answers)
    studio_worker = workers(shots.url, studio, name="studio-worker", answers=answers)
    alice = shots.new_user("alice")
    for prompt in ["Write a haiku about queues", "Draw a lighthouse at dusk"]:
        shots.wait_status(alice, shots.submit(alice, studio_id, prompt), {"completed"})
    shots.wait_status(alice, shots.submit(alice, echo_id, "Hello, Echo!"), {"completed"})
    shots.submit(alice, studio_id, "Upscale the photo to 4K")
    studio_worker.wait_held("upscale")
    shots.submit(alice, studio_id, "Draw a lighthouse at dusk")

    home = new_page(user=alice, base=shots)
    home.goto("/")
    expect(home.locator("#space-cards li.card")).to_have_count(4)
    studio_card = home.locator(f'li.card[data-space-id="{studio_id}"]')
    expect(studio_card.locator("[data-role=waiting]")).to_have_text("1 waiting")
    expect(studio_card.locator("[data-role=worker-state]")).to_have_class("badge online")
    home.screenshot(path=os.path.join(SCREENSHOT_DIR, "home.png"))

    for locale, file_name in [("en-US", "space.png"), ("zh-CN", "space-zh.png")]:
        page = new_page(user=alice, base=shots, locale=locale)
        open_space(page, studio_id)
        expect(page.locator("#requests li.request")).to_have_count(4)
        expect(page.locator('#requests li.request[data-status="processing"] .progress-message')).to_have_text(
            "Upscaling tiles 4/10")
        expect(page.locator('#requests li.request[data-status="queued"]')).to_have_count(1)
        wait_image_loaded(page, '#requests li.request[data-status="completed"] img.result-image')
        page.screenshot(path=os.path.join(SCREENSHOT_DIR, file_name), full_page=True)

    dashboard = new_page(user=admin, base=shots)
    dashboard.goto("/admin")
    expect(dashboard.locator("#admin-workers tbody tr")).to_have_count(2)
    dashboard.screenshot(path=os.path.join(SCREENSHOT_DIR, "admin.png"), full_page=True)
    for name in ["home.png", "space.png", "space-zh.png", "admin.png"]:
        assert os.path.getsize(os.path.join(SCREENSHOT_DIR, name)) > 10_000, name
