"""The visibility matrix on the JSON API: list and read, every viewer kind × visibility × state."""
import pytest

from ..matrix import SEES, as_viewer, expected, world  # noqa: F401


@pytest.mark.parametrize("kind", sorted(SEES))
def test_api_job_read_and_list_follow_the_visibility_rule(client, world, kind):  # noqa: F811
    as_viewer(client, world, kind)
    listed = client.get("/api/v1/jobs?state=any&per_page=100")
    assert listed.status_code == 200
    titles = {j["title"] for j in listed.get_json()["items"]}
    for (visibility, state), job in world["jobs"].items():
        should = expected(kind, visibility, state)
        assert (job.title in titles) == should, (kind, visibility, state)
        response = client.get(f"/api/v1/jobs/{job.id}")
        assert response.status_code == (200 if should else 404), (kind, visibility, state)
        if not should:
            assert response.get_json()["error"]["code"] == "not_found"
        else:
            assert response.get_json()["id"] == job.id
