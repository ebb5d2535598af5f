"""Plurals, numbers, money and dates through Flask-Babel: en-GB by default, another language of
``LANGUAGES`` (Welsh, once translated) for a browser that asks for it."""
from datetime import datetime

from marketplace.core.time import frozen_now

from .factories import make_coop, make_job


def _status(client):
    page = client.get("/jobs").get_data(as_text=True)
    return page.split('role="status">', 1)[1].split("</p>", 1)[0]


def test_the_jobs_list_counts_in_words(client, networks):
    coop = make_coop("Counting", {networks["cotech"]: "active"})
    make_job(coop, "public", budget_min=12500, budget_max=250000, currency="GBP")
    assert _status(client) == "Showing 1 job"
    make_job(coop, "public", budget_min=900, budget_max=None, currency="EUR", budget_type="day_rate")
    make_job(coop, "public")
    assert _status(client) == "Showing 3 jobs"
    page = client.get("/jobs").get_data(as_text=True)
    assert "£12,500–£250,000" in page and "€900 a day" in page


def test_a_language_of_the_site_is_chosen_by_the_browser(app, client, networks):
    coop = make_coop("Iaith", {networks["cotech"]: "active"})
    job = make_job(coop, "public", bids_deadline=datetime(2027, 3, 29, 11, 0))
    with frozen_now(datetime(2027, 3, 1)):
        english = client.get(f"/jobs/{job.id}", headers={"Accept-Language": "cy"}).get_data(as_text=True)
        app.config["LANGUAGES"] = ["en_GB", "cy"]
        welsh = client.get(f"/jobs/{job.id}", headers={"Accept-Language": "cy"}).get_data(as_text=True)
    assert "29 Mar 2027, 12:00 BST" in english
    assert "29 Maw 2027, 12:00 BST" in welsh  # Babel's Welsh month; the words wait for translations/cy


def test_form_messages_follow_the_browsers_language_in_each_request(app, client):
    """WTForms' own messages ("Not a valid choice.") come in the request's language: their
    catalogue is read once per language and process, not once per request, and one browser's
    language never carries over to the next."""
    app.config["LANGUAGES"] = ["en_GB", "cy"]
    for _round in (1, 2):
        for language, message in (("cy", "Nid yw hwn yn ddewis dilys"), ("en", "Not a valid choice")):
            response = client.get("/feeds/jobs.atom?kind=nonsense", headers={"Accept-Language": language})
            assert response.status_code == 400
            assert message in response.get_data(as_text=True), language
