"""The page for people, in a real headless browser (Debian's chromium through selenium), with
JavaScript switched off: fill the form, submit, read the findings.

Set RLSCHECK_SAVE_SCREENSHOT=1 to write the README's screenshot, docs/serve-page.png."""

import os
import shutil
from pathlib import Path

import pytest
from serve_support import Service

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
SCREENSHOT = Path(__file__).parent.parent / "docs" / "serve-page.png"

pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="needs Debian's chromium and chromium-driver "
                                                                  "(apt-get install chromium chromium-driver)")


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    running = Service(tmp_path_factory.mktemp("page"), args=["--insecure-dev"])
    yield running
    running.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service as DriverService

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                     "--window-size=1000,1500", f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    driver = webdriver.Chrome(options=options, service=DriverService(executable_path=DRIVER))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.mark.slow
def test_fill_the_form_submit_and_read_the_findings(service, browser, tmp_path):
    from selenium.webdriver.common.by import By

    browser.get(service.url + "/")
    assert browser.title.startswith("rlscheck")
    # every field has a label a screen reader reads out
    for field in browser.find_elements(By.CSS_SELECTOR, "input, textarea"):
        assert browser.find_elements(By.CSS_SELECTOR, f"label[for='{field.get_attribute('id')}']")
    assert browser.find_element(By.ID, "med0").get_attribute("list") == "med-names"

    browser.find_element(By.ID, "med0").send_keys("Benadryl")
    browser.find_element(By.ID, "med1").send_keys("Zoloft 50 mg")
    browser.find_element(By.ID, "med2").send_keys("gabapentin")
    browser.find_element(By.ID, "condition0").send_keys("pregnant")
    browser.find_element(By.ID, "lab-ferritin").send_keys("30")
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    report = browser.find_element(By.CSS_SELECTOR, "section.report").text
    assert "Sedating (first-generation) antihistamines" in report
    assert "Antidepressants" in report
    assert "Low iron stores" in report
    assert "gabapentin" in report.lower()  # a note, not a finding
    assert "does not diagnose" in report
    # the form keeps what was typed, so it can be corrected and sent again
    assert browser.find_element(By.ID, "med1").get_attribute("value") == "Zoloft 50 mg"
    references = browser.find_elements(By.CSS_SELECTOR, "section.report a[href^='http']")
    assert references, "sources are links"

    browser.save_screenshot(str(tmp_path / "page.png"))
    assert (tmp_path / "page.png").stat().st_size > 10_000
    if os.environ.get("RLSCHECK_SAVE_SCREENSHOT"):
        SCREENSHOT.parent.mkdir(exist_ok=True)
        browser.save_screenshot(str(SCREENSHOT))


def test_a_misspelling_is_suggested_not_corrected(service, browser):
    from selenium.webdriver.common.by import By

    browser.get(service.url + "/")
    browser.find_element(By.ID, "med0").send_keys("parxetine")
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    report = browser.find_element(By.CSS_SELECTOR, "section.report").text
    assert "parxetine" in report and "paroxetine?" in report
