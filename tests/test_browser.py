"""In a real browser: Debian's Chromium, headless, driven by Playwright, against the real server,
with every request that leaves the machine refused (court networks are often closed)."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_server import serving

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)"),
]
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser_page(tmp_path: Path, fresh_database_url: str) -> Iterator[tuple[object, str, list[str]]]:
    from playwright.sync_api import sync_playwright

    with serving(tmp_path, "--demo", database_url=fresh_database_url) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        outside: list[str] = []

        def offline(route: object) -> None:
            url = route.request.url  # type: ignore[attr-defined]
            if url.startswith(base):
                route.continue_()  # type: ignore[attr-defined]
            else:
                outside.append(url)
                route.abort()  # type: ignore[attr-defined]

        page.route("**/*", offline)
        try:
            yield page, base, outside
        finally:
            browser.close()


def run_query(page: object, text: str) -> None:
    """Replace the editor's text (typing would meet its bracket auto-closing) and run it."""
    page.evaluate(  # type: ignore[attr-defined]
        "text => document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(text)", text
    )
    page.wait_for_timeout(500)  # type: ignore[attr-defined]  # GraphiQL takes up an edit after a short debounce
    page.locator(".graphiql-query-editor .CodeMirror").first.click()  # type: ignore[attr-defined]
    page.keyboard.press("Control+Enter")  # type: ignore[attr-defined]


def test_graphiql_loads_offline_and_runs_a_query(browser_page: tuple[object, str, list[str]]) -> None:
    page, base, outside = browser_page
    page.goto(f"{base}/courts/mad/graphql")  # type: ignore[attr-defined]
    page.wait_for_selector(".graphiql-container .graphiql-execute-button")  # type: ignore[attr-defined]
    page.wait_for_load_state("networkidle")  # type: ignore[attr-defined]  # the schema is loaded
    run_query(page, "{ court { code name } courts { code } }")
    result = page.locator(".result-window")  # type: ignore[attr-defined]
    result.get_by_text("U.S. District Court for the District of Massachusetts").wait_for(timeout=15000)
    assert outside == [], f"the page tried to reach {outside}"
    if os.environ.get("NEXTGEN_GQL_SCREENSHOTS"):  # refresh docs/screenshots/ on purpose only
        shots = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
        page.screenshot(path=str(shots / "graphiql.png"))  # type: ignore[attr-defined]


def test_signing_in_from_graphiql_uses_the_cookie(browser_page: tuple[object, str, list[str]]) -> None:
    page, base, outside = browser_page
    page.goto(f"{base}/graphql")  # type: ignore[attr-defined]
    page.wait_for_selector(".graphiql-container .graphiql-execute-button")  # type: ignore[attr-defined]
    page.wait_for_load_state("networkidle")  # type: ignore[attr-defined]
    for operation, expected in [
        (
            'mutation { signIn(input: {username: "jmorgan2019", password: "Granite-Falcon-Morning-88"}) { errors { code } } }',
            '"errors": []',
        ),
        ("{ me { username } }", '"username": "jmorgan2019"'),
    ]:
        run_query(page, operation)
        page.locator(".result-window").get_by_text(expected).wait_for(timeout=15000)  # type: ignore[attr-defined]
    cookies = page.context.cookies()  # type: ignore[attr-defined]
    session = [c for c in cookies if c["name"] == "NextGenCSO"]
    assert session and session[0]["httpOnly"] is True and session[0]["sameSite"] == "Lax"
    assert outside == []


#: The SPA's names of the roles (app.js ROLE_NAMES).
ROLE_NAMES = {"ATTORNEY": "Attorney", "PRO_SE": "Pro se party", "MEDIA": "Media"}
SHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


def shot(page: object, name: str) -> None:
    if os.environ.get("NEXTGEN_GQL_SCREENSHOTS"):
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def sign_in(page: object, base: str, username: str, password: str, *, acknowledge: bool = False) -> None:
    page.goto(f"{base}/#/signin")  # type: ignore[attr-defined]
    page.get_by_label("Username").fill(username)  # type: ignore[attr-defined]
    page.get_by_label("Password").fill(password)  # type: ignore[attr-defined]
    if acknowledge:
        page.get_by_label("I will redact", exact=False).check()  # type: ignore[attr-defined]
    page.get_by_role("button", name="Sign in").click()  # type: ignore[attr-defined]
    page.get_by_role("heading", name="My account").wait_for()  # type: ignore[attr-defined]


def test_spa_upgrade_then_link_at_mad_and_see_the_privilege(
    browser_page: tuple[object, str, list[str]],
) -> None:
    page, base, outside = browser_page
    sign_in(page, base, "lp1234", "Boston2011!")
    assert "Legacy account" in page.locator("#account-status").inner_text()  # type: ignore[attr-defined]
    shot(page, "spa-account-legacy")
    page.get_by_role("link", name="Upgrade").click()  # type: ignore[attr-defined]
    page.get_by_label("Email").fill("laura@perezlaw.example")  # type: ignore[attr-defined]
    page.get_by_label("New username").fill("lauraperez")  # type: ignore[attr-defined]
    page.get_by_label("New password").fill("Blue-Harbor-Lantern-42")  # type: ignore[attr-defined]
    page.get_by_role("button", name="Upgrade my account").click()  # type: ignore[attr-defined]
    page.get_by_text("Your account is upgraded").wait_for()  # type: ignore[attr-defined]
    page.get_by_role("link", name="Link a CM/ECF account").click()  # type: ignore[attr-defined]
    page.get_by_label("Court").select_option("mad")  # type: ignore[attr-defined]
    page.get_by_label("Legacy CM/ECF login").fill("LPEREZ")  # type: ignore[attr-defined]
    page.get_by_label("Legacy CM/ECF password").fill("legacy-ecf-pass")  # type: ignore[attr-defined]
    submit = page.get_by_role("button", name="Link for good")  # type: ignore[attr-defined]
    assert submit.is_disabled()  # nothing happens until the person confirms
    page.get_by_label("I understand that linking can never be undone.").check()  # type: ignore[attr-defined]
    shot(page, "spa-link-wizard")
    submit.click()
    page.get_by_text("you may now file in").wait_for()  # type: ignore[attr-defined]
    privileges = page.locator("#privileges").inner_text()  # type: ignore[attr-defined]
    assert "District of Massachusetts (mad)" in privileges and "linked legacy account" in privileges
    assert "(ca1)" not in privileges and "(mab)" not in privileges
    shot(page, "spa-account-linked")
    assert outside == []


