"""The visibility matrix on the JSON API: list and read, every viewer kind × visibility × state."""
import pytest

from ..factories import counted_statements
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


def test_cached_api_lists_never_cross_audiences(app, world):  # noqa: F811
    """Every kind of caller, by bearer token and by session, one after another and twice round:
    the second round is answered from the cache (fewer statements), each with its own jobs."""
    from ..factories import bearer

    callers = {kind: bearer(user) for kind, user in world["users"].items()}
    statements = {}
    for round_ in (1, 2):
        for kind, headers in callers.items():
            with counted_statements() as ran:
                listed = app.test_client().get("/api/v1/jobs?state=any&per_page=100", headers=headers)
            titles = {j["title"] for j in listed.get_json()["items"]}
            want = {job.title for (v, s), job in world["jobs"].items() if expected(kind, v, s)}
            assert titles == want and listed.get_json()["total"] == len(want), (round_, kind)
            statements[round_, kind] = len(ran)
    for kind in callers:
        assert statements[2, kind] < statements[1, kind], kind
