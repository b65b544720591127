#!/usr/bin/env python3
"""The web page in a real browser: Debian's chromium, driven through chromium-driver's
WebDriver HTTP API (standard library only), against a running headless piece.

  web_browser.py MNEMO SHOTS_DIR

Moves a slider with the keyboard and sees the new value in --stats; sees a change made by
another client (a second phone, here the API) reach the page; recalls a preset; checks the
thumbnail changes; takes screenshots at phone and at desktop size into SHOTS_DIR.
Exits 77 (skipped) with the reason when no browser is installed."""
import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

SKIP = 77
ARROW_RIGHT = "\ue014"
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what, fn, timeout=30.0, every=0.1):
    until = time.time() + timeout
    while time.time() < until:
        v = fn()
        if v:
            return v
        time.sleep(every)
    raise TimeoutError(what)


def http_json(method, url, body=None, timeout=30):
    data = None if body is None else json.dumps(body).encode()
    rq = urllib.request.Request(url, data=data, method=method,
                                headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(rq, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


class Browser:
    """The few WebDriver calls the test needs."""

    def __init__(self, driver_port, profile):
        self.base = f"http://127.0.0.1:{driver_port}"
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": shutil.which("chromium"),
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", f"--user-data-dir={profile}",
                         "--window-size=390,844"]}}}}
        _, r = http_json("POST", self.base + "/session", caps, timeout=120)
        if "sessionId" not in r.get("value", {}):
            raise RuntimeError(f"no browser session: {r}")
        self.session = f"{self.base}/session/{r['value']['sessionId']}"

    def call(self, method, path, body=None):
        status, r = http_json(method, self.session + path, body)
        if status != 200:
            raise RuntimeError(f"{method} {path}: {status} {r}")
        return r.get("value")

    def go(self, url):
        self.call("POST", "/url", {"url": url})

    def find(self, css):
        try:
            v = self.call("POST", "/element", {"using": "css selector", "value": css})
        except RuntimeError:
            return None
        return v  # {"element-6066-...": id}: what scripts take as an argument

    def js(self, script, *args):
        return self.call("POST", "/execute/sync", {"script": script, "args": list(args)})

    @staticmethod
    def eid(element):
        return next(iter(element.values()))

    def keys(self, element, text):
        self.call("POST", f"/element/{self.eid(element)}/value", {"text": text})

    def click(self, element):
        # as a thumb would: scrolled to the middle, clear of the sticky header
        self.js("arguments[0].scrollIntoView({block: 'center'})", element)
        self.call("POST", f"/element/{self.eid(element)}/click", {})

    def size(self, w, h):
        self.call("POST", "/window/rect", {"width": w, "height": h})

    def screenshot(self, path, element=None):
        png = self.call("GET", f"/element/{self.eid(element)}/screenshot" if element
                        else "/screenshot")
        data = base64.b64decode(png)
        if path:
            with open(path, "wb") as f:
                f.write(data)
        return data

    def quit(self):
        try:
            http_json("DELETE", self.session)
        except Exception:
            pass


def last_stats(path):
    try:
        with open(path) as f:
            lines = [l for l in f.read().splitlines() if l.startswith("{")]
        return json.loads(lines[-1]) if lines else None
    except (OSError, ValueError):
        return None


def start_piece(mnemo, tmp):
    presets = os.path.join(tmp, "presets")
    os.mkdir(presets)
    with open(os.path.join(presets, "calm.cfg"), "w") as f:
        f.write("perturb = { noise = 0.02; };\n")
    stats = os.path.join(tmp, "stats.jsonl")
    log = open(os.path.join(tmp, "mnemo.log"), "w")
    piece = subprocess.Popen(
        [mnemo, "run", "--headless", "--iterations", "100000000", "--stats", stats,
         "-o", "web.enabled=true", "-o", "web.port=0", "-o", f"control.presets={presets}",
         "-o", "loop.rate=10", "-o", "control.glide_ms=0"],
        stdout=log, stderr=subprocess.STDOUT, cwd=tmp)

    def port():
        with open(log.name) as f:
            m = re.search(r"the page is at http://127\.0\.0\.1:(\d+)/", f.read())
        return int(m.group(1)) if m else None
    return piece, wait_for("the piece's web page", port, 120), stats, log.name


