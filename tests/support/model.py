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
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

from . import funding

WAD = 10**18
MAX_INDEX = 2**127 - 1
VIRTUAL_SHARES = 10**6
VIRTUAL_ASSETS = 1


class Revert(Exception):
    """A transaction the contract would revert; `reason` is its revert string."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


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
    haircut_snapshot: int = 0


@dataclass
class Health:
    equity: int
    initial_margin: int
    maintenance_margin: int
    owed: int


# ------------------------------------------------------------------------- the vault
@dataclass
class RedeemRequest:
    shares: int = 0
    assets: int = 0
    requested_at: int = 0


@dataclass
class VaultModel:
    """InsuranceVault: internal asset counter, virtual offset (1e6 shares, 1 asset)."""

    cooldown: int
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
        require(assets != 0, "vault: zero assets")
        shares = self.to_shares(assets)
        require(shares != 0, "vault: zero shares")
        self.total_supply += shares
        self.balances[receiver] = self.balance(receiver) + shares
        self.total_assets += assets
        self.token_balance += assets
        return shares

    def request_redeem(self, sender, shares: int, now: int):
        require(shares != 0, "vault: zero shares")
        req = self.request(sender)
        require(self.balance(sender) - req.shares >= shares, "vault: insufficient unlocked shares")
        assets = self.to_assets(shares)
        self.requests[sender] = RedeemRequest(req.shares + shares, req.assets + assets, now)

    def is_matured(self, owner, now: int) -> bool:
        req = self.request(owner)
        return req.shares != 0 and now >= req.requested_at + self.cooldown

    def redeem(self, sender, shares: int, receiver, owner, now: int) -> tuple[int, int]:
        """Returns (assets paid, forfeited)."""
        require(shares != 0, "vault: zero shares")
        req = self.request(owner)
        require(req.shares != 0, "vault: no redeem request")
        require(now >= req.requested_at + self.cooldown, "vault: cooldown not over")
        require(shares <= req.shares, "vault: exceeds requested shares")
        require(sender == owner, "model: redeem on behalf of another owner is not modelled")
        assets = min(self.to_assets(shares), req.assets * shares // req.shares)
        if shares < req.shares:
            left = req.shares - shares
            self.requests[owner] = RedeemRequest(left, req.assets * left // req.shares, req.requested_at)
        else:
            self.requests[owner] = RedeemRequest()
        forfeited = self.to_assets(shares) - assets
        self.balances[owner] = self.balance(owner) - shares
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
class ClearinghouseModel:
    """Clearinghouse state and every transaction the state machines send to it."""

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
        self.haircut_index: dict = {}  # (market, long side?) -> index
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
        if pos.size == 0:
            return 0
        delta = self.haircut_index[(market, pos.size > 0)] - pos.haircut_snapshot
        if delta == 0:
            return 0
        return mul_div_up(abs(pos.size), delta, self.scale)

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
        haircut_index = self.haircut_index[(market, pos.size > 0)]
        if pos.funding_snapshot == funding_index and pos.haircut_snapshot == haircut_index:
            return pos
        # each settlement rounds its payment (even one that rounds to zero): < 1 unit of dust
        self.settlements += 1
        if funding != 0 or charge != 0:
            self.collateral[account] = self.collateral.get(account, 0) - funding - charge
            self.haircut_settled[account] = self.haircut_settled.get(account, 0) + charge
            self.events.append(("Settled", account, market, funding, charge))
        pos.funding_snapshot = funding_index
        pos.haircut_snapshot = haircut_index
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
        new_size = old_size + delta
        signed_notional = notional if delta >= 0 else -notional
        total_cost = pos.cost + signed_notional
        remaining = total_cost
        flipped = old_size != 0 and new_size != 0 and (old_size > 0) != (new_size > 0)
        if new_size == 0:
            remaining = 0
        elif flipped:
            remaining = div_floor(new_size * price, self.scale)
        elif self._is_reducing(old_size, new_size):
            remaining = div_floor(pos.cost * abs(new_size), abs(old_size))
        if remaining != total_cost:
            self.collateral[account] = self.collateral.get(account, 0) - (total_cost - remaining)
        if new_size == 0:
            self.positions.pop((account, market), None)
        else:
            pos.size = new_size
            pos.cost = remaining
            if old_size == 0 or flipped:
                pos.funding_snapshot = funding_index
                pos.haircut_snapshot = self.haircut_index[(market, new_size > 0)]
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
        self.events.append(("Trade", maker, taker, market, maker_delta, limit_price, maker_fee, taker_fee))

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
        require(account != liquidator, "liquidate_bankrupt: cannot liquidate yourself")
        require(self.health(account, now).equity < 0, "liquidate_bankrupt: account is not bankrupt")
        losses, notionals, charge_longs = {}, {}, {}
        total_loss = total_notional = reward_cap = 0
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
            loss = lost if lost > 0 else 0
            notional = mul_div_down(abs(pos.size), price, self.scale)
            reward_cap += mul_div_down(notional, self.markets[market].liquidation_penalty, WAD)
            size = pos.size
            self._transfer_position(account, liquidator, market, -size, notional, price, funding_index)
            self.events.append(("BankruptcyTakeover", account, liquidator, market, size, price, loss))
            # a market left without open interest has nobody to charge: it gets no weight
            if self.long_open_interest[market] != 0:
                losses[market] = loss
                notionals[market] = notional
                charge_longs[market] = size < 0
                total_loss += loss
                total_notional += notional

        deficit = self._close_account(account)
        insurance_paid, reward = self._cover(deficit, reward_cap)
        residual = deficit - insurance_paid
        socialized = 0
        # split pro rata to the markets' losses; if none shows a loss, to their notional
        weights, total_weight = (losses, total_loss) if total_loss > 0 else (notionals, total_notional)
        if residual > 0 and total_weight > 0:
            allocated = 0
            for market in range(len(self.markets)):
                if weights.get(market, 0) == 0:
                    continue
                share = min(mul_div_up(residual, weights[market], total_weight), residual - allocated)
                allocated += share
                socialized += self._socialize(market, charge_longs[market], share)
        bad = residual - socialized
        if bad > 0:
            self.bad_debt += bad
        if reward > 0:
            self._credit(liquidator, reward)
        self._check_liquidator(liquidator, now)
        self.events.append(("Bankruptcy", account, deficit, insurance_paid, socialized, bad))

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