def test_spa_clerk_approves_a_registration(browser_page: tuple[object, str, list[str]]) -> None:
    page, base, outside = browser_page
    sign_in(page, base, "jmorgan2019", "Granite-Falcon-Morning-88")
    # A filer has no clerk's pages: neither the queue nor the move to NextGen.
    assert page.locator("nav").get_by_text("Move to NextGen", exact=False).count() == 0  # type: ignore[attr-defined]
    page.get_by_role("link", name="E-file registration").click()  # type: ignore[attr-defined]
    page.get_by_label("Court").select_option("mad")  # type: ignore[attr-defined]
    page.get_by_label("Role").select_option("MEDIA")  # type: ignore[attr-defined]
    page.get_by_role("button", name="Send the registration").click()  # type: ignore[attr-defined]
    page.get_by_text("the clerk will decide").wait_for()  # type: ignore[attr-defined]
    page.goto(f"{base}/#/move/mad")  # type: ignore[attr-defined]
    page.get_by_text("Only the court's clerks see how its filers move to NextGen.").wait_for()  # type: ignore[attr-defined]
    assert page.locator("#linking-totals").count() == 0  # type: ignore[attr-defined]
    page.get_by_role("button", name="Sign out").click()  # type: ignore[attr-defined]
    page.get_by_role("heading", name="Sign in with your PACER account").wait_for()  # type: ignore[attr-defined]
    sign_in(page, base, "madclerk01", "Court-Docket-Review-2026!")
    page.get_by_role("link", name="Queue: mad").click()  # type: ignore[attr-defined]
    page.get_by_text("James Morgan (jmorgan2019)").wait_for()  # type: ignore[attr-defined]
    shot(page, "spa-clerk-queue")
    page.get_by_role("button", name="Approve").click()  # type: ignore[attr-defined]
    page.get_by_text("Registration of jmorgan2019 approved.").wait_for()  # type: ignore[attr-defined]
    page.locator("main").get_by_text("0 pending.").wait_for()  # type: ignore[attr-defined]
    page.get_by_role("button", name="Sign out").click()  # type: ignore[attr-defined]
    sign_in(page, base, "jmorgan2019", "Granite-Falcon-Morning-88", acknowledge=True)
    privileges = page.locator("#privileges").inner_text()  # type: ignore[attr-defined]
    assert "(mad)" in privileges and "registration" in privileges
    assert outside == []


def test_spa_firm_admin_sees_members_and_the_quarters_statement(
    browser_page: tuple[object, str, list[str]],
) -> None:
    import httpx

    page, base, outside = browser_page

    def call(query: str, token: str | None = None, court: str | None = None) -> dict[str, object]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        path = f"/courts/{court}/graphql" if court else "/graphql"
        body = httpx.post(base + path, json={"query": query}, headers=headers, timeout=30).json()
        assert "errors" not in body, body
        return body["data"]  # type: ignore[no-any-return]

    def token(username: str, password: str) -> str:
        data = call(
            f'mutation {{ signIn(input: {{username: "{username}", password: "{password}"}}) {{ token }} }}'
        )
        return data["signIn"]["token"]  # type: ignore[index, no-any-return]

    maria = token("mlopez2018", "Harbor-Signal-Evening-5")
    call('mutation { createFirm(input: {name: "Lopez & Morgan LLP"}) { errors { code } } }', maria)
    invited = call(
        'mutation { inviteFirmMember(input: {accountNumber: "1618033", lastName: "morgan"}) '
        "{ invitation { id } } }",
        maria,
    )
    james = token("jmorgan2019", "Granite-Falcon-Morning-88")
    invitation = invited["inviteFirmMember"]["invitation"]["id"]  # type: ignore[index]
    call(f'mutation {{ acceptFirmInvitation(id: "{invitation}") {{ errors {{ code }} }} }}', james)
    clerk = token("ca1clerk01", "Court-Docket-Review-2026!")
    call(
        'mutation { recordUsage(input: {accountNumber: "1618033", kind: DOCUMENT, pages: 45}) '
        "{ errors { code } } }",
        clerk,
        "ca1",
    )

    sign_in(page, base, "mlopez2018", "Harbor-Signal-Evening-5")
    page.get_by_role("link", name="My firm").click()  # type: ignore[attr-defined]
    page.get_by_role("heading", name="Members (2)").wait_for()  # type: ignore[attr-defined]
    assert "jmorgan2019" in page.locator("main").inner_text()  # type: ignore[attr-defined]
    page.get_by_role("button", name="Show the statement").click()  # type: ignore[attr-defined]
    page.get_by_text("statement of account, nothing due (charges of $3.00 are waived)").wait_for()  # type: ignore[attr-defined]
    shot(page, "spa-firm")
    assert outside == []


def api_call(base: str, query: str, token: str | None = None, court: str | None = None) -> dict[str, object]:
    import httpx

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    path = f"/courts/{court}/graphql" if court else "/graphql"
    body = httpx.post(base + path, json={"query": query}, headers=headers, timeout=30).json()
    assert "errors" not in body, body
    return body["data"]  # type: ignore[no-any-return]


def test_spa_holder_sees_what_they_may_do_and_the_clerk_adds_a_case_and_revokes(
    browser_page: tuple[object, str, list[str]],
) -> None:
    page, base, outside = browser_page
    # The demo's pro se party sees, per court, what she may do and in which case.
    sign_in(page, base, "nreyes2021", "Cedar-Window-Quiet-31!", acknowledge=True)
    privileges = page.locator("#privileges").inner_text()  # type: ignore[attr-defined]
    assert "Pro se party" in privileges and "file in the listed cases, receive notices" in privileges
    assert "1:25-cv-10311" in privileges and "live" in privileges
    shot(page, "spa-account-permissions")
    page.get_by_role("button", name="Sign out").click()  # type: ignore[attr-defined]
    page.get_by_role("heading", name="Sign in with your PACER account").wait_for()  # type: ignore[attr-defined]

    # Alan Pratt links his legacy pro se account at ca1: it lists no case, so he files nowhere yet.
    api_call(
        base,
        'mutation { registerPacerAccount(input: {username: "alanpratt26", password: "Maple-Lantern-Quiet-77",'
        ' firstName: "Alan", lastName: "Pratt", email: "alan@example.org"}) { errors { code } } }',
    )
    alan = api_call(
        base,
        'mutation { signIn(input: {username: "alanpratt26", password: "Maple-Lantern-Quiet-77"}) { token } }',
    )["signIn"]["token"]  # type: ignore[index]
    api_call(
        base,
        'mutation { linkCmecfAccount(input: {login: "apratt", password: "legacy-ecf-pass", confirm: true}) '
        "{ errors { code } } }",
        str(alan),
        "ca1",
    )
    sign_in(page, base, "ca1clerk01", "Court-Docket-Review-2026!")
    page.get_by_role("link", name="Privileges: ca1").click()  # type: ignore[attr-defined]
    needing = page.locator("#needing-cases")  # type: ignore[attr-defined]
    needing.get_by_role("heading", name="Needing a case (1)").wait_for()
    assert "Alan Pratt (alanpratt26)" in needing.inner_text()
    needing.get_by_label("Case number for alanpratt26").fill("24-1234-cv")
    shot(page, "spa-clerk-privileges")
    needing.get_by_role("button", name="Add case").click()
    page.get_by_text("Case added for alanpratt26.").wait_for()  # type: ignore[attr-defined]
    page.locator("#needing-cases").get_by_role("heading", name="Needing a case (0)").wait_for()  # type: ignore[attr-defined]
    assert "24-1234" in page.locator("#live-privileges").inner_text()  # type: ignore[attr-defined]
    can = api_call(base, '{ me { canFile(court: "ca1", caseNumber: "2024-1234") } }', str(alan))
    assert can == {"me": {"canFile": True}}
    page.get_by_role("button", name="Sign out").click()  # type: ignore[attr-defined]

    # mad's clerk revokes the demo media account, with a reason (none: refused, nothing changes).
    sign_in(page, base, "madclerk01", "Court-Docket-Review-2026!")
    page.get_by_role("link", name="Privileges: mad").click()  # type: ignore[attr-defined]
    live = page.locator("#live-privileges")  # type: ignore[attr-defined]
    live.get_by_text("Dan Walsh (dwalsh2022)").wait_for()
    row = live.locator("tr", has_text="dwalsh2022")
    row.get_by_role("button", name="Revoke").click()
    page.get_by_text("A revocation needs a reason").wait_for()  # type: ignore[attr-defined]
    row.get_by_label("Reason for revoking dwalsh2022").fill("Press credentials expired.")
    row.get_by_role("button", name="Revoke").click()
    page.get_by_text("Privilege of dwalsh2022 revoked.").wait_for()  # type: ignore[attr-defined]
    assert "dwalsh2022" not in page.locator("#live-privileges").inner_text()  # type: ignore[attr-defined]
    page.get_by_role("button", name="Sign out").click()  # type: ignore[attr-defined]

    # The holder sees it revoked, and why.
    sign_in(page, base, "dwalsh2022", "Copper-Press-Morning-17")
    privileges = page.locator("#privileges").inner_text()  # type: ignore[attr-defined]
    assert "nothing: revoked" in privileges and "Press credentials expired." in privileges
    assert outside == []


