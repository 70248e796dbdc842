"""Text identity: an e-mail or an id is the exact string it was, on every backend.

Rules
- ``sign_up`` — users whose e-mails differ from earlier ones only by an accent, a
  look-alike letter or letter case (``ada@…``, ``adá@…``, ``straße@…``, ``strasse@…``,
  ``Ada@…``): the app lower-cases an e-mail (Python's ``str.lower``), and every distinct
  lower-cased string is an account of its own (201); only a repeat is taken (409).
- ``near_miss`` — a user fetches their own card by its id with the case changed, an
  accent added or a trailing space: 404, it is not that card's id.
- ``exact`` — the exact id still answers 200 with the card.

What it proves: a store compares text exactly. A case- and accent-insensitive collation
(MySQL/MariaDB's default ``utf8mb4_general_ci``) finds a card by a near-miss id (200
instead of 404) and merges e-mails the reference keeps apart (``adá@…`` after
``ada@…``: 409 instead of 201). The app's id-shape check turns ids with a space or an
accent into a 404 before any store sees them, so those near misses pin that check on
every backend, and a PAD SPACE collation (``utf8mb4_bin``, ``'a' = 'a '``) cannot show
through this API at all. The MySQL team's requirement that ids stay byte-identical
across stores is the ``exact`` rule.
"""

from __future__ import annotations

from urllib.parse import quote

from hypothesis import strategies as st
from hypothesis.stateful import initialize, rule

from scenarios import LEDGER_CONTROLS, LEDGER_REQUIRES, LockstepMachine, register

#: local parts that a case- or accent-insensitive comparison would take for one another
LOCAL_PARTS = ("ada", "Ada", "ADA", "adá", "ÁDA", "straße", "strasse", "STRASSE", "ådä")
DOMAINS = ("example.com", "Example.COM", "exämple.com")
_ACCENTED = {"a": "á", "c": "ç", "d": "ď", "e": "é", "r": "ř", "s": "š", "t": "ť", "u": "ú"}


def _accent(text: str) -> str:
    """``text`` with its first accentable letter accented (``crd_…`` → ``çrd_…``)."""
    for i, char in enumerate(text):
        if char.lower() in _ACCENTED:
            accented = _ACCENTED[char.lower()]
            return text[:i] + (accented.upper() if char.isupper() else accented) + text[i + 1 :]
    return text


NEAR_MISSES = {
    "lower": str.lower,
    "upper": str.upper,
    "swapcase": str.swapcase,
    "accent": _accent,
    "trailing space": lambda text: text + " ",
}


@register
class IdentityScenario(LockstepMachine):
    requires = LEDGER_REQUIRES
    controls = LEDGER_CONTROLS
    scenario = "identity"

    @initialize()
    def first_user(self) -> None:
        self.emails: set[str] = set()
        self.owners: list[tuple[str, str]] = []  # (token, card id)
        self.sign_up(LOCAL_PARTS[0], DOMAINS[0])

    @rule(local=st.sampled_from(LOCAL_PARTS), domain=st.sampled_from(DOMAINS))
    def sign_up(self, local: str, domain: str) -> None:
        email = f"{local}@{domain}"
        body = {"name": f"Identity {len(self.emails) + 1}", "email": email, "score": 750}
        resp = self.call("POST", "/v1/users", json=body)
        if email.lower() in self.emails:  # the app lower-cases e-mails (str.lower)
            assert resp.status == 409, resp.text
            return
        assert resp.status == 201, resp.text
        self.emails.add(email.lower())
        token = resp.json()["access_token"]
        req = self.call(
            "POST", "/v1/card-requests", token=token, headers={"Idempotency-Key": "id"}, json={}
        )
        assert req.status == 201 and req.json()["card_id"], req.text
        self.owners.append((token, req.json()["card_id"]))

    @rule(index=st.integers(0, 8), how=st.sampled_from(sorted(NEAR_MISSES)))
    def near_miss(self, index: int, how: str) -> None:
        token, card_id = self.owners[index % len(self.owners)]
        variant = NEAR_MISSES[how](card_id)
        if variant == card_id:
            return
        resp = self.call("GET", f"/v1/cards/{quote(variant, safe='')}", token=token)
        assert resp.status == 404, f"{how} of {card_id!r} answered {resp.status}"

    @rule(index=st.integers(0, 8))
    def exact(self, index: int) -> None:
        token, card_id = self.owners[index % len(self.owners)]
        resp = self.call("GET", f"/v1/cards/{quote(card_id, safe='')}", token=token)
        assert resp.status == 200 and resp.json()["id"] == card_id, resp.text