def test_page(b, base, stats):
    b.go(base + "/")
    slider = wait_for("the perturb.noise slider", lambda: b.find('[id="c-perturb.noise"]'))
    wait_for("the live link", lambda: b.js("return document.getElementById('link').textContent") == "live")
    before = float(b.js("return arguments[0].value", slider))
    b.keys(slider, ARROW_RIGHT * 5)
    after = float(b.js("return arguments[0].value", slider))
    check(after > before, f"the slider moved from {before} to {after}")
    seen = wait_for("the new value in --stats",
                    lambda: (s := last_stats(stats)) and abs(s["perturb_noise"] - after) < 1e-6 and s,
                    30)
    check(bool(seen), f"--stats shows perturb_noise {after} set from the page")

    # Another phone changes a value: this page follows.
    status, _ = http_json("POST", base + "/api/params/perturb.drift", {"value": 2.5})
    check(status == 200, "a second client sets perturb.drift")
    shown = wait_for("perturb.drift on the page",
                     lambda: b.js("return document.querySelector('[id=\"c-perturb.drift\"]').value") == "2.5", 10)
    check(bool(shown), "the page shows the second client's perturb.drift = 2.5")

    # A bad value from the page: the registry's message is shown, nothing changes.
    hold = b.find('[id="c-memory.hold"]')
    b.js("arguments[0].value = ''", hold)
    b.keys(hold, "-5\n")
    msg = wait_for("the error on the page",
                   lambda: b.js("const e = document.getElementById('error');"
                                "return e.hidden ? '' : e.textContent"), 10)
    check("out of range" in msg, f"a bad value shows the registry's message: {msg!r}")
    back = wait_for("memory.hold back on the page",
                    lambda: b.js("return arguments[0].value", hold) == "120", 10)
    check(bool(back), "the rejected value is replaced by what the piece still has (120)")

    preset = wait_for("the preset button", lambda: b.find('[data-preset="calm"]'))
    b.click(preset)
    recalled = wait_for("the preset's value in --stats",
                        lambda: (s := last_stats(stats)) and abs(s["perturb_noise"] - 0.02) < 1e-6, 30)
    check(bool(recalled), "recalling preset calm sets perturb_noise 0.02 in --stats")
    slider_now = wait_for("the recalled value on the page",
                          lambda: b.js("return arguments[0].value", slider) == "0.02", 10)
    check(bool(slider_now), "the page shows the recalled value")


def test_thumbnail(b):
    thumb = b.find("#thumb")
    wait_for("a thumbnail", lambda: b.js("return arguments[0].naturalWidth", thumb) > 0, 60)
    first = b.js("return arguments[0].src", thumb)
    a = b.screenshot(None, thumb)
    changed = wait_for("a new thumbnail", lambda: b.js("return arguments[0].src", thumb) != first, 30)
    time.sleep(0.5)
    c = b.screenshot(None, thumb)
    check(bool(changed) and a != c, "the thumbnail changes as the piece paints")


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    mnemo, shots = os.path.abspath(sys.argv[1]), sys.argv[2]
    for tool in ("chromium", "chromedriver"):
        if not shutil.which(tool):
            print(f"skip: {tool} is not installed (tools/install-deps.sh installs it)")
            return SKIP
    os.makedirs(shots, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="mnemo-browser-")
    piece = driver = b = None
    try:
        piece, port, stats, log = start_piece(mnemo, tmp)
        base = f"http://127.0.0.1:{port}"
        dport = free_port()
        driver = subprocess.Popen(["chromedriver", f"--port={dport}"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for("chromedriver", lambda: http_json("GET", f"http://127.0.0.1:{dport}/status")[0] == 200
                 if _up(dport) else False, 30)
        b = Browser(dport, os.path.join(tmp, "profile"))
        test_page(b, base, stats)
        test_thumbnail(b)
        b.size(390, 844)
        b.js("window.scrollTo(0, 0)")
        time.sleep(1)
        b.screenshot(os.path.join(shots, "web-phone.png"))
        b.size(1280, 900)
        b.js("window.scrollTo(0, 0)")
        time.sleep(1)
        b.screenshot(os.path.join(shots, "web-desktop.png"))
        print(f"screenshots: {shots}/web-phone.png, {shots}/web-desktop.png")
        check(piece.poll() is None, "the piece runs on")
    except (TimeoutError, RuntimeError) as e:
        check(False, f"{type(e).__name__}: {e}")
        if piece:
            with open(os.path.join(tmp, "mnemo.log")) as f:
                print(f.read()[-3000:])
    finally:
        if b:
            b.quit()
        for p in (driver, piece):
            if p and p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(failures)} failed")
    return 1 if failures else 0


def _up(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


if __name__ == "__main__":
    sys.exit(main())
