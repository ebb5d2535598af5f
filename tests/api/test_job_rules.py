"""The API's job bodies are checked by the jobs rules the site's job form asks
(jobs.services.job_errors): the same refusals, in the same words; the models only read the
JSON types, naming each field at fault. The document's limits are the rules' own."""
from marketplace.jobs.services import MAX_BUDGET, MAX_LENGTHS, MAX_REQUIREMENTS, MAX_SKILLS

from ..factories import bearer, make_job
from .test_writes import error_of, job_body, poster  # noqa: F401 (the poster fixture)


def test_the_job_rules_refuse_in_the_job_forms_words(client, poster, skills):  # noqa: F811
    cases = [
        ({"work_mode": "on_site", "location": "  "}, "location",
         "Say where the work is when it is on site or hybrid."),
        ({"budget_min": 5000, "budget_max": 100}, "budget_max", "The upper end must not be below the lower end."),
        ({"budget_min": MAX_BUDGET + 1}, "budget_min", "Must be between 0 and 100,000,000."),
        ({"title": "x" * (MAX_LENGTHS["title"] + 1)}, "title", "Field cannot be longer than 200 characters."),
        ({"summary": "   "}, "summary", "This field is required."),
        ({"requirements": [f"Need {n}" for n in range(MAX_REQUIREMENTS + 1)]}, "requirements",
         f"List at most {MAX_REQUIREMENTS} essential requirements."),
    ]
    for change, field, message in cases:
        response = client.post("/api/v1/jobs", json=job_body(skills, **change), headers=bearer(poster))
        assert error_of(response, 422, "invalid")["fields"] == {field: message}, change


def test_json_types_are_named_field_by_field(client, poster, skills):  # noqa: F811
    headers = bearer(poster)
    body = job_body(skills, budget_min="1000", looking_for_partners="yes", colour="red", start_date=5)
    fields = error_of(client.post("/api/v1/jobs", json=body, headers=headers), 422, "invalid")["fields"]
    assert fields == {"budget_min": "must be an integer", "looking_for_partners": "must be true or false",
                      "colour": "unknown field", "start_date": "must be a date (YYYY-MM-DD)"}
    job = make_job(poster.coops[0], "cotech", "open", skills=[skills["python"]])
    nulled = client.patch(f"/api/v1/jobs/{job.id}", json={"title": None, "kind": "gig"}, headers=headers)
    fields = error_of(nulled, 422, "invalid")["fields"]
    assert fields["title"] == "must not be null" and fields["kind"].startswith("must be one of")


def test_the_documented_limits_are_the_rules(client):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    job = schemas["JobCreate"]["properties"]
    assert {name: job[name]["maxLength"] for name in MAX_LENGTHS} == MAX_LENGTHS
    assert job["budget_min"]["maximum"] == MAX_BUDGET and job["skills"]["maxItems"] == MAX_SKILLS
    assert set(schemas["JobCreate"]["required"]) == {
        "title", "summary", "skills", "budget_min", "questions_deadline", "bids_deadline", "visibility"}
    assert "required" not in schemas["JobUpdate"]  # a change names only what changes