def sign_in_with_a_client_code(page: object, base: str, username: str, password: str, code: str) -> None:
    """A member of a firm that requires a client code: refused without one, in with one."""
    page.goto(f"{base}/#/signin")  # type: ignore[attr-defined]
    page.get_by_label("Username").fill(username)  # type: ignore[attr-defined]
    page.get_by_label("Password").fill(password)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Sign in").click()  # type: ignore[attr-defined]
    page.get_by_text("(CLIENT_CODE_REQUIRED)").wait_for()  # type: ignore[attr-defined]
    page.get_by_label("Client code", exact=False).fill(code)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Sign in").click()  # type: ignore[attr-defined]
    page.get_by_role("heading", name="My account").wait_for()  # type: ignore[attr-defined]


def test_spa_firm_invitations_both_sides_and_administrators(
    browser_page: tuple[object, str, list[str]],
) -> None:
    page, base, outside = browser_page
    maria = api_call(
        base,
        'mutation { signIn(input: {username: "mlopez2018", password: "Harbor-Signal-Evening-5"}) { token } }',
    )
    api_call(
        base,
        'mutation { createFirm(input: {name: "Lopez & Morgan LLP"}) { errors { code } } }',
        str(maria["signIn"]["token"]),
    )  # type: ignore[index]

    # The administrator invites James, and invites (then cancels) Nora; turns client codes on.
    sign_in(page, base, "mlopez2018", "Harbor-Signal-Evening-5")
    page.get_by_role("link", name="My firm").click()  # type: ignore[attr-defined]
    invite = page.locator("#invite")  # type: ignore[attr-defined]
    for number, last in [("8201145", "reyes"), ("1618033", "Morgan")]:
        invite.get_by_label("Account number").fill(number)
        invite.get_by_label("Last name").fill(last)
        invite.get_by_role("button", name="Invite").click()
        page.get_by_text("Invitation sent to").wait_for()  # type: ignore[attr-defined]
    pending = page.locator("#firm-invitations")  # type: ignore[attr-defined]
    pending.get_by_role("heading", name="Pending invitations (2)").wait_for()
    pending.get_by_role("button", name="Cancel the invitation of nreyes2021").click()
    page.get_by_text("The invitation of nreyes2021 is cancelled.").wait_for()  # type: ignore[attr-defined]
    page.locator("#firm-invitations").get_by_role("heading", name="Pending invitations (1)").wait_for()  # type: ignore[attr-defined]
    page.get_by_label("Every member signs in with a client code", exact=False).check()  # type: ignore[attr-defined]
    page.get_by_role("button", name="Save the rule").click()  # type: ignore[attr-defined]
    page.get_by_text("Members now sign in with a client code.").wait_for()  # type: ignore[attr-defined]
    page.get_by_role("button", name="Sign out").click()  # type: ignore[attr-defined]

    # The invitee finds the invitation on his account and accepts it.
    sign_in(page, base, "jmorgan2019", "Granite-Falcon-Morning-88")
    invitations = page.locator("#invitations")  # type: ignore[attr-defined]
    invitations.get_by_role("heading", name="Invitations to join a firm (1)").wait_for()
    assert "Lopez & Morgan LLP" in invitations.inner_text() and "Maria Lopez" in invitations.inner_text()
    shot(page, "spa-invitations")
    invitations.get_by_role("button", name="Accept the invitation of Lopez & Morgan LLP").click()
    page.get_by_text("You joined Lopez & Morgan LLP").wait_for()  # type: ignore[attr-defined]
    assert page.locator("#invitations").count() == 0  # type: ignore[attr-defined]
    page.get_by_role("button", name="Sign out").click()  # type: ignore[attr-defined]

    # The administrator (a member: she signs in with a client code now) makes him an
    # administrator, then steps down herself.
    sign_in_with_a_client_code(page, base, "mlopez2018", "Harbor-Signal-Evening-5", "LOPEZ-001")
    page.get_by_role("link", name="My firm").click()  # type: ignore[attr-defined]
    members = page.locator("#members")  # type: ignore[attr-defined]
    members.get_by_role("heading", name="Members (2)").wait_for()
    members.get_by_role("button", name="Make jmorgan2019 an administrator").click()
    page.get_by_text("jmorgan2019 is now an administrator.").wait_for()  # type: ignore[attr-defined]
    shot(page, "spa-firm-admins")
    page.locator("#members").get_by_role("button", name="Step down").click()  # type: ignore[attr-defined]
    page.get_by_text("You are no longer an administrator of Lopez & Morgan LLP.").wait_for()  # type: ignore[attr-defined]
    assert page.get_by_role("link", name="My firm").count() == 0  # type: ignore[attr-defined]
    page.get_by_role("button", name="Sign out").click()  # type: ignore[attr-defined]

    # James, the last administrator now, signs in with a client code (the firm's rule) and
    # cannot step down: the firm keeps an administrator.
    sign_in_with_a_client_code(page, base, "jmorgan2019", "Granite-Falcon-Morning-88", "MORGAN-001")
    page.get_by_role("link", name="My firm").click()  # type: ignore[attr-defined]
    page.locator("#members").get_by_role("button", name="Step down").click()  # type: ignore[attr-defined]
    page.get_by_text("(LAST_ADMIN)").wait_for()  # type: ignore[attr-defined]
    assert outside == []


