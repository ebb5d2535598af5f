"""The visibility matrix of awards: who sees who won a job (every viewer kind × visibility ×
published outcome, on the job page, the API and OCDS), and who may download the bids."""
from ..matrix import SEES, as_viewer, expected, sees_outcome


def test_who_won(app, awarded_world, subtests):
    """Each viewer kind × visibility × published outcome: the job page, the API's job and its
    OCDS release name the winner and the agreed value exactly when ``sees_outcome`` says."""
    for kind in SEES:
        with subtests.test(viewer=kind):
            client = as_viewer(app.test_client(), awarded_world, kind)
            for (visibility, published), job in awarded_world["awarded"].items():
                page = client.get(f"/jobs/{job.id}")
                if not expected(kind, visibility, "closed"):
                    assert page.status_code == 404, (kind, visibility)
                    continue
                shown = sees_outcome(kind, visibility, published)
                html = page.get_data(as_text=True)
                cell = (kind, visibility, published)
                assert ("WINNER" in html) == shown and ("£4,321" in html) == shown, cell
                assert "This job was awarded on" in html, cell  # that it was awarded is never hidden
                award = client.get(f"/api/v1/jobs/{job.id}").get_json()["award"]
                assert (award is not None) == shown, cell
                if shown:
                    assert (award["winner"], award["value"], award["status"]) == (
                        f"WINNER {visibility} {'published' if published else 'kept'}", 4321, "final")
                release = client.get(f"/api/v1/jobs/{job.id}/ocds").get_json()["releases"][0]
                assert ("awards" in release) == shown and ("WINNER" in str(release)) == shown, cell


def test_bids_download(app, world, subtests):
    """The bids' spreadsheet: the poster's co-op once bids close; 404 to anyone else, and to
    the poster too while bids are sealed."""
    for kind in SEES:
        with subtests.test(viewer=kind):
            client = as_viewer(app.test_client(), world, kind)
            for (visibility, state), job in world["jobs"].items():
                status = client.get(f"/jobs/{job.id}/bids.csv").status_code
                assert status == (200 if kind == "poster" and state == "closed" else 404), (kind, visibility, state)
