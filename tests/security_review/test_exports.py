"""Security review, finding 4 (docs/security.md): the unlinked CSV export had no cost. Replayed
as the reviewer did, over HTTP against the app: a clerk with a 10-point budget asks for 15
exports; once the budget is spent they are refused (429 ``RATE_LIMITED``, nothing written) and
``rateLimit.used`` shows what they cost."""

from __future__ import annotations

from nextgen_gql.settings import Settings
from tests.conftest import CLERK_PASSWORD, CLERKS, running_api

PATH = "/courts/mad/exports/unlinked.csv"


async def test_fifteen_exports_on_a_ten_point_budget_are_refused_once_it_is_spent(settings: Settings) -> None:
    async with running_api(settings.with_(rate_limit_points=10)) as api:
        clerk = await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)
        auth = {"Authorization": f"Bearer {clerk}"}
        statuses = []
        for _ in range(15):
            answer = await api.client.get(PATH, headers=auth)
            statuses.append(answer.status_code)
            if answer.status_code == 200:
                assert answer.text.startswith("login,")
            else:
                assert answer.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
                assert "login," not in answer.text and int(answer.headers["retry-after"]) >= 1
        served = statuses.count(200)
        assert 1 <= served <= 10 and statuses == [200] * served + [429] * (15 - served), statuses
        # The budget is spent: GraphQL refuses the caller too, and what it used shows.
        refused = await api.post("{ rateLimit { used limit } }", token=clerk)
        assert refused.status_code == 429
        assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    # Restarted with room to spare (on PostgreSQL the hour's 10 points spent above are remembered).
    async with running_api(settings.with_(rate_limit_points=100)) as api:
        clerk = await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)
        before = (await api.data("{ rateLimit { used } }", token=clerk))["rateLimit"]["used"]
        assert (await api.client.get(PATH, headers={"Authorization": f"Bearer {clerk}"})).status_code == 200
        after = (await api.data("{ rateLimit { used } }", token=clerk))["rateLimit"]["used"]
        assert after >= before + 2  # the export was charged (at least 1 point), then this query