def test_spa_clerk_makes_a_service_key_shown_once_and_revokes_it(
    browser_page: tuple[object, str, list[str]],
) -> None:
    import re

    import httpx

    page, base, outside = browser_page
    sign_in(page, base, "madclerk01", "Court-Docket-Review-2026!")
    page.get_by_role("link", name="Keys: mad").click()  # type: ignore[attr-defined]
    form = page.locator("#new-key")  # type: ignore[attr-defined]
    form.get_by_role("button", name="Make the key").click()
    page.get_by_text("(INVALID_INPUT)").wait_for()  # type: ignore[attr-defined]  # no name: nothing made
    form.get_by_label("Name (which system uses it)").fill("CM/ECF usage feed")
    form.get_by_label("record usage (recordUsage) (RECORD_USAGE)").check()
    form.get_by_role("button", name="Make the key").click()
    secret_box = page.locator("#new-key-secret")  # type: ignore[attr-defined]
    secret_box.wait_for()
    secret = secret_box.locator("code").inner_text()
    assert re.fullmatch(r"ngk_[a-z0-9]{8}_[A-Za-z0-9]{40}", secret), secret
    assert secret[:12] in page.locator("main table").inner_text()  # type: ignore[attr-defined]
    shot(page, "spa-clerk-keys")
    usage = {
        "query": 'mutation { recordUsage(input: {accountNumber: "1618033", kind: SEARCH, pages: 1}) { errors { code } } }'
    }
    sent = httpx.post(
        f"{base}/courts/mad/graphql", json=usage, headers={"authorization": f"Bearer {secret}"}, timeout=30
    )
    assert sent.json() == {"data": {"recordUsage": {"errors": []}}}
    # Shown once: back on the page, the secret is gone for good.
    page.get_by_role("link", name="Queue: mad").click()  # type: ignore[attr-defined]
    page.get_by_role("heading", name="Registration queue", exact=False).wait_for()  # type: ignore[attr-defined]
    page.get_by_role("link", name="Keys: mad").click()  # type: ignore[attr-defined]
    page.get_by_role("heading", name="Make a key").wait_for()  # type: ignore[attr-defined]
    assert secret not in page.content()  # type: ignore[attr-defined]
    assert "never" not in page.locator("main table").inner_text()  # type: ignore[attr-defined]  # it was used
    page.get_by_role("button", name="Revoke the key CM/ECF usage feed").click()  # type: ignore[attr-defined]
    page.get_by_text("stops working at once").wait_for()  # type: ignore[attr-defined]
    assert "revoked on" in page.locator("main table").inner_text()  # type: ignore[attr-defined]
    refused = httpx.post(
        f"{base}/courts/mad/graphql", json=usage, headers={"authorization": f"Bearer {secret}"}, timeout=30
    )
    assert refused.status_code == 401
    assert outside == []


@pytest.fixture
def two_browsers(tmp_path: Path, fresh_database_url: str) -> Iterator[tuple[object, object, str, list[str]]]:
    """Two browser contexts (two people, each with their own cookies) on the same server."""
    from playwright.sync_api import sync_playwright

    with serving(tmp_path, "--demo", database_url=fresh_database_url) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        outside: list[str] = []

        def offline(route: object) -> None:
            url = route.request.url  # type: ignore[attr-defined]
            if url.startswith(base) or url.startswith(base.replace("http://", "ws://")):
                route.continue_()  # type: ignore[attr-defined]
            else:
                outside.append(url)
                route.abort()  # type: ignore[attr-defined]

        pages = []
        for _ in range(2):
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            context.route("**/*", offline)
            pages.append(context.new_page())
        try:
            yield pages[0], pages[1], base, outside
        finally:
            browser.close()


def test_spa_clerk_queue_and_account_page_update_live(
    two_browsers: tuple[object, object, str, list[str]],
) -> None:
    """A clerk watches mad's queue in one browser; a filer sends a registration in another: it
    appears in the queue within 2 seconds, no reload. The clerk approves: the filer's account
    page shows it within 2 seconds."""
    import time

    clerk, filer, base, outside = two_browsers
    errors: list[str] = []
    for page in (clerk, filer):
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)  # type: ignore[attr-defined]
    sign_in(clerk, base, "madclerk01", "Court-Docket-Review-2026!")
    clerk.get_by_role("link", name="Queue: mad").click()  # type: ignore[attr-defined]
    clerk.locator("main").get_by_text("0 pending.").wait_for()  # type: ignore[attr-defined]
    clerk.wait_for_timeout(1000)  # type: ignore[attr-defined]  # its socket is open and subscribed

    sign_in(filer, base, "jmorgan2019", "Granite-Falcon-Morning-88")
    filer.get_by_role("link", name="E-file registration").click()  # type: ignore[attr-defined]
    filer.get_by_label("Court").select_option("mad")  # type: ignore[attr-defined]
    filer.get_by_label("Role").select_option("MEDIA")  # type: ignore[attr-defined]
    filer.get_by_role("button", name="Send the registration").click()  # type: ignore[attr-defined]
    filer.get_by_text("the clerk will decide").wait_for()  # type: ignore[attr-defined]  # committed
    sent = time.monotonic()
    clerk.get_by_text("James Morgan (jmorgan2019)").wait_for(timeout=2000)  # type: ignore[attr-defined]
    clerk.locator("main").get_by_text("1 pending.").wait_for(timeout=2000)  # type: ignore[attr-defined]
    assert time.monotonic() - sent <= 2.0
    shot(clerk, "spa-clerk-queue-live")

    filer.get_by_role("heading", name="My account").wait_for()  # type: ignore[attr-defined]
    filer.wait_for_timeout(500)  # type: ignore[attr-defined]
    clerk.get_by_role("button", name="Approve").click()  # type: ignore[attr-defined]
    clerk.get_by_text("Registration of jmorgan2019 approved.").wait_for()  # type: ignore[attr-defined]
    decided = time.monotonic()
    filer.get_by_text("Live: A court decided one of your registrations.").wait_for(timeout=2000)  # type: ignore[attr-defined]
    filer.locator("#privileges").get_by_text("(mad)").wait_for(timeout=2000)  # type: ignore[attr-defined]
    assert time.monotonic() - decided <= 2.0
    assert "approved" in filer.locator("main").inner_text()  # type: ignore[attr-defined]
    assert outside == [] and errors == [], (outside, errors)


def test_graphiql_streams_a_subscription(browser_page: tuple[object, str, list[str]]) -> None:
    """GraphiQL runs subscriptions as server-sent events from its own endpoint (no WebSocket
    library in the offline bundle): an event shows as it comes."""
    page, base, outside = browser_page
    page.goto(f"{base}/graphql")  # type: ignore[attr-defined]
    page.wait_for_selector(".graphiql-container .graphiql-execute-button")  # type: ignore[attr-defined]
    page.wait_for_load_state("networkidle")  # type: ignore[attr-defined]
    run_query(
        page,
        'mutation { signIn(input: {username: "jmorgan2019", password: "Granite-Falcon-Morning-88"}) { errors { code } } }',
    )
    page.locator(".result-window").get_by_text('"errors": []').wait_for(timeout=15000)  # type: ignore[attr-defined]
    run_query(page, "subscription Mine { myEvents { kind } }")
    page.wait_for_timeout(1500)  # type: ignore[attr-defined]  # the stream is open
    other = api_call(
        base,
        'mutation { signIn(input: {username: "jmorgan2019", password: "Granite-Falcon-Morning-88"}) { token } }',
    )["signIn"]["token"]  # type: ignore[index]
    api_call(base, "mutation { signOut { ok } }", str(other))  # another session ends: SECURITY_CHANGED
    page.locator(".result-window").get_by_text("SECURITY_CHANGED").wait_for(timeout=5000)  # type: ignore[attr-defined]
    assert outside == []


