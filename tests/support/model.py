"""A plain-Python model of the Clearinghouse accounting and of the InsuranceVault, for the
stateful property tests (tests/fuzz).

It follows the accounting model stated in contracts/modules/clearing.vy:

    equity(a) = collateral(a) + sum_m [ floor(size * price / SCALE) - cost - owed_m ]

with integer arithmetic and the contract's rounding everywhere (fees and margin requirements
rounded up, position values and realized cost rounded down, funding payments towards plus
infinity, haircut charges up, the funding index and the size-weighted premium step truncated
towards zero like Vyper's signed `//`), so each account's equity, collateral and margin can be compared
with the contract EXACTLY: there is no tolerance anywhere in this model.

Every state-changing method is a transaction: it either completes or raises `Revert` with the
contract's revert string, and `ClearinghouseModel.transact` rolls the model back on a revert,
like the EVM does. Methods take `now`, the block timestamp the transaction runs at.

What the model also records for the properties (not contract state): the haircut each account
has settled (`haircut_settled`), how many settlements moved a funding or haircut snapshot
(`settlements`: each rounds one payment, so each may leave under one base unit of dust in the
protocol), and the events of the last transaction (`events`).

This is the one reference model of the accounting: the unit tests (tests/unit/clearinghouse,
tests/unit/liquidation, tests/unit/haircut) use its arithmetic (`notional`, `margin`, `fee`,
`realize`, ...), its ledgers (`Ledger`, `AccountBook`) and the market defaults below; the fuzz
tests use `ClearinghouseModel` and `VaultModel`, built on the same arithmetic. WAD comes from
the compiled contracts (contracts/modules/constants.vy), not retyped.
"""
from __future__ import annotations

import copy

from . import profit_clawback_model as clawback_model
from dataclasses import dataclass, field

from .adl_model import AdlWaterfall, Revert, split_shares

from simulation.protocol_constants import bounds

from . import funding

WAD = bounds()["WAD"]
MAX_INDEX = 2**127 - 1
VIRTUAL_SHARES = 10**6
VIRTUAL_ASSETS = 1


def require(condition: bool, reason: str):
    if not condition:
        raise Revert(reason)


# ------------------------------------------------------------------------- integer helpers
def mul_div_down(a: int, b: int, d: int) -> int:
    return a * b // d


