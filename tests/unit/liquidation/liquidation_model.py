"""Reference arithmetic for the liquidation tests, written from DESIGN.md and the accounting
model in the clearing module's docstring, independently of the contract:

    equity(a) = collateral(a) + sum_m [ floor(size * price / SCALE) - cost - owed_m ]

A fill moves the same notional, floor(|delta| * price / SCALE), into both sides' cost; reducing
a position keeps floor(cost * |new| / |old|) as the cost of what is left and moves the rest to
collateral (realized PnL); closing moves all of it. Fees, penalties and charges round up.
"""
from dataclasses import dataclass, field

WAD = 10**18
UNIT = 10**6  # the test token has 6 decimals
SCALE = 10**30  # 10**(36 - decimals)
FEED_UNIT = 10**10  # an 8-decimal feed's answer * 10**10 = a 1e18 price

# market defaults (DESIGN.md / market_registry.add_market) for imr 10 %, mmr 5 %
IMR = WAD // 10
MMR = WAD // 20
TAKER_FEE = 5 * 10**14
MAKER_FEE = 2 * 10**14
PENALTY = MMR // 2
LIQUIDATOR_SHARE = WAD // 2
CLOSE_FACTOR = WAD // 2
DUST = 10 * UNIT
KEEPER_REWARD = 5 * UNIT
INSURANCE_FEE_SHARE = WAD // 2
# vault defaults
MAX_COVER_RATIO = WAD // 2
MIN_RESERVE = UNIT


def tokens(amount) -> int:
    """Whole tokens (int or decimal string) to base units."""
    whole, _, frac = str(amount).partition(".")
    frac = (frac + "000000")[:6]
    sign = -1 if whole.startswith("-") else 1
    return sign * (abs(int(whole)) * UNIT + int(frac))


def price(amount) -> int:
    """A price in whole tokens per base unit (int or decimal string) to the 1e18 scale,
    restricted to what an 8-decimal feed can express."""
    whole, _, frac = str(amount).partition(".")
    frac = (frac + "0" * 8)[:8]
    return (int(whole) * 10**8 + int(frac)) * FEED_UNIT


P0 = 50_000 * WAD  # the markets' opening price


def set_price(protocol, price_wad: int, market: int = 0):
    """Publish an exact 1e18 price on an 8-decimal feed."""
    assert price_wad % FEED_UNIT == 0
    protocol.feeds[market].set_answer(price_wad // FEED_UNIT, sender=protocol.owner)


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def mul_div_up(a: int, b: int, d: int) -> int:
    return ceil_div(a * b, d)


def notional(size: int, price_wad: int) -> int:
    """Notional of a fill or a takeover: rounded down."""
    return abs(size) * price_wad // SCALE


def notional_up(size: int, price_wad: int) -> int:
    """Notional for margin requirements: rounded up."""
    return ceil_div(abs(size) * price_wad, SCALE)


def value(size: int, price_wad: int) -> int:
    """Signed position value, rounded towards minus infinity."""
    return size * price_wad // SCALE


def fee(notional_: int, rate: int) -> int:
    return mul_div_up(notional_, rate, WAD)


def vault_cover(total_assets: int, request: int, ratio: int = MAX_COVER_RATIO, reserve: int = MIN_RESERVE) -> int:
    """What InsuranceVault.cover pays: at most `ratio` of its assets, never below `reserve`."""
    paid = min(request, total_assets * ratio // WAD)
    return min(paid, total_assets - reserve) if total_assets > reserve else 0


def waterfall(deficit: int, vault_assets: int | None, keeper_reward: int = KEEPER_REWARD, **vault_kw):
    """(insurance_paid, keeper reward, residual) of a bankruptcy: the vault is asked for
    deficit + keeper reward and serves the deficit first."""
    if vault_assets is None:
        return 0, 0, deficit
    paid = vault_cover(vault_assets, deficit + keeper_reward, **vault_kw)
    insurance = min(paid, deficit)
    return insurance, paid - insurance, deficit - insurance


@dataclass
class Book:
    """One margin account: collateral and, per market, [size, cost]."""

    collateral: int = 0
    positions: dict = field(default_factory=dict)

    def size(self, market: int = 0) -> int:
        return self.positions.get(market, [0, 0])[0]

    def fill(self, market: int, delta: int, notional_: int, price_wad: int):
        """Change the position by `delta` at a fill of `notional_` (clearing._apply_fill)."""
        old, cost = self.positions.get(market, [0, 0])
        new = old + delta
        total = cost + (notional_ if delta > 0 else -notional_)
        flipped = old != 0 and new != 0 and (old > 0) != (new > 0)
        reducing = (old > 0 and 0 <= new < old) or (old < 0 and old < new <= 0)
        if new == 0:
            remaining = 0
        elif flipped:
            remaining = new * price_wad // SCALE
        elif reducing:
            remaining = cost * abs(new) // abs(old)
        else:
            remaining = total
        self.collateral -= total - remaining
        if new == 0:
            self.positions.pop(market, None)
        else:
            self.positions[market] = [new, remaining]

    def trade(self, market: int, delta: int, price_wad: int, fee_rate: int) -> int:
        n = notional(delta, price_wad)
        self.fill(market, delta, n, price_wad)
        paid = fee(n, fee_rate)
        self.collateral -= paid
        return paid

    def equity(self, prices: dict) -> int:
        return self.collateral + sum(value(s, prices[m]) - c for m, (s, c) in self.positions.items())

    def margin(self, prices: dict, ratios: dict) -> int:
        return sum(mul_div_up(notional_up(s, prices[m]), ratios[m], WAD) for m, (s, _) in self.positions.items())

    def loss(self, market: int, price_wad: int) -> int:
        """liquidate_bankrupt's per-market loss: cost basis above the value at the oracle."""
        s, c = self.positions.get(market, [0, 0])
        return max(c - value(s, price_wad), 0)


def max_liquidatable(size_abs: int, price_wad: int, close_factor: int = CLOSE_FACTOR, dust: int = DUST) -> int:
    """DESIGN.md / liquidation: a close-factor share of the position (rounded up), or the whole
    position when the largest partial take would leave a notional below the dust threshold."""
    limit = mul_div_up(size_abs, close_factor, WAD)
    if limit >= size_abs or notional(size_abs - limit, price_wad) < dust:
        return size_abs
    return limit


def conservation_gap(protocol, accounts) -> int:
    """Invariant 1: balance + bad_debt - treasury - sum(equity); never negative, only dust."""
    ch = protocol.clearinghouse
    return protocol.token.balanceOf(ch) + ch.bad_debt() - ch.treasury() - sum(ch.equity(a) for a in accounts)