def _latest_mail(workdir: Path, label: str) -> str:
    import email
    import email.policy
    import re

    for path in sorted((workdir / "mail").glob("*.eml"), reverse=True):
        body = email.message_from_bytes(path.read_bytes(), policy=email.policy.default).get_body()
        found = re.search(rf"{label} (\S+)", body.get_content() if body else "")  # type: ignore[union-attr]
        if found:
            return found.group(1)
    raise AssertionError(f"no mail with {label}")


def _api_sign_in(base: str, username: str, password: str, *, challenge: bool = False) -> str:
    """A token (or, for an account with MFA, the challenge's token), signed in over HTTP."""
    import httpx

    query = (
        f'mutation {{ signIn(input: {{username: "{username}", password: "{password}"}}) '
        "{ token mfaChallenge { token } } }"
    )
    body = httpx.post(
        f"{base}/graphql", json={"query": query}, headers={"user-agent": "Another Browser/2.0"}, timeout=30
    ).json()
    signed = body["data"]["signIn"]
    return signed["mfaChallenge"]["token"] if challenge else signed["token"]  # type: ignore[no-any-return]


def test_spa_enrol_an_app_then_sign_in_with_a_code_and_manage_the_account(
    browser_page: tuple[object, str, list[str]], tmp_path: Path
) -> None:
    """The server runs on the real clock, so codes are made for the real time; the sign-in uses
    the next step's code (one step of drift is accepted), as the enrolment's was used."""
    import datetime as dt

    import pyotp

    page, base, outside = browser_page
    sign_in(page, base, "jmorgan2019", "Granite-Falcon-Morning-88")
    page.get_by_role("link", name="Security").click()  # type: ignore[attr-defined]
    assert page.locator("#mfa-status").inner_text() == "off"  # type: ignore[attr-defined]
    page.get_by_label("Name of the app or device").fill("Work phone")  # type: ignore[attr-defined]
    page.get_by_role("button", name="Add an app").click()  # type: ignore[attr-defined]
    page.locator("#qr-code").wait_for()  # type: ignore[attr-defined]
    assert page.locator("#qr-code").evaluate("img => img.naturalWidth > 0")  # type: ignore[attr-defined]
    secret = page.locator("#totp-secret").inner_text()  # type: ignore[attr-defined]
    shot(page, "spa-mfa-enrol")
    page.get_by_label("Security code").fill(_latest_mail(tmp_path, "Security code:"))  # type: ignore[attr-defined]
    page.get_by_label("The code the app shows now").fill(pyotp.TOTP(secret).now())  # type: ignore[attr-defined]
    page.get_by_role("button", name="Confirm the app").click()  # type: ignore[attr-defined]
    page.locator("#backup-codes").wait_for()  # type: ignore[attr-defined]
    codes = page.locator("#backup-codes li").all_inner_texts()  # type: ignore[attr-defined]
    assert len(codes) == 10 and page.locator("#mfa-status").inner_text() == "on"  # type: ignore[attr-defined]
    with page.expect_download() as download:  # type: ignore[attr-defined]
        page.get_by_role("link", name="Download the codes").click()  # type: ignore[attr-defined]
    saved = Path(download.value.path()).read_text()
    assert all(c in saved for c in codes)
    shot(page, "spa-mfa-backup-codes")
    # Shown once: the page again lists no codes.
    page.get_by_role("link", name="My account").click()  # type: ignore[attr-defined]
    page.get_by_role("link", name="Security").click()  # type: ignore[attr-defined]
    page.get_by_role("heading", name="Authenticator apps (1 of 5)").wait_for()  # type: ignore[attr-defined]
    assert page.locator("#backup-codes").count() == 0  # type: ignore[attr-defined]

    page.get_by_role("button", name="Sign out").click()  # type: ignore[attr-defined]
    page.get_by_label("Username").fill("jmorgan2019")  # type: ignore[attr-defined]
    page.get_by_label("Password").fill("Granite-Falcon-Morning-88")  # type: ignore[attr-defined]
    page.get_by_role("button", name="Sign in").click()  # type: ignore[attr-defined]
    page.get_by_role("heading", name="Confirm it is you").wait_for()  # type: ignore[attr-defined]
    page.get_by_label("Code").fill("000000" if pyotp.TOTP(secret).now() != "000000" else "111111")  # type: ignore[attr-defined]
    page.get_by_role("button", name="Verify").click()  # type: ignore[attr-defined]
    page.get_by_text("INVALID_MFA_CODE").wait_for()  # type: ignore[attr-defined]
    shot(page, "spa-mfa-sign-in")
    ahead = pyotp.TOTP(secret).at(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30))
    page.get_by_label("Code").fill(ahead)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Verify").click()  # type: ignore[attr-defined]
    page.get_by_role("heading", name="My account").wait_for()  # type: ignore[attr-defined]

    page.get_by_role("link", name="Password and email").click()  # type: ignore[attr-defined]
    form = page.locator("#change-email")  # type: ignore[attr-defined]
    form.get_by_label("New email").fill("james@morgan-appeals.example")
    form.get_by_label("Password").fill("not the password")
    form.get_by_role("button").click()
    page.get_by_text("INVALID_CREDENTIALS").wait_for()  # type: ignore[attr-defined]
    form.get_by_label("Password").fill("Granite-Falcon-Morning-88")
    form.get_by_role("button").click()
    page.get_by_text("A message was sent to james@morgan-appeals.example").wait_for()  # type: ignore[attr-defined]
    page.get_by_label("Token from the message").fill(_latest_mail(tmp_path, "Email change token:"))  # type: ignore[attr-defined]
    page.get_by_role("button", name="Confirm the new email").click()  # type: ignore[attr-defined]
    page.get_by_text("Your email is now james@morgan-appeals.example").wait_for()  # type: ignore[attr-defined]
    shot(page, "spa-settings")

    # A second sign-in elsewhere, with a backup code.
    import httpx

    challenge = _api_sign_in(base, "jmorgan2019", "Granite-Falcon-Morning-88", challenge=True)
    verified = httpx.post(
        f"{base}/graphql",
        json={
            "query": "mutation($i: VerifySignInInput!) { verifySignIn(input: $i) { token } }",
            "variables": {"i": {"challenge": challenge, "code": codes[0], "method": "BACKUP_CODE"}},
        },
        headers={"user-agent": "Another Browser/2.0"},
        timeout=30,
    ).json()
    other = verified["data"]["verifySignIn"]["token"]
    page.get_by_role("link", name="My sessions").click()  # type: ignore[attr-defined]
    rows = page.locator("main tbody tr")  # type: ignore[attr-defined]
    page.get_by_text("Another Browser/2.0").wait_for()  # type: ignore[attr-defined]
    assert rows.count() == 2 and "(this one)" in page.locator("main tbody").inner_text()  # type: ignore[attr-defined]
    shot(page, "spa-sessions")
    page.get_by_text("End", exact=True).click()  # type: ignore[attr-defined]
    page.get_by_text("That session was ended").wait_for()  # type: ignore[attr-defined]
    assert rows.count() == 1
    me = httpx.post(
        f"{base}/graphql", json={"query": "{ me { username } }"}, headers={"authorization": f"Bearer {other}"}
    )
    assert me.status_code == 401 or me.json()["data"]["me"] is None
    assert outside == []