def mul_div_up(a: int, b: int, d: int) -> int:
    return -((-a * b) // d)


def div_floor(a: int, d: int) -> int:
    return a // d


def div_ceil(a: int, d: int) -> int:
    return -((-a) // d)


def div_trunc(a: int, d: int) -> int:
    """Vyper's signed `//`: rounds towards zero."""
    q = abs(a) // abs(d)
    return q if (a >= 0) == (d > 0) else -q


ceil_div = div_ceil
trunc_div = div_trunc


# ------------------------------------------------------------------------- market defaults
# market_registry.add_market's defaults for a market listed at imr 10 %, mmr 5 %, and the
# protocol-wide and vault defaults the unit tests' deployments keep
FEED_DECIMALS = 8
FEED_UNIT = 10 ** (18 - FEED_DECIMALS)  # an 8-decimal feed's answer * FEED_UNIT = a 1e18 price
UNIT = 10**6  # the test token's base units per token (6 decimals)
SCALE = 10**30  # 10**(36 - decimals) for 6 decimals
IMR = WAD // 10
MMR = WAD // 20
DEFAULT_TAKER_FEE = TAKER_FEE = 5 * 10**14
DEFAULT_MAKER_FEE = MAKER_FEE = 2 * 10**14
DEFAULT_PRICE_BAND = 5 * 10**16
DEFAULT_MAX_PRICE_AGE = 3600
DEFAULT_LIQUIDATOR_SHARE = LIQUIDATOR_SHARE = WAD // 2
DEFAULT_CLOSE_FACTOR = CLOSE_FACTOR = WAD // 2
DEFAULT_FUNDING_PERIOD = 8 * 3600
DEFAULT_MAX_FUNDING_PREMIUM = 5 * 10**15
DEFAULT_MAX_OPEN_INTEREST = 10**6 * WAD
DEFAULT_INSURANCE_FEE_SHARE = INSURANCE_FEE_SHARE = WAD // 2
PENALTY = MMR // 2
DUST = 10 * UNIT
KEEPER_REWARD = 5 * UNIT
MAX_COVER_RATIO = WAD // 2
MIN_RESERVE = UNIT
PRICE = P0 = 50_000 * WAD  # the unit tests' opening oracle price
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


# ------------------------------------------------------------------------- units
def tokens(amount) -> int:
    """Whole tokens (int or decimal string) to base units (6 decimals)."""
    whole, _, frac = str(amount).partition(".")
    frac = (frac + "000000")[:6]
    sign = -1 if whole.startswith("-") else 1
    return sign * (abs(int(whole)) * UNIT + int(frac))


def price(amount) -> int:
    """A price in whole tokens per base unit (int or decimal string) to the 1e18 scale,
    restricted to what an 8-decimal feed can express."""
    whole, _, frac = str(amount).partition(".")
    frac = (frac + "0" * FEED_DECIMALS)[:FEED_DECIMALS]
    return (int(whole) * 10**FEED_DECIMALS + int(frac)) * FEED_UNIT


# ------------------------------------------------------------------------- the contract's arithmetic
def scale(decimals: int = 6) -> int:
    return 10 ** (36 - decimals)


def notional(size: int, price: int, decimals: int = 6) -> int:
    """Notional of a fill or a takeover, rounded down."""
    return abs(size) * price // scale(decimals)


def notional_up(size: int, price: int, decimals: int = 6) -> int:
    """Notional for margin requirements, rounded up."""
    return div_ceil(abs(size) * price, scale(decimals))


def value(size: int, price: int, decimals: int = 6) -> int:
    """Signed position value, rounded towards minus infinity."""
    return (size * price) // scale(decimals)


def fee(amount: int, rate: int) -> int:
    return div_ceil(amount * rate, WAD)


def margin(size: int, price: int, ratio: int, decimals: int = 6) -> int:
    """A position's margin requirement as clearing.vy `_health` charges it: the notional rounded
    up, then its ratio rounded up again (two roundings)."""
    return div_ceil(notional_up(size, price, decimals) * ratio, WAD)


def funding_owed(size: int, index_delta: int, decimals: int = 6) -> int:
    return div_ceil(size * index_delta, scale(decimals))


def index_step(premium: int, price: int, elapsed: int, period: int = DEFAULT_FUNDING_PERIOD) -> int:
    return div_trunc(premium * price * elapsed, WAD * period)


def fill_premium(fill_price: int, oracle: int, cap: int = DEFAULT_MAX_FUNDING_PREMIUM) -> int:
    deviation = abs(fill_price - oracle)
    premium = deviation * WAD // oracle
    if fill_price < oracle:
        premium = -premium
    return max(-cap, min(cap, premium))


def blend(old_premium: int, fill_premium_: int, fill_size: int, open_interest_before: int,
          cap: int = DEFAULT_MAX_FUNDING_PREMIUM) -> int:
    """The premium after a fill: the old premium clamped to the current cap moves towards the
    fill's (capped) premium by the fill's weight against the open interest,
    fill / (open interest + fill), the step truncated towards zero."""
    old = max(-cap, min(cap, old_premium))
    return old + div_trunc((fill_premium_ - old) * fill_size, open_interest_before + fill_size)


def realize(old: int, cost: int, delta: int, notional_: int, price: int, scale_: int) -> tuple[int, int, int]:
    """The fill-and-realise rule (clearing._apply_fill), written once: a position of `old` with
    cost basis `cost` changes by `delta` at a fill of `notional_`. Returns (new size, remaining
    cost, realized), where `realized` leaves the cost and enters collateral with the opposite
    sign, so equity does not move:
      - increase / open: the cost takes the signed notional, nothing realized;
      - reduce: the remaining cost is the pro-rata share floor(cost * |new| / |old|);
      - flip: the remaining cost is the new side at the fill price, floor(new * price / SCALE);
      - close: the remaining cost is 0.
    Rounding the remaining cost down realizes less into withdrawable collateral."""
    new = old + delta
    total = cost + (notional_ if delta >= 0 else -notional_)
    flipped = old != 0 and new != 0 and (old > 0) != (new > 0)
    reducing = (old > 0 and 0 <= new < old) or (old < 0 and old < new <= 0)
    if new == 0:
        remaining = 0
    elif flipped:
        remaining = div_floor(new * price, scale_)
    elif reducing:
        remaining = div_floor(cost * abs(new), abs(old))
    else:
        remaining = total
    return new, remaining, total - remaining


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


def max_liquidatable(size_abs: int, price_wad: int, close_factor: int = CLOSE_FACTOR, dust: int = DUST) -> int:
    """A close-factor share of the position (rounded up), or the whole position when the largest
    partial take would leave a notional below the dust threshold."""
    limit = mul_div_up(size_abs, close_factor, WAD)
    if limit >= size_abs or notional(size_abs - limit, price_wad) < dust:
        return size_abs
    return limit


def conservation_gap(protocol, accounts) -> int:
    """Invariant 1 on a deployed protocol: balance + bad_debt - treasury - sum(equity); never
    negative, only dust."""
    ch = protocol.clearinghouse
    return protocol.token.balanceOf(ch) + ch.bad_debt() - ch.treasury() - sum(ch.equity(a) for a in accounts)


# ------------------------------------------------------------------------- ledgers for the unit tests
class Ledger:
    """Expected accounts of a sequence of fills (clearing.vy's accounting model): per account a
    settled `collateral`, a signed `size` and a signed `cost`; fees charged per fill."""

    def __init__(self, decimals: int = 6, taker_fee: int = DEFAULT_TAKER_FEE, maker_fee: int = DEFAULT_MAKER_FEE):
        self.decimals = decimals
        self.taker_fee = taker_fee
        self.maker_fee = maker_fee
        self.collateral = {}
        self.size = {}
        self.cost = {}
        self.fees = 0

    def deposit(self, account, amount: int):
        key = str(account)
        self.collateral[key] = self.collateral.get(key, 0) + amount
        self.size.setdefault(key, 0)
        self.cost.setdefault(key, 0)

    def fill(self, maker, taker, maker_delta: int, price: int):
        """Returns (maker_fee, taker_fee)."""
        n = notional(maker_delta, price, self.decimals)
        self._apply(str(maker), maker_delta, n, price)
        self._apply(str(taker), -maker_delta, n, price)
        maker_fee, taker_fee = fee(n, self.maker_fee), fee(n, self.taker_fee)
        self.collateral[str(maker)] -= maker_fee
        self.collateral[str(taker)] -= taker_fee
        self.fees += maker_fee + taker_fee
        return maker_fee, taker_fee

    def _apply(self, key, delta, n, price):
        new, remaining, realized = realize(self.size.get(key, 0), self.cost.get(key, 0), delta, n, price,
                                           scale(self.decimals))
        self.collateral[key] = self.collateral.get(key, 0) - realized
        self.size[key] = new
        self.cost[key] = remaining

    def equity(self, account, mark: int) -> int:
        key = str(account)
        return self.collateral[key] + value(self.size[key], mark, self.decimals) - self.cost[key]


@dataclass
class AccountBook:
    """One margin account: collateral and, per market, [size, cost] (6-decimal token)."""

    collateral: int = 0
    positions: dict = field(default_factory=dict)

    def size(self, market: int = 0) -> int:
        return self.positions.get(market, [0, 0])[0]

    def fill(self, market: int, delta: int, notional_: int, price_wad: int):
        """Change the position by `delta` at a fill of `notional_` (clearing._apply_fill)."""
        old, cost = self.positions.get(market, [0, 0])
        new, remaining, realized = realize(old, cost, delta, notional_, price_wad, SCALE)
        self.collateral -= realized
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
        return sum(margin(s, prices[m], ratios[m]) for m, (s, _) in self.positions.items())

    def loss(self, market: int, price_wad: int) -> int:
        """liquidate_bankrupt's per-market loss: cost basis above the value at the oracle."""
        s, c = self.positions.get(market, [0, 0])
        return max(c - value(s, price_wad), 0)


# ------------------------------------------------------------------------- parameters
@dataclass
class MarketParams:
    imr: int
    mmr: int
    taker_fee: int = 5 * 10**14
    maker_fee: int = 2 * 10**14
    liquidation_penalty: int | None = None  # default mmr // 2
    liquidator_share: int = 5 * 10**17
    close_factor: int = 5 * 10**17
    price_band: int = 5 * 10**16
    funding_period: int = 8 * 3600
    max_funding_premium: int = 5 * 10**15
    max_open_interest: int = 10**6 * WAD

    def __post_init__(self):
        if self.liquidation_penalty is None:
            self.liquidation_penalty = self.mmr // 2


@dataclass
class Position:
    size: int = 0
    cost: int = 0
    funding_snapshot: int = 0
    haircut_snapshot: int = 0  # loss_index X of the position's side
    y_snapshot: int = 0  # loss_index Y (profit_clawback only)


@dataclass
class Health:
    equity: int
    initial_margin: int
    maintenance_margin: int
    owed: int


# ------------------------------------------------------------------------- the vault
@dataclass
class RedeemRequest:
    shares: int = 0  # held by the vault (ERC-7540: moved out of the owner's balance)
    assets: int = 0
    claimable_from: int = 0
    claimable_until: int = 0


@dataclass
class VaultModel:
    """InsuranceVault: internal asset counter, virtual offset (1e6 shares, 1 asset)."""

    cooldown: int
    claim_window: int = 3 * 86400
    max_cover_ratio: int = 5 * 10**17
    min_reserve: int = 10**6
    total_assets: int = 0
    total_supply: int = 0
    token_balance: int = 0  # token.balanceOf(vault); equals total_assets without donations
    balances: dict = field(default_factory=dict)
    requests: dict = field(default_factory=dict)

    @staticmethod
    def _mul_div(x, y, d, up):
        return mul_div_up(x, y, d) if up else x * y // d

    def to_shares(self, assets: int, up: bool = False) -> int:
        return self._mul_div(assets, self.total_supply + VIRTUAL_SHARES, self.total_assets + VIRTUAL_ASSETS, up)

    def to_assets(self, shares: int, up: bool = False) -> int:
        return self._mul_div(shares, self.total_assets + VIRTUAL_ASSETS, self.total_supply + VIRTUAL_SHARES, up)

    def request(self, owner) -> RedeemRequest:
        return self.requests.get(owner, RedeemRequest())

    def balance(self, owner) -> int:
        return self.balances.get(owner, 0)

    def cover_capacity(self) -> int:
        """What one `cover` call can pay now, whatever is asked."""
        total = self.total_assets
        paid = total * self.max_cover_ratio // WAD
        reserve = self.min_reserve
        return min(paid, total - reserve) if total > reserve else 0

    # transactions (called through VaultModel.transact or from the Clearinghouse model)
    def deposit(self, sender, assets: int, receiver, now: int) -> int:
        """After the Clearinghouse's sweep (see ClearinghouseModel.vault_deposit)."""
        shares = self.to_shares(assets)
        require(shares != 0, "deposit: zero shares")
        self.total_supply += shares
        self.balances[receiver] = self.balance(receiver) + shares
        self.total_assets += assets
        self.token_balance += assets
        return shares

    def request_redeem(self, sender, shares: int, now: int):
        """After the Clearinghouse's sweep (see ClearinghouseModel.vault_request_redeem)."""
        req = self.request(sender)
        require(shares != 0 or req.shares != 0, "requestRedeem: zero shares")  # 0 renews an existing request
        require(self.balance(sender) >= shares, "erc20: transfer amount exceeds balance")
        self.balances[sender] = self.balance(sender) - shares
        start = now + self.cooldown
        self.requests[sender] = RedeemRequest(req.shares + shares, req.assets + self.to_assets(shares), start,
                                              start + self.claim_window)

    def is_matured(self, owner, now: int) -> bool:
        """Claimable: inside its claim window."""
        req = self.request(owner)
        return req.shares != 0 and req.claimable_from <= now <= req.claimable_until

    def redeem(self, sender, shares: int, receiver, owner, now: int) -> tuple[int, int]:
        """Returns (assets paid, forfeited)."""
        require(shares != 0, "redeem: zero shares")
        require(sender == owner, "model: redeem on behalf of another owner is not modelled")
        req = self.request(owner)
        require(req.shares != 0, "vault: no redeem request")
        require(now >= req.claimable_from, "vault: cooldown not over")
        require(now <= req.claimable_until, "vault: request lapsed, renew it")
        require(shares <= req.shares, "redeem: exceeds requested shares")
        value = min(self.to_assets(req.shares), req.assets)
        assets = shares * value // req.shares
        if shares < req.shares:
            left = req.shares - shares
            self.requests[owner] = RedeemRequest(left, req.assets * left // req.shares, req.claimable_from,
                                                 req.claimable_until)
        else:
            self.requests[owner] = RedeemRequest()
        forfeited = self.to_assets(shares) - assets
        self.total_supply -= shares
        self.total_assets -= assets
        self.token_balance -= assets
        return assets, forfeited

    def notify_revenue(self, amount: int):
        if amount == 0:
            return
        assert self.token_balance >= self.total_assets + amount, "model: revenue not received"
        self.total_assets += amount

    def cover(self, amount: int) -> int:
        total = self.total_assets
        paid = min(amount, total * self.max_cover_ratio // WAD)
        reserve = self.min_reserve
        paid = min(paid, total - reserve) if total > reserve else 0
        if paid:
            self.total_assets -= paid
            self.token_balance -= paid
        return paid

    def transact(self, method: str, *args, **kwargs):
        saved = copy.deepcopy(self.__dict__)
        try:
            return getattr(self, method)(*args, **kwargs)
        except Revert:
            self.__dict__.update(saved)
            raise


# ------------------------------------------------------------------------- the clearinghouse
@dataclass
class Book:
    """A bankruptcy as sized before the takeover (liquidation.Bankrupt): `rows` per market with
    a position (market, size, notional, price, funding index, loss)."""

    deficit: int
    insurance_paid: int = 0
    reward: int = 0
    rows: list = field(default_factory=list)
    losses: dict = field(default_factory=dict)
    notionals: dict = field(default_factory=dict)
    charge_longs: dict = field(default_factory=dict)
    shares: dict = field(default_factory=dict)


def split_residual(residual: int, losses: dict, notionals: dict) -> dict:
    """The residual's share per market: pro rata to the losses, or to the notionals if no
    market lost money."""
    total = sum(losses.values())
    if total > 0:
        return split_shares(residual, losses, total)
    return split_shares(residual, notionals, sum(notionals.values()))


class ClearinghouseModel(AdlWaterfall):
    """Clearinghouse state and every transaction the state machines send to it (the `adl`
    resolution in AdlWaterfall, tests/support/adl_model.py)."""

    def __init__(self, decimals: int = 6, vault: VaultModel | None = None):
        self.scale = 10 ** (36 - decimals)
        unit = 10**decimals
        self.keeper_reward = 5 * unit
        self.dust_notional = 10 * unit
        self.insurance_fee_share = 5 * 10**17
        self.vault = vault
        self.markets: list[MarketParams] = []
        self.prices: list[int] = []
        self.collateral: dict = {}
        self.positions: dict = {}  # (account, market) -> Position; absent: no position
        self.long_open_interest: list[int] = []
        self.funding_index: list[int] = []
        self.funding_last: list[int] = []
        self.funding_premium: list[int] = []
        self.haircut_index: dict = {}  # (market, long side?) -> loss_index X
        self.loss_policy = "pro_rata_size"  # or "profit_clawback", "adl"
        self._adl_init()
        self.clawback_y: dict = {}  # (market, long side?) -> loss_index Y
        self.cost_sums: dict = {}  # (market, long side?) -> sum of |cost| (profit_clawback)
        self.excess_settled = 0  # clamped-away charges credited to the vault on settlement
        self.socialized_loss: list[int] = []
        self.filled: dict = {}
        self.cancelled: set = set()
        self.fees_unswept = 0
        self.vault_pending = 0
        self.protocol_fees = 0
        self.bad_debt = 0
        self.token_balance = 0  # token.balanceOf(clearinghouse)
        # bookkeeping for the properties (not contract state)
        self.haircut_settled: dict = {}
        self.settlements = 0  # settlements that moved a snapshot (each may leave < 1 unit of dust)
        self.charge_settlements = 0  # settlements that paid or credited a loss-policy charge (u != 0)
        self.events: list = []

    # ------------------------------------------------------------------ setup
    def add_market(self, params: MarketParams, price: int) -> int:
        self.markets.append(params)
        self.prices.append(price)
        self.long_open_interest.append(0)
        self.funding_index.append(0)
        self.funding_last.append(0)
        self.funding_premium.append(0)
        self.socialized_loss.append(0)
        for side in (True, False):
            self.haircut_index[(len(self.markets) - 1, side)] = 0
            self.clawback_y[(len(self.markets) - 1, side)] = 0
            self.cost_sums[(len(self.markets) - 1, side)] = 0
        return len(self.markets) - 1

    def set_price(self, market: int, price: int):
        """The oracle moved (feeds are not Clearinghouse state: no accrual happens)."""
        assert price > 0
        self.prices[market] = price

    # ------------------------------------------------------------------ transactions
    def transact(self, method: str, *args, **kwargs):
        """Run a transaction; on a revert restore everything (this model and, in place, its
        vault)."""
        self.events = []
        saved = copy.deepcopy({k: v for k, v in self.__dict__.items() if k != "vault"})
        saved_vault = copy.deepcopy(self.vault.__dict__) if self.vault is not None else None
        try:
            return getattr(self, method)(*args, **kwargs)
        except Revert:
            self.__dict__.update(saved)
            if self.vault is not None:
                self.vault.__dict__.update(saved_vault)
            raise

    # ------------------------------------------------------------------ views
    def position(self, account, market: int) -> Position:
        return self.positions.get((account, market), Position())

    def position_size(self, account, market: int) -> int:
        return self.position(account, market).size

    def capped_premium(self, market: int, premium: int) -> int:
        cap = self.markets[market].max_funding_premium
        return max(-cap, min(cap, premium))

    def funding_state(self, market: int, now: int) -> tuple[int, int]:
        """(index, premium) at `now`: the premium decays by 2 * cap per period without fills
        (tests/support/funding.py)."""
        params = self.markets[market]
        return funding.advance(self.funding_index[market], self.funding_premium[market], now - self.funding_last[market],
                               self.prices[market], params.max_funding_premium, params.funding_period)

    def funding_premium_view(self, market: int, now: int) -> int:
        return self.funding_state(market, now)[1]

    def funding_index_view(self, market: int, now: int) -> int:
        return self.funding_state(market, now)[0]

    def owed(self, market: int, pos: Position, funding_index: int) -> tuple[int, int]:
        if pos.size == 0:
            return 0, 0
        funding = div_ceil(pos.size * (funding_index - pos.funding_snapshot), self.scale)
        return funding, self.pending_haircut(market, pos)

    def pending_haircut(self, market: int, pos: Position) -> int:
        return max(self.accrued_charge(market, pos), 0)

    def pending_excess(self, market: int, pos: Position) -> int:
        """What settling the position credits to the vault (profit_clawback: not in profit)."""
        return max(-self.accrued_charge(market, pos), 0)

    def accrued_charge(self, market: int, pos: Position) -> int:
        """The loss policy's unclamped charge u since the position's snapshot."""
        if pos.size == 0:
            return 0
        side = (market, pos.size > 0)
        dx = self.haircut_index[side] - pos.haircut_snapshot
        dy = self.clawback_y[side] - pos.y_snapshot
        return clawback_model.accrued(pos.size, pos.cost, dx, dy, self.scale)

    def health(self, account, now: int) -> Health:
        equity = self.collateral.get(account, 0)
        im = mm = owed_total = 0
        for market, params in enumerate(self.markets):
            pos = self.positions.get((account, market))
            if pos is None:
                continue
            price = self.prices[market]
            funding, charge = self.owed(market, pos, self.funding_index_view(market, now))
            owed = funding + charge
            value = div_floor(pos.size * price, self.scale)
            equity += value - pos.cost - owed
            owed_total += owed
            notional = mul_div_up(abs(pos.size), price, self.scale)
            im += mul_div_up(notional, params.imr, WAD)
            mm += mul_div_up(notional, params.mmr, WAD)
        return Health(equity, im, mm, owed_total)

    def equity(self, account, now: int) -> int:
        return self.health(account, now).equity

    def collateral_view(self, account, now: int) -> int:
        return self.collateral.get(account, 0) - self.health(account, now).owed

    def is_liquidatable(self, account, now: int) -> bool:
        h = self.health(account, now)
        return h.equity < h.maintenance_margin

    def treasury(self) -> int:
        return self.fees_unswept + self.vault_pending + self.protocol_fees

    def pending_haircut_total(self, account) -> int:
        return sum(self.pending_haircut(m, p) for (a, m), p in self.positions.items() if a == account)

    def max_withdrawable(self, account, now: int) -> int:
        h = self.health(account, now)
        return max(0, min(self.collateral.get(account, 0) - h.owed, h.equity - h.initial_margin))

    def max_liquidatable_size(self, account, market: int, now: int) -> int:
        h = self.health(account, now)
        if h.equity >= h.maintenance_margin or h.equity < 0:
            return 0
        size = abs(self.position_size(account, market))
        if size == 0:
            return 0
        return self._max_size(size, self.prices[market], self.markets[market].close_factor)

    # ------------------------------------------------------------------ internals (clearing.vy)
    def _accrue(self, market: int, now: int, fill_size: int, premium: int) -> int:
        """Bring the funding index and the decaying premium to now; on a fill (fill_size > 0)
        move the premium towards the fill's capped premium by fill / (open interest + fill),
        truncated towards zero."""
        stored = self.funding_premium[market]
        index, new_premium = self.funding_state(market, now)
        if fill_size > 0:
            new_premium = funding.blend(new_premium, premium, fill_size, self.long_open_interest[market])
        changed = index != self.funding_index[market]
        self.funding_index[market] = index
        if changed or new_premium != stored:
            self.funding_last[market] = now
            self.funding_premium[market] = new_premium
            self.events.append(("Funding", market, index, new_premium))
        return index

    def _settle(self, account, market: int, pos: Position, funding_index: int) -> Position:
        if pos.size == 0:
            return pos
        funding, charge = self.owed(market, pos, funding_index)
        accrued = self.accrued_charge(market, pos)
        haircut_index = self.haircut_index[(market, pos.size > 0)]
        y_index = self.clawback_y[(market, pos.size > 0)]
        if pos.funding_snapshot == funding_index and pos.haircut_snapshot == haircut_index and pos.y_snapshot == y_index:
            return pos
        # each settlement rounds its payment (even one that rounds to zero): < 1 unit of dust
        self.settlements += 1
        if accrued != 0:
            self.charge_settlements += 1
        if funding != 0 or accrued != 0:
            self.collateral[account] = self.collateral.get(account, 0) - funding - charge
            self.haircut_settled[account] = self.haircut_settled.get(account, 0) + charge
            if accrued < 0:
                self.vault_pending += -accrued
                self.excess_settled += -accrued
            self.events.append(("Settled", account, market, funding, charge))
        pos.funding_snapshot = funding_index
        pos.haircut_snapshot = haircut_index
        pos.y_snapshot = y_index
        return pos

    @staticmethod
    def _is_reducing(old: int, new: int) -> bool:
        if old > 0:
            return 0 <= new < old
        if old < 0:
            return old < new <= 0
        return False

    @staticmethod
    def _long_delta(old: int, new: int) -> int:
        return max(new, 0) - max(old, 0)

    def _apply_fill(self, account, market: int, delta: int, notional: int, price: int, funding_index: int):
        pos = self._settle(account, market, copy.copy(self.position(account, market)), funding_index)
        old_size = pos.size
        new_size, remaining, realized = realize(old_size, pos.cost, delta, notional, price, self.scale)
        flipped = old_size != 0 and new_size != 0 and (old_size > 0) != (new_size > 0)
        if realized:
            self.collateral[account] = self.collateral.get(account, 0) - realized
        if old_size != 0:
            self.cost_sums[(market, old_size > 0)] -= abs(pos.cost)
        if new_size != 0:
            self.cost_sums[(market, new_size > 0)] += abs(remaining)
        if new_size == 0:
            self.positions.pop((account, market), None)
        else:
            pos.size = new_size
            pos.cost = remaining
            if old_size == 0 or flipped:
                pos.funding_snapshot = funding_index
                pos.haircut_snapshot = self.haircut_index[(market, new_size > 0)]
                pos.y_snapshot = self.clawback_y[(market, new_size > 0)]
            self.positions[(account, market)] = pos
        return old_size, new_size

    def _update_open_interest(self, market: int, delta: int) -> int:
        oi = self.long_open_interest[market] + delta
        assert oi >= 0, "model: negative open interest"
        self.long_open_interest[market] = oi
        return oi

    def _check_after_fill(self, account, old: int, new: int, now: int, worse: bool = False):
        """`worse`: the fill is priced worse than the oracle for this account."""
        health = self.health(account, now)
        if new == 0 or self._is_reducing(old, new):
            require(health.equity >= 0, "trade: fill would leave the account bankrupt")
            require(not worse or health.equity >= health.maintenance_margin,
                    "trade: below maintenance, off-oracle fill")
        else:
            require(health.equity >= health.initial_margin, "trade: below initial margin")

    def _credit(self, account, amount: int):
        self.collateral[account] = self.collateral.get(account, 0) + amount

    def _close_account(self, account) -> int:
        balance = self.collateral.get(account, 0)
        self.collateral[account] = 0
        if balance >= 0:
            self.vault_pending += balance
            return 0
        return -balance

    def _split_fees(self) -> int:
        """Split the unswept fees at the current share; the protocol's part (with the protocol
        fees held) pays down bad debt first. Returns the protocol's part split now."""
        fees = self.fees_unswept
        fee_share = fees * self.insurance_fee_share // WAD
        self.fees_unswept = 0
        self.vault_pending += fee_share
        held = self.protocol_fees + fees - fee_share
        repaid = min(held, self.bad_debt)
        if repaid > 0:
            self.bad_debt -= repaid
            self.events.append(("BadDebtRepaid", repaid))
        self.protocol_fees = held - repaid
        return fees - fee_share

    def _sweep(self):
        to_protocol = self._split_fees()
        to_vault = self.vault_pending
        if to_vault == 0 and to_protocol == 0:
            return
        self.vault_pending = 0
        if to_vault > 0:
            self.token_balance -= to_vault
            self.vault.token_balance += to_vault
            self.vault.notify_revenue(to_vault)
        self.events.append(("FeesSwept", to_vault, to_protocol))

    # ------------------------------------------------------------------ trader transactions
    def deposit(self, account, amount: int, now: int):
        require(amount > 0, "deposit: zero amount")
        self._credit(account, amount)
        self.token_balance += amount

    def withdraw(self, account, amount: int, now: int):
        self.adl_check_active(account)
        require(amount > 0, "withdraw: zero amount")
        health = self.health(account, now)
        require(amount <= self.collateral.get(account, 0) - health.owed, "withdraw: exceeds settled collateral")
        require(health.equity - amount >= health.initial_margin, "withdraw: below initial margin")
        self._credit(account, -amount)
        self.token_balance -= amount

    def trade(self, taker, maker, market: int, order_size: int, limit_price: int, fill_size: int,
              digest: bytes, expiry: int, now: int):
        """`maker` signed an order of `order_size` (> 0: the maker buys) at `limit_price`;
        `taker` fills `fill_size` of it."""
        require(fill_size > 0, "trade: zero fill size")
        require(order_size != 0, "trade: zero order size")
        require(market < len(self.markets), "registry: unknown market")
        require(now <= expiry, "trade: order expired")
        require(maker != taker, "trade: maker is the taker")
        require(digest not in self.cancelled, "trade: order cancelled")
        total_filled = self.filled.get(digest, 0) + fill_size
        require(total_filled <= abs(order_size), "trade: fill exceeds order size")
        self.filled[digest] = total_filled

        params = self.markets[market]
        price = self.prices[market]
        deviation = abs(limit_price - price)
        require(deviation * WAD <= price * params.price_band, "trade: price outside band")
        premium = deviation * WAD // price
        if limit_price < price:
            premium = -premium
        cap = params.max_funding_premium
        premium = max(-cap, min(cap, premium))
        funding_index = self._accrue(market, now, fill_size, premium)

        maker_delta = fill_size if order_size > 0 else -fill_size
        notional = mul_div_down(fill_size, limit_price, self.scale)
        maker_old, maker_new = self._apply_fill(maker, market, maker_delta, notional, limit_price, funding_index)
        taker_old, taker_new = self._apply_fill(taker, market, -maker_delta, notional, limit_price, funding_index)

        maker_fee = mul_div_up(notional, params.maker_fee, WAD)
        taker_fee = mul_div_up(notional, params.taker_fee, WAD)
        self._credit(maker, -maker_fee)
        self._credit(taker, -taker_fee)
        self.fees_unswept += maker_fee + taker_fee

        oi_delta = self._long_delta(maker_old, maker_new) + self._long_delta(taker_old, taker_new)
        if oi_delta != 0:
            oi = self._update_open_interest(market, oi_delta)
            if oi_delta > 0:
                require(oi <= params.max_open_interest, "trade: open interest cap")
        # off the oracle exactly one side trades worse than it: the buyer above, the seller below
        maker_worse = (limit_price > price) == (order_size > 0)
        self._check_after_fill(maker, maker_old, maker_new, now, deviation > 0 and maker_worse)
        self._check_after_fill(taker, taker_old, taker_new, now, deviation > 0 and not maker_worse)
        self.adl_check_active(maker)  # adl: the ranking hook runs after the fill
        self.adl_check_active(taker)
        self.events.append(("Trade", maker, taker, market, maker_delta, limit_price, maker_fee, taker_fee))

    def vault_deposit(self, sender, assets: int, receiver, now: int) -> int:
        """InsuranceVault.deposit: sweeps the vault's pending revenue in, then prices."""
        require(assets != 0, "deposit: zero assets")
        self._sweep()
        return self.vault.deposit(sender, assets, receiver, now)

    def vault_request_redeem(self, sender, shares: int, now: int):
        """InsuranceVault.request_redeem: sweeps first, then values the request."""
        require(shares != 0 or self.vault.request(sender).shares != 0, "requestRedeem: zero shares")
        self._sweep()
        self.vault.request_redeem(sender, shares, now)

    def sweep_fees(self, now: int):
        require(self.vault is not None, "clearing: no insurance vault")
        self._sweep()

    # ------------------------------------------------------------------ liquidation.vy
    def _max_size(self, position_abs: int, price: int, close_factor: int) -> int:
        limit = mul_div_up(position_abs, close_factor, WAD)
        if limit >= position_abs:
            return position_abs
        if mul_div_down(position_abs - limit, price, self.scale) < self.dust_notional:
            return position_abs
        return limit

    def _transfer_position(self, account, liquidator, market, delta, notional, price, funding_index):
        a_old, a_new = self._apply_fill(account, market, delta, notional, price, funding_index)
        k_old, k_new = self._apply_fill(liquidator, market, -delta, notional, price, funding_index)
        oi_delta = self._long_delta(a_old, a_new) + self._long_delta(k_old, k_new)
        if oi_delta != 0:
            self._update_open_interest(market, oi_delta)

    def _check_liquidator(self, liquidator, now: int):
        h = self.health(liquidator, now)
        require(h.equity >= h.initial_margin, "liquidate: liquidator below initial margin")

    def liquidate(self, liquidator, account, market: int, size: int, now: int):
        self.adl_check_active(account)
        self.adl_check_active(liquidator)
        require(size > 0, "liquidate: zero size")
        require(account != liquidator, "liquidate: cannot liquidate yourself")
        require(market < len(self.markets), "registry: unknown market")
        health = self.health(account, now)
        require(health.equity < health.maintenance_margin, "liquidate: account is healthy")
        require(health.equity >= 0, "liquidate: account is bankrupt, use liquidate_bankrupt")
        params = self.markets[market]
        price = self.prices[market]
        funding_index = self._accrue(market, now, 0, 0)
        position_size = self.position_size(account, market)
        require(position_size != 0, "liquidate: no position in this market")
        position_abs = abs(position_size)
        require(size <= position_abs, "liquidate: size above position")
        require(size <= self._max_size(position_abs, price, params.close_factor), "liquidate: size above close factor")
        if size < position_abs:
            left = mul_div_down(position_abs - size, price, self.scale)
            require(left >= self.dust_notional, "liquidate: would leave a dust position")
        delta = -size if position_size > 0 else size
        notional = mul_div_down(size, price, self.scale)
        self._transfer_position(account, liquidator, market, delta, notional, price, funding_index)
        penalty = mul_div_up(notional, params.liquidation_penalty, WAD)
        left_equity = self.health(account, now).equity
        if left_equity <= 0:
            penalty = 0
        elif penalty > left_equity:
            penalty = left_equity
        reward = penalty * params.liquidator_share // WAD
        if penalty > 0:
            self._credit(account, -penalty)
            self._credit(liquidator, reward)
            self.vault_pending += penalty - reward
        self._check_liquidator(liquidator, now)
        self.events.append(("Liquidation", account, liquidator, market, delta, price, penalty, reward))

    def liquidate_bankrupt(self, liquidator, account, now: int):
        """The waterfall on the book as it stands (the policy charges before the takeover, so
        a keeper holding the opposite side pays its share), then the takeover. Under `adl` it
        starts or continues a deleveraging resolution instead (AdlWaterfall)."""
        if self.loss_policy == "adl":
            return self._adl_liquidate_bankrupt(liquidator, account, now)
        book = self._open_bankruptcy(liquidator, account, now)
        socialized = sum(self._socialize(m, book.charge_longs[m], share) for m, share in sorted(book.shares.items()))
        self._close_bankruptcy(liquidator, account, book, socialized, now)

    def _open_bankruptcy(self, liquidator, account, now: int) -> "Book":
        """liquidation._open_bankruptcy: size the bankruptcy on the book as it stands (deficit,
        per-market loss, notional, side to charge), ask the vault, split the residual across
        the markets pro rata to their losses (to their notional if none lost)."""
        require(account != liquidator, "liquidate_bankrupt: cannot liquidate yourself")
        equity = self.health(account, now).equity
        require(equity < 0, "liquidate_bankrupt: account is not bankrupt")
        book = Book(deficit=-equity)
        reward_cap = 0
        for market in range(len(self.markets)):
            pos = self.positions.get((account, market))
            if pos is None:
                continue
            price = self.prices[market]
            funding_index = self._accrue(market, now, 0, 0)
            # the market's loss: cost above value at the oracle, plus the charges still owed there
            value = div_floor(pos.size * price, self.scale)
            funding, charge = self.owed(market, pos, funding_index)
            lost = pos.cost - value + funding + charge
            notional = mul_div_down(abs(pos.size), price, self.scale)
            reward_cap += mul_div_down(notional, self.markets[market].liquidation_penalty, WAD)
            book.rows.append((market, pos.size, notional, price, funding_index, max(lost, 0)))
            book.losses[market] = max(lost, 0)
            book.notionals[market] = notional
            book.charge_longs[market] = pos.size < 0
        book.insurance_paid, book.reward = self._cover(book.deficit, reward_cap)
        book.shares = split_residual(book.deficit - book.insurance_paid, book.losses, book.notionals)
        return book

    def _close_bankruptcy(self, liquidator, account, book: "Book", socialized: int, now: int):
        """liquidation._close_bankruptcy: the rest of the residual is bad debt, the deficit is
        written off, the keeper takes every position over at the oracle price and is paid."""
        bad = book.deficit - book.insurance_paid - socialized
        if bad > 0:
            self.bad_debt += bad
        self._credit(account, book.deficit)
        for market, size, notional, price, funding_index, loss in book.rows:
            self._transfer_position(account, liquidator, market, -size, notional, price, funding_index)
            self.events.append(("BankruptcyTakeover", account, liquidator, market, size, price, loss))
        assert self._close_account(account) == 0
        if book.reward > 0:
            self._credit(liquidator, book.reward)
        self._check_liquidator(liquidator, now)
        self.events.append(("Bankruptcy", account, book.deficit, book.insurance_paid, socialized, bad))

    def _cover(self, deficit: int, reward_cap: int) -> tuple[int, int]:
        if self.vault is None:
            return 0, 0
        self._sweep()
        request = deficit + min(self.keeper_reward, reward_cap)
        if request == 0:
            return 0, 0
        paid = self.vault.cover(request)
        self.token_balance += paid
        insurance_paid = min(paid, deficit)
        return insurance_paid, paid - insurance_paid

    def _socialize(self, market: int, charge_longs: bool, amount: int) -> int:
        open_interest = self.long_open_interest[market]
        if self.loss_policy == "profit_clawback":
            side = (market, charge_longs)
            charged, dx, dy = clawback_model.charge(amount, open_interest, self.cost_sums[side], self.prices[market],
                                                   charge_longs, self.scale)
            if charged == 0:
                return 0
            self.haircut_index[side] += dx
            self.clawback_y[side] += dy
            self.socialized_loss[market] += charged
            self.events.append(("ProfitClawedBack", market, charge_longs, charged))
            return charged
        if amount == 0 or open_interest == 0:
            return 0
        delta = mul_div_up(amount, self.scale, open_interest)
        index = self.haircut_index[(market, charge_longs)]
        if delta > MAX_INDEX - index:
            return 0
        self.haircut_index[(market, charge_longs)] = index + delta
        self.socialized_loss[market] += amount
        self.events.append(("Socialized", market, charge_longs, amount, index + delta))
        return amount
