"""Drives the web page in Debian's chromium (headless) for web-page.sh.

Log in, press a profile button, follow the progress, see where the file went;
then (the share taken down by the caller on "SHARE stop") scan again and see
the queued banner; "SHARE start", Retry, and see the document delivered.
Every request the page makes must go to the page's own origin (the browser's
performance log); the browser's console must hold no error (a CSP violation
would be one). Screenshots: web-login, web-idle, web-scanning, web-done,
web-queued, web-retried, web-phone."""
import json
import os
import sys
import time

from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

URL = os.environ["WEB_URL"]
SHOTS = os.environ["WEB_SHOTS"]
SHARE_DIR = os.environ["WEB_SHARE_DIR"]


def log(*args):
    print(*args, flush=True)


def share(what):
    """Asks the shell around us to stop or start smbd, and waits until it has."""
    print("SHARE " + what, flush=True)
    if sys.stdin.readline().strip() != "ok":
        sys.exit("FAIL: the share could not be %sed" % what)


def browser():
    o = webdriver.ChromeOptions()
    o.binary_location = "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--user-data-dir=" + os.environ["WEB_PROFILE_DIR"],
                 "--window-size=1000,900"):
        o.add_argument(flag)
    o.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)


def shot(d, name):
    path = os.path.join(SHOTS, "web-%s.png" % name)
    d.save_screenshot(path)
    with Image.open(path) as im:
        colours = im.convert("RGB").getcolors(maxcolors=1 << 20)
        if colours is not None and len(colours) < 2:
            sys.exit("FAIL: screenshot %s is one colour" % name)
    log("screenshot", path)


def text(d, css):
    return d.find_element(By.CSS_SELECTOR, css).text


def main():
    d = browser()
    wait = WebDriverWait(d, 60, poll_frequency=0.05)
    requests = []
    try:
        # No session: the page sends us to the login form.
        d.get(URL + "/")
        wait.until(ec.url_to_be(URL + "/login"))
        wait.until(ec.visibility_of_element_located((By.ID, "user")))
        shot(d, "login")
        d.find_element(By.ID, "user").send_keys(os.environ["WEB_USER"])
        d.find_element(By.ID, "password").send_keys("not-the-password")
        d.find_element(By.ID, "submit").click()
        wait.until(lambda d: "Wrong user name or password" in text(d, "#error"))
        d.find_element(By.ID, "password").clear()
        d.find_element(By.ID, "password").send_keys(os.environ["WEB_PASSWORD"])
        d.find_element(By.ID, "submit").click()
        wait.until(ec.url_to_be(URL + "/"))

        # The scanner with its state and one button per profile.
        letter = (By.CSS_SELECTOR, 'button.profile[data-scanner="office"][data-profile="letter"]')
        wait.until(ec.element_to_be_clickable(letter))
        wait.until(lambda d: text(d, 'article[data-scanner="office"] .state') == "Ready")
        assert "Office copier" in text(d, 'article[data-scanner="office"] h2')
        profiles = [b.get_attribute("data-profile") for b in d.find_elements(By.CSS_SELECTOR, "button.profile")]
        assert profiles == ["letter", "photo"], profiles
        assert text(d, "#user") == "anna"
        shot(d, "idle")

        # A scan: progress page by page, then where the file went.
        d.find_element(*letter).click()
        wait.until(lambda d: "Scanned page 1" in text(d, "#progress-title") or
                   "Scanning page 2" in text(d, "#progress-title"))
        assert text(d, 'article[data-scanner="office"] .state') in ("Busy", "Ready"), "state while scanning"
        shot(d, "scanning")
        wait.until(lambda d: d.find_element(By.ID, "result").get_attribute("data-result") == "done")
        assert text(d, "#result-title") == "Scan delivered", text(d, "#result-title")
        place = text(d, "#result-detail")
        assert "letter-0001.pdf" in place and place.startswith("To smb://127.0.0.1:"), place
        assert os.path.isfile(os.path.join(SHARE_DIR, "letter-0001.pdf")), os.listdir(SHARE_DIR)
        wait.until(lambda d: "letter-0001.pdf" in text(d, "#recent"))
        assert d.find_element(By.ID, "down").get_attribute("hidden") is not None, "a down banner with the share up"
        shot(d, "done")

        # The share goes down: the scan is kept and the page says so calmly.
        share("stop")
        wait.until(ec.element_to_be_clickable(letter)).click()
        wait.until(lambda d: d.find_element(By.ID, "result").get_attribute("data-result") == "queued")
        assert text(d, "#result-title") == "Queued — will deliver when the share is back"
        wait.until(lambda d: d.find_element(By.ID, "down").is_displayed())
        banner = text(d, "#down")
        assert "Queued — will deliver when the share is back" in banner and "share:" in banner, banner
        assert "1 document waits" in banner and "Next try at" in banner, banner
        job = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#queue article.job")))
        job_id = job.get_attribute("data-job")
        row = text(d, '#queue li[data-destination="share"]')
        assert "share: retry" in row and "1 attempt" in row and "next try" in row and "Last error:" in row, row
        shot(d, "queued")

        # Back up; Retry delivers it now, not in ten minutes.
        share("start")
        d.find_element(By.CSS_SELECTOR, '#queue article[data-job="%s"] button.retry' % job_id).click()
        wait.until(lambda d: not d.find_elements(By.CSS_SELECTOR, '#queue article[data-job="%s"]' % job_id))
        wait.until(lambda d: d.find_element(By.ID, "down").get_attribute("hidden") is not None)
        wait.until(lambda d: "letter-0002.pdf" in text(d, '#recent li[data-job="%s"]' % job_id))
        assert os.path.isfile(os.path.join(SHARE_DIR, "letter-0002.pdf")), os.listdir(SHARE_DIR)
        shot(d, "retried")

        # On a phone: one column, the buttons still large.
        d.set_window_size(390, 844)
        d.refresh()
        b = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, 'button.profile[data-profile="letter"]')))
        assert b.size["height"] >= 60 and b.size["width"] >= 120, b.size
        width = d.execute_script("return document.documentElement.scrollWidth")
        assert width <= 390, "the page is %d px wide on a 390 px phone" % width
        shot(d, "phone")

        # Nothing but our own origin was asked for, and the console is clean.
        for entry in d.get_log("performance"):
            m = json.loads(entry["message"])["message"]
            # What our pages asked for (the browser's own new-tab page is not ours).
            if m["method"] == "Network.requestWillBeSent" and m["params"].get("documentURL", "").startswith(URL):
                requests.append(m["params"]["request"]["url"])
        assert len(requests) > 10, "the performance log shows only %s" % requests
        foreign = [u for u in requests if not u.startswith(URL + "/")]
        assert not foreign, "requests to other origins: %s" % foreign
        errors = [e for e in d.get_log("browser") if e["level"] == "SEVERE" and "401" not in e["message"]]
        assert not errors, "browser console errors: %s" % errors
        log("requests seen: %d, all to %s" % (len(requests), URL))
    finally:
        d.quit()
    log("ok")


main()