def test_spa_a_clerk_who_used_the_skips_must_enrol(
    browser_page: tuple[object, str, list[str]], tmp_path: Path
) -> None:
    page, base, outside = browser_page
    for _ in range(3):
        _api_sign_in(base, "madclerk01", "Court-Docket-Review-2026!")
    page.goto(f"{base}/#/signin")  # type: ignore[attr-defined]
    page.get_by_label("Username").fill("madclerk01")  # type: ignore[attr-defined]
    page.get_by_label("Password").fill("Court-Docket-Review-2026!")  # type: ignore[attr-defined]
    page.get_by_role("button", name="Sign in").click()  # type: ignore[attr-defined]
    page.get_by_role("heading", name="Security").wait_for()  # type: ignore[attr-defined]
    page.get_by_text("User update required.").wait_for()  # type: ignore[attr-defined]
    assert page.locator("nav a").all_inner_texts() == ["Add an authenticator app"]  # type: ignore[attr-defined]
    # Anything else leads back here.
    page.goto(f"{base}/#/clerk/mad")  # type: ignore[attr-defined]
    page.get_by_text("User update required.").wait_for()  # type: ignore[attr-defined]
    shot(page, "spa-mfa-required")
    assert outside == []


def test_spa_clerk_sees_the_move_to_nextgen_reminds_and_downloads_the_unlinked(
    browser_page: tuple[object, str, list[str]], fresh_database_url: str
) -> None:
    import datetime as dt

    from tests import databases

    page, base, outside = browser_page
    sign_in(page, base, "madclerk01", "Court-Docket-Review-2026!")
    clerk = _api_sign_in(base, "madclerk01", "Court-Docket-Review-2026!")
    progress_query = (
        "{ court { linkingProgress { legacyAccounts linked unlinked unlinkedWithoutEmail"
        " byRole { role legacyAccounts linked } } } }"
    )
    progress = api_call(base, progress_query, clerk, "mad")["court"]["linkingProgress"]  # type: ignore[index]
    assert progress["linked"] > 50 and progress["unlinked"] > 20  # the demo's move to NextGen
    page.get_by_role("link", name="Move to NextGen: mad").click()  # type: ignore[attr-defined]
    page.get_by_role("heading", name="Linked accounts over time").wait_for()  # type: ignore[attr-defined]
    for key, name in [("legacy", "legacyAccounts"), ("linked", "linked"), ("unlinked", "unlinked")]:
        text = page.locator(f"#total-{key} strong").inner_text()  # type: ignore[attr-defined]
        assert text == str(progress[name]), (key, text)
    no_email = page.locator("#total-no-email strong").inner_text()  # type: ignore[attr-defined]
    assert no_email == str(progress["unlinkedWithoutEmail"])
    table_text = page.locator("main table").first.inner_text()  # type: ignore[attr-defined]
    for role in progress["byRole"]:
        if role["role"] == "ATTORNEY":
            assert f"Attorney\t{role['legacyAccounts']}\t{role['linked']}\t" in table_text
    # The chart: uPlot drew on a canvas, from the weeks since mad's NextGen date (2021-09-20),
    # and its running total of links ends at today's total.
    chart = page.locator("#linking-chart")  # type: ignore[attr-defined]
    chart.locator("canvas").wait_for()
    weeks = int(chart.get_attribute("data-weeks"))
    assert weeks > 200
    assert chart.get_attribute("data-linked") == str(progress["linked"])
    # One running total per role (today's total of the role less its links of the later weeks),
    # and the one in all: the series drawn are the API's.
    weekly = api_call(
        base,
        f"{{ court {{ linkingProgress {{ linked byRole {{ role linked }} weekly(weeks: {weeks}) {{ linked"
        " byRole { role linked } } } } }",
        clerk,
        "mad",
    )["court"]["linkingProgress"]  # type: ignore[index]

    def running(now: int, links: list[int]) -> str:
        n = now - sum(links)
        return ",".join(str(n := n + k) for k in links)

    roles = [r["role"] for r in weekly["byRole"]]
    assert chart.get_attribute("data-roles") == " ".join(roles) == "ATTORNEY PRO_SE MEDIA"
    assert chart.get_attribute("data-series-all") == running(
        weekly["linked"], [w["linked"] for w in weekly["weekly"]]
    )
    legend = chart.locator(".u-legend").inner_text()
    for i, role in enumerate(weekly["byRole"]):
        drawn = chart.get_attribute(f"data-series-{role['role'].lower()}")
        assert drawn == running(role["linked"], [w["byRole"][i]["linked"] for w in weekly["weekly"]]), role
        assert drawn.endswith(f",{role['linked']}")
        assert ROLE_NAMES[role["role"]] in legend
        assert f"{ROLE_NAMES[role['role']]} {role['linked']}" in chart.get_attribute("aria-label")
    assert (
        "only in the table" not in chart.inner_text() and "Links count every role" not in chart.inner_text()
    )
    assert page.locator("#activity-chart canvas").count() == 1  # type: ignore[attr-defined]
    painted = page.evaluate(  # type: ignore[attr-defined]
        """() => { const c = document.querySelector('#linking-chart canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }"""
    )
    assert painted > 2000, painted  # lines and fill drawn, not an empty canvas
    # Reminders: a dry run counts and sends nothing; confirmed, the job runs to its end.
    page.get_by_label("Media", exact=True).uncheck()  # type: ignore[attr-defined]
    page.get_by_role("button", name="Count who would be mailed").click()  # type: ignore[attr-defined]
    page.locator("#dry-run").wait_for()  # type: ignore[attr-defined]
    dry = page.locator("#dry-run").inner_text()  # type: ignore[attr-defined]
    count = int(dry.split(" filer")[0])
    assert count > 0 and "would be mailed" in dry and "Nothing was sent" in dry
    expected = {
        "query": "mutation { sendLinkingReminders(input: {roles: [ATTORNEY, PRO_SE], dryRun: true}) "
        "{ recipients errors { code } } }"
    }
    again = api_call(base, expected["query"], clerk, "mad")["sendLinkingReminders"]  # type: ignore[index]
    assert again == {"recipients": count, "errors": []}
    assert "No reminder has been sent" in page.locator("#reminder-job").inner_text()  # type: ignore[attr-defined]
    shot(page, "spa-move-to-nextgen")
    # A job of this court is running elsewhere (held by another runner far ahead, so no worker
    # here takes it): sending is refused with REMINDER_JOB_RUNNING, the page says so, and
    # nothing is sent.
    started = dt.datetime.now(dt.UTC).isoformat(" ")
    ((held,),) = databases.query(
        fresh_database_url,
        "INSERT INTO reminder_jobs (court_id, state, roles, total, sent, started_at, runner, lease_until)"
        f" VALUES ('mad', 'running', 'attorney', 3, 0, '{started}', 'another-runner',"
        " '2099-01-01 00:00:00+00:00') RETURNING id",
    )
    page.get_by_role("button", name=f"Send {count} reminders").click()  # type: ignore[attr-defined]
    alert = page.locator("#job-running")  # type: ignore[attr-defined]
    alert.wait_for()
    assert alert.get_attribute("role") == "alert" and "REMINDER_JOB_RUNNING" in alert.inner_text()
    page.get_by_text("0 of 3 sent").wait_for()  # type: ignore[attr-defined]  # the running job, followed
    assert databases.query(fresh_database_url, "SELECT COUNT(*) FROM linking_reminders") == [(0,)]
    assert databases.query(fresh_database_url, "SELECT id FROM reminder_jobs") == [(held,)]
    # It ends (failed, elsewhere); now a clerk may send.
    databases.query(
        fresh_database_url,
        f"UPDATE reminder_jobs SET state = 'failed', finished_at = '{started}', lease_until = NULL"
        f" WHERE id = {held} RETURNING 1",
    )
    page.get_by_text("The reminder job ended: 0 of 3 reminders sent.").wait_for()  # type: ignore[attr-defined]
    page.get_by_role("button", name="Count who would be mailed").click()  # type: ignore[attr-defined]
    page.get_by_text(f"{count} filers would be mailed").wait_for()  # type: ignore[attr-defined]
    page.get_by_role("button", name=f"Send {count} reminders").click()  # type: ignore[attr-defined]
    page.get_by_text(f"{count} of {count} reminders sent").wait_for(timeout=60000)  # type: ignore[attr-defined]
    assert page.locator("#job-sent").inner_text() == f"{count} of {count} sent"  # type: ignore[attr-defined]
    assert "done" in page.locator("#reminder-job").inner_text()  # type: ignore[attr-defined]
    assert databases.query(fresh_database_url, "SELECT COUNT(*) FROM linking_reminders") == [(count,)]
    # A second job while none runs is fine; the dry run now finds nobody (reminded today).
    page.get_by_role("button", name="Count who would be mailed").click()  # type: ignore[attr-defined]
    page.get_by_text("0 filers would be mailed").wait_for()  # type: ignore[attr-defined]
    # The download link answers the CSV with the page's own cookie.
    link = page.locator("#unlinked-csv")  # type: ignore[attr-defined]
    answer = page.request.get(base + link.get_attribute("href"))  # type: ignore[attr-defined]
    assert answer.status == 200 and answer.headers["content-type"].startswith("text/csv")
    lines = answer.text().splitlines()
    assert lines[0] == "login,first_name,last_name,email,role,cases,reminded_at"
    assert len(lines) - 1 == progress["unlinked"]
    assert outside == []


