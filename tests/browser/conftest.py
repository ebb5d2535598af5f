"""Browser fixtures shared by the flows."""
import pytest

from ..factories import PASSWORD


@pytest.fixture
def sign_in(browser_page, live_server):
    """Open a browser of its own for a person and sign them in through /login."""
    contexts = []

    def open_as(user):
        context = browser_page.context.browser.new_context(base_url=live_server)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto("/login")
        page.fill("#email", user.email)
        page.fill("#password", PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        assert "/login" not in page.url, page.content()
        return page

    yield open_as
    for context in contexts:
        context.close()
