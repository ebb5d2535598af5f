import pytest


@pytest.fixture
def demo(runner):
    """The demo world, loaded through the CLI; returns the command's output."""
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(autouse=True)
def _no_server_name(app, monkeypatch):
    """Run the command as `flask demo load` runs: no SERVER_NAME to build links from."""
    monkeypatch.setitem(app.config, "SERVER_NAME", None)