def test_spa_clerk_makes_a_webhook_endpoint_tests_it_and_disables_it(
    tmp_path: Path, fresh_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The clerk's Webhooks screen: a refused form names the field; the endpoint made shows its
    secret once; "Send a test" reaches a receiver with a signature that verifies; the log shows
    it delivered; "Disable" disables it."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from playwright.sync_api import sync_playwright
    from standardwebhooks.webhooks import Webhook

    received: list[tuple[dict[str, str], bytes]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{receiver.server_address[1]}/hooks"
    monkeypatch.setenv("NEXTGEN_GQL_WEBHOOK_ALLOW_NETWORKS", "127.0.0.1/32")
    monkeypatch.setenv("NEXTGEN_GQL_WEBHOOK_INTERVAL_S", "1")
    try:
        with serving(tmp_path, "--demo", database_url=fresh_database_url) as base, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            sign_in(page, base, "madclerk01", "Court-Docket-Review-2026!")
            page.get_by_role("link", name="Webhooks: mad").click()
            form = page.locator("#new-webhook")
            form.get_by_label("URL (https://)").fill("https://10.0.0.1/hooks")
            form.get_by_label("Description (which system receives it)").fill("CM/ECF intake")
            form.get_by_label("registration decided (REGISTRATION_DECIDED)").check()
            form.get_by_role("button", name="Make the endpoint").click()
            page.get_by_text("(WEBHOOK_URL_NOT_ALLOWED)").wait_for()  # a private address: nothing made
            form.get_by_label("URL (https://)").fill(url)
            form.get_by_role("button", name="Make the endpoint").click()
            secret_box = page.locator("#new-webhook-secret")
            secret_box.wait_for()
            secret = secret_box.locator("code").inner_text()
            assert secret.startswith("whsec_")
            shot(page, "spa-clerk-webhooks")
            page.get_by_role("button", name="Send a test").click()
            page.get_by_text("A test delivery (ping) is on its way.").wait_for()
            for _ in range(100):
                if received:
                    break
                page.wait_for_timeout(100)
            headers, body = received[0]
            assert Webhook(secret).verify(body, headers)["type"] == "ping"
            assert secret not in page.content()  # the view was drawn again: shown once
            page.get_by_role("link", name="Keys: mad").click()
            page.get_by_role("link", name="Webhooks: mad").click()
            page.get_by_role("heading", name="Recent deliveries", exact=False).wait_for()
            assert "delivered" in page.locator("section.webhook table").inner_text()
            page.get_by_role("button", name="Disable").click()
            page.get_by_text("Disabled: it receives nothing", exact=False).first.wait_for()
            page.get_by_role("button", name="Enable").wait_for()
            browser.close()
    finally:
        receiver.shutdown()
        receiver.server_close()


def test_spa_connected_apps_lists_what_each_app_may_do_and_disconnects_one(
    browser_page: tuple[object, str, list[str]], fresh_database_url: str
) -> None:
    from tests import databases

    page, base, outside = browser_page
    for client_id, name, court in (
        ("ngo_docketpro", "Docket Pro", "NULL"),
        ("ngo_ecfmad", "CM/ECF mad", "'mad'"),
    ):
        databases.query(
            fresh_database_url,
            "INSERT INTO oidc_clients (client_id, name, court_id, auth_method, redirect_uris,"
            " post_logout_redirect_uris, created_at) VALUES"
            f" ('{client_id}', '{name}', {court}, 'client_secret_basic', 'https://a.example/cb', '',"
            " '2026-12-01T10:00:00+00:00') RETURNING id",
        )
        databases.query(
            fresh_database_url,
            "INSERT INTO oidc_grants (account_id, client_id, scopes, granted_at)"
            " SELECT a.id, c.id, 'openid profile', '2026-12-01T10:00:00+00:00'"
            f" FROM pacer_accounts a, oidc_clients c WHERE a.username_key = 'jmorgan2019' AND c.client_id = '{client_id}'"
            " RETURNING id",
        )
    sign_in(page, base, "jmorgan2019", "Granite-Falcon-Morning-88")
    page.get_by_role("link", name="Connected apps").click()  # type: ignore[attr-defined]
    table = page.locator("main table")  # type: ignore[attr-defined]
    table.wait_for()
    text = table.inner_text()
    assert "Docket Pro (an app for every court)" in text
    assert "CM/ECF mad (" in text and "own system" in text
    assert "see your name and username" in text
    shot(page, "spa-connected-apps")
    page.get_by_role("button", name="Disconnect Docket Pro").click()  # type: ignore[attr-defined]
    page.get_by_text("Docket Pro is disconnected").wait_for()  # type: ignore[attr-defined]
    assert "Docket Pro" not in page.locator("main table").inner_text()  # type: ignore[attr-defined]
    revoked = databases.query(
        fresh_database_url,
        "SELECT c.client_id FROM oidc_grants g JOIN oidc_clients c ON c.id = g.client_id WHERE g.revoked_at IS NOT NULL",
    )
    assert revoked == [("ngo_docketpro",)]
    assert outside == []


OIDC_CALLBACK = "https://ecf.mad.example/oidc/callback"
OIDC_ISSUER = "http://127.0.0.1:8000"


@contextlib.contextmanager
def oidc_browser(tmp_path: Path, database_url: str) -> Iterator[tuple[object, str, list[str], str]]:
    """The demo served as an OpenID provider, a court's public client registered, and a browser
    sent to ``/oauth/authorize`` by it: (page, base URL, the callbacks that landed, the PKCE
    verifier). Every request that is not to the service or the callback is refused."""
    import base64
    import hashlib
    import secrets
    from urllib.parse import urlencode

    from playwright.sync_api import sync_playwright

    from tests import databases

    env = {"NEXTGEN_GQL_PUBLIC_URL": OIDC_ISSUER}
    with (
        serving(tmp_path, "--demo", database_url=database_url, env=env) as base,
        sync_playwright() as pw,
    ):
        databases.query(
            database_url,
            "INSERT INTO oidc_clients (client_id, name, court_id, auth_method, redirect_uris,"
            " post_logout_redirect_uris, created_at) VALUES ('ngo_ecfmadpublic', 'CM/ECF mad', 'mad', 'none',"
            f" '{OIDC_CALLBACK}', '', '2026-12-01T10:00:00+00:00') RETURNING id",
        )
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        params = {
            "response_type": "code",
            "client_id": "ngo_ecfmadpublic",
            "redirect_uri": OIDC_CALLBACK,
            "scope": "openid profile",
            "state": "browser-state",
            "nonce": "browser-nonce",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        landed: list[str] = []

        def route(route: object) -> None:
            url = route.request.url  # type: ignore[attr-defined]
            if url.startswith(base):
                route.continue_()  # type: ignore[attr-defined]
            elif url.startswith(OIDC_CALLBACK):
                landed.append(url)
                route.fulfill(status=200, content_type="text/html", body="<h1>Back at CM/ECF</h1>")  # type: ignore[attr-defined]
            else:
                route.abort()  # type: ignore[attr-defined]

        page.route("**/*", route)  # type: ignore[attr-defined]
        try:
            page.goto(f"{base}/oauth/authorize?{urlencode(params)}")  # type: ignore[attr-defined]
            page.get_by_role("heading", name="Sign in: PACER").wait_for()  # type: ignore[attr-defined]
            yield page, base, landed, verifier
        finally:
            browser.close()


def redeem(base: str, landed: list[str], verifier: str) -> dict[str, object]:
    """The code the browser brought back, redeemed as the court's system would."""
    from urllib.parse import parse_qs, urlsplit

    import httpx

    (url,) = landed
    got = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert got["state"] == "browser-state" and got["iss"] == OIDC_ISSUER
    answer = httpx.post(
        f"{base}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": got["code"],
            "redirect_uri": OIDC_CALLBACK,
            "client_id": "ngo_ecfmadpublic",
            "code_verifier": verifier,
        },
    )
    assert answer.status_code == 200, answer.text
    tokens: dict[str, object] = answer.json()
    return tokens


def test_an_app_signs_a_person_in_through_the_services_own_page(
    tmp_path: Path, fresh_database_url: str
) -> None:
    """The OpenID Connect sign-in page in a browser: a court's system sends the person to
    /oauth/authorize; the page asks the password (and the redaction acknowledgement); the
    browser comes back to the system's redirect URI with a code the system redeems."""
    with oidc_browser(tmp_path, fresh_database_url) as (page, base, landed, verifier):
        assert "CM/ECF mad" in page.content()  # type: ignore[attr-defined]
        page.get_by_label("Username").fill("jmorgan2019")  # type: ignore[attr-defined]
        page.get_by_label("Password").fill("not-the-password-9")  # type: ignore[attr-defined]
        page.get_by_role("button", name="Sign in").click()  # type: ignore[attr-defined]
        page.get_by_role("alert").wait_for()  # type: ignore[attr-defined]
        assert landed == []
        page.get_by_label("Password").fill("Granite-Falcon-Morning-88")  # type: ignore[attr-defined]
        page.get_by_label("I will redact", exact=False).check()  # type: ignore[attr-defined]
        page.get_by_role("button", name="Sign in").click()  # type: ignore[attr-defined]
        page.get_by_role("heading", name="Back at CM/ECF").wait_for()  # type: ignore[attr-defined]
        shot(page, "oidc-back-at-the-app")
        tokens = redeem(base, landed, verifier)
    assert tokens["id_token"] and tokens["refresh_token"]


def test_a_clerk_who_used_the_skips_adds_an_app_inside_the_openid_sign_in(
    tmp_path: Path, fresh_database_url: str
) -> None:
    """A clerk who must have an authenticator app and used the three sign-ins without one adds
    it on the provider's own pages (the QR code drawn, the mailed security code, a first code,
    the backup codes), then lands back at the court's system."""
    import pyotp

    with oidc_browser(tmp_path, fresh_database_url) as (page, base, landed, verifier):
        for _ in range(3):
            _api_sign_in(base, "madclerk01", "Court-Docket-Review-2026!")
        page.get_by_label("Username").fill("madclerk01")  # type: ignore[attr-defined]
        page.get_by_label("Password").fill("Court-Docket-Review-2026!")  # type: ignore[attr-defined]
        page.get_by_role("button", name="Sign in").click()  # type: ignore[attr-defined]
        page.get_by_role("heading", name="Add an authenticator app").wait_for()  # type: ignore[attr-defined]
        page.get_by_label("Name of the app", exact=False).fill("Chambers phone")  # type: ignore[attr-defined]
        page.get_by_role("button", name="Mail me a security code").click()  # type: ignore[attr-defined]
        page.locator("svg").wait_for()  # type: ignore[attr-defined]
        assert page.locator("svg").evaluate("s => s.getBoundingClientRect().width > 50")  # type: ignore[attr-defined]
        secret = page.locator("code").first.inner_text()  # type: ignore[attr-defined]
        shot(page, "oidc-enrol")
        page.get_by_label("Security code").fill(_latest_mail(tmp_path, "Security code:"))  # type: ignore[attr-defined]
        page.get_by_label("Code the app shows").fill(pyotp.TOTP(secret).now())  # type: ignore[attr-defined]
        page.get_by_role("button", name="Add the app").click()  # type: ignore[attr-defined]
        page.get_by_role("heading", name="Your backup codes").wait_for()  # type: ignore[attr-defined]
        assert page.locator("li code").count() == 10  # type: ignore[attr-defined]
        assert landed == []
        page.get_by_role("button", name="Continue to CM/ECF mad").click()  # type: ignore[attr-defined]
        page.get_by_role("heading", name="Back at CM/ECF").wait_for()  # type: ignore[attr-defined]
        tokens = redeem(base, landed, verifier)
    assert tokens["id_token"]
