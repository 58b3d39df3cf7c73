"""Fixtures for the ADL unit tests: a ClearinghouseAdl (no insurance vault unless asked, so the
whole deficit goes to the winners) with one market at 50,000 (imr 10 %, mmr 5 %).

`ladder(...)`: the trader buys from each short in turn, the oracle stepping up 2 % before each
fill, so every short has its own entry price, two or more ranking buckets apart (a bucket is
0.39-0.78 % wide); then the oracle drops to `crash` and the trader is bankrupt while the shorts
are in profit. Shorts are generated accounts; the liquidator (the keeper) has 1,000,000.
"""
from dataclasses import dataclass

import pytest
from support.adl_model import bucket_of, entry_bucket

WAD = 10**18
UNIT = 10**6
SCALE = 10**30
P0 = 50_000 * WAD


@pytest.fixture(scope="session", autouse=True)
def _adl_roles(owner, trader, maker, liquidator, staker, other, guardian, attacker):
    """Create the session-scoped accounts before any module snapshot."""


@pytest.fixture(scope="module")
def shorts(accounts, owner):
    generated = [accounts.generate_test_account() for _ in range(12)]
    for account in generated:
        owner.transfer(account, 10**18)
    return generated


@pytest.fixture(scope="module")
def adl_protocol(protocol_builder, liquidator):
    protocol = protocol_builder(loss_policy="adl", with_vault=False)
    protocol.fund(liquidator, 1_000_000)
    return protocol


def price(tokens: float) -> int:
    return int(round(tokens * 10**8)) * 10**10


def set_price(protocol, p: int, market: int = 0):
    protocol.feeds[market].set_answer(p // 10**10, sender=protocol.owner)


@dataclass
class Ladder:
    protocol: object
    trader: object
    shorts: list
    sizes: list
    entries: list
    crash: int

    @property
    def ch(self):
        return self.protocol.clearinghouse

    def ranked(self):
        """The shorts best-ranked first (highest entry first)."""
        return [s for _, s in sorted(zip(self.entries, self.shorts), key=lambda t: -t[0])]


def make_ladder(protocol, trader, shorts, sizes, crash, deposit=6_000, step=0.02, short_deposit=20_000, buyers=None):
    """Short i sells sizes[i] at 50,000 * (1 + step * i) to buyers[i] (default: the trader)."""
    protocol.fund(trader, deposit)
    entries = []
    for i, (short, size) in enumerate(zip(shorts, sizes)):
        p = price(50_000 * (1 + step * i))
        set_price(protocol, p)
        protocol.fund(short, short_deposit)
        buyer = trader if buyers is None else buyers[i]
        protocol.fill(buyer, short, -size, p)  # the short sells, the buyer buys
        entries.append(p)
    set_price(protocol, crash)
    return Ladder(protocol, trader, list(shorts[: len(sizes)]), list(sizes), entries, crash)


@pytest.fixture
def ladder(adl_protocol, trader, shorts):
    """Five shorts of 0.2 (entries 50,000 .. 54,000, 2 % apart) against the trader's 1.0 long;
    crash to 41,000: the trader's deficit is about 5,026, i.e. 5,026 per unit, below every
    short's profit per unit (9,000 or more), so winners are closed whole, best-ranked first."""
    return make_ladder(adl_protocol, trader, shorts, [WAD // 5] * 5, price(41_000))


def conservation_gap(protocol, accounts) -> int:
    ch = protocol.clearinghouse
    return protocol.token.balanceOf(ch) + ch.bad_debt() - ch.treasury() - sum(ch.equity(a) for a in accounts)


def rank_of(ch, account, market=0) -> int:
    return ch.adl_rank(account, market).bucket


def expected_bucket(size: int, cost: int) -> int:
    return entry_bucket(size, cost, SCALE)


__all__ = ["bucket_of"]
