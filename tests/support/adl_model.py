"""Reference model of the `adl` loss policy (contracts/modules/adl.vy and deleveraging.vy),
shared by the ADL unit tests and the waterfall fuzz machine.

Three layers, each plain integers with the contract's rounding:

* the ranking: an entry price's bucket (a float with a 7-bit mantissa), a position's bucket
  from its cost basis, and `Ranking`, the per market-side bucket counts with the best
  non-empty bucket and the "winners exhausted" test;
* one deleveraging fill: the bankruptcy price, the fill size a winner's profit pays for, and
  the cumulative notional that makes the fills of one bankrupt position add up exactly;
* `clawback_queue`, the textbook ADL queue over abstract equities (who pays how much, in
  queue order, capped at each winner's profit), which the contract's fills implement;
* `AdlWaterfall`, the resolution itself (deleveraging.vy's steps 0-3) as a mixin of
  tests/support/model.py's ClearinghouseModel, for the waterfall fuzz machine. Its ranking is
  recomputed from the model's positions on every read (every ranked position of an account not
  under resolution), not kept in step like the contract's bucket counts: a hook the contract
  forgot would show as a disagreement.
"""
from __future__ import annotations

from dataclasses import dataclass, field

MANTISSA_BITS = 7
MIN_RANK_COST = 1024
BUCKETS = 256 << MANTISSA_BITS


class Revert(Exception):
    """A transaction the contract would revert (tests/support/model.py raises this one too)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def require(condition: bool, reason: str):
    if not condition:
        raise Revert(reason)


def mul_div_up(a: int, b: int, d: int) -> int:
    return -((-a * b) // d)


# ---------------------------------------------------------------- the ranking
def msb(x: int) -> int:
    return max(x.bit_length() - 1, 0)


def bucket_of(price: int) -> int:
    """Bucket id (1 .. 32768) of a 1e18-scaled price: 1 + 128 * msb + the next 7 bits."""
    m = msb(price)
    if m >= MANTISSA_BITS:
        mantissa = (price >> (m - MANTISSA_BITS)) & ((1 << MANTISSA_BITS) - 1)
    else:
        mantissa = (price << (MANTISSA_BITS - m)) & ((1 << MANTISSA_BITS) - 1)
    return 1 + (m << MANTISSA_BITS) + mantissa


def bucket_bounds(bucket: int) -> tuple[int, int]:
    """The prices [low, high) of a bucket id (for msb >= 7)."""
    b = bucket - 1
    m, mantissa = b >> MANTISSA_BITS, b & ((1 << MANTISSA_BITS) - 1)
    step = 1 << (m - MANTISSA_BITS)
    low = (1 << m) + mantissa * step
    return low, low + step


def entry_price(size: int, cost: int, scale: int) -> int:
    """Entry price rounded towards a worse rank: a long's up, a short's down."""
    if size > 0:
        return mul_div_up(abs(cost), scale, abs(size))
    return abs(cost) * scale // abs(size)


def entry_bucket(size: int, cost: int, scale: int) -> int:
    """A position's bucket id, 0 (unranked) for a cost basis below MIN_RANK_COST."""
    if size == 0 or abs(cost) < MIN_RANK_COST:
        return 0
    return bucket_of(entry_price(size, cost, scale))


def ranks_above(a: int, b: int, long_side: bool) -> bool:
    """Whether bucket `a` ranks above bucket `b` on a side (longs: lower entry first)."""
    return a < b if long_side else a > b


@dataclass
class Ranking:
    """Bucket counts per (market, long side?, bucket)."""

    counts: dict = field(default_factory=dict)

    def insert(self, market: int, long_side: bool, bucket: int):
        key = (market, long_side, bucket)
        self.counts[key] = self.counts.get(key, 0) + 1

    def remove(self, market: int, long_side: bool, bucket: int):
        key = (market, long_side, bucket)
        assert self.counts.get(key, 0) > 0, f"model: removing from an empty bucket {key}"
        self.counts[key] -= 1
        if self.counts[key] == 0:
            del self.counts[key]

    def move(self, market: int, old_size: int, old_bucket: int, new_size: int, new_bucket: int) -> int:
        """A position changed from (old_size, old_bucket) to new_size at new_bucket."""
        if old_size and new_size and (old_size > 0) == (new_size > 0) and old_bucket == new_bucket:
            return new_bucket
        if old_size and old_bucket:
            self.remove(market, old_size > 0, old_bucket)
        if new_size and new_bucket:
            self.insert(market, new_size > 0, new_bucket)
        return new_bucket

    def best(self, market: int, long_side: bool) -> int:
        buckets = [b for (m, s, b) in self.counts if m == market and s == long_side]
        if not buckets:
            return 0
        return min(buckets) if long_side else max(buckets)

    def is_exhausted(self, market: int, long_side: bool, price: int) -> bool:
        """No winner worth ranking left: no ranked position, or the best bucket within one
        bucket of the oracle price's own bucket."""
        best = self.best(market, long_side)
        if best == 0:
            return True
        at_price = bucket_of(price)
        return best + 1 >= at_price if long_side else best <= at_price + 1


# ---------------------------------------------------------------- one fill
def bankruptcy_price(share: int, size: int, price: int, bankrupt_long: bool, scale: int) -> int:
    """The price at which closing |size| of the bankrupt position pays `share` of the deficit:
    a long sells above the oracle, a short buys below; the step rounds up (against the
    winners); a short's price never goes below 1."""
    step = mul_div_up(share, scale, abs(size))
    if bankrupt_long:
        return price + step
    return 1 if step >= price else price - step


def fill_size(remaining: int, counterparty_size: int, profit: int, step: int, scale: int) -> int:
    """How much of a winner is closed: what the bankrupt position still needs, at most the
    winner's size, and at most what its profit (less one unit for the notional's rounding)
    pays for at `step` per unit."""
    size = min(remaining, abs(counterparty_size))
    if step == 0:
        return size
    if profit <= 0:
        return 0
    return min(size, (profit - 1) * scale // step)


def cumulative_notional(filled: int, price: int, bankrupt_long: bool, scale: int) -> int:
    """Notional of the first `filled` units of a bankrupt position at the bankruptcy price:
    a long receives it rounded up, a short pays it rounded down (both against the winners).
    Fill i's notional is cumulative(Q_i) - cumulative(Q_{i-1}), so they add up exactly."""
    if bankrupt_long:
        return mul_div_up(filled, price, scale)
    return filled * price // scale


# ---------------------------------------------------------------- the textbook queue
def clawback_queue(profits, order, amount):
    """Take `amount` from the winners in queue `order` (indices into `profits`), each at most
    its profit. Returns the amount taken from each winner (same indexing as `profits`) and
    what is left untaken (bad debt)."""
    taken = [0] * len(profits)
    left = amount
    for i in order:
        if left <= 0:
            break
        take = min(profits[i], left)
        taken[i] = take
        left -= take
    return taken, left


# ---------------------------------------------------------------- the resolution (deleveraging.vy)
FROZEN = "adl: account is being deleveraged"


def split_shares(residual: int, weights: dict, total: int) -> dict:
    """Each weighted market's share of the residual: rounded up, the last ones capped so the
    shares sum to exactly the residual (liquidation._open_bankruptcy, deleveraging._shares)."""
    shares, allocated = {}, 0
    if residual == 0 or total == 0:
        return shares
    for market in sorted(weights):
        if weights[market] == 0:
            continue
        share = min(mul_div_up(residual, weights[market], total), residual - allocated)
        allocated += share
        shares[market] = share
    return shares


class AdlWaterfall:
    """deleveraging.vy on ClearinghouseModel's state: `adl_resolution` (account -> (deficit,
    insurance paid)) and `adl_targets` ((account, market) -> (bankruptcy price, size at the
    event)); `adl_take_rests` records, per take-over at the oracle (step 3), the opposite
    positions still in profit then, for the machine's "nobody can pay" check."""

    def _adl_init(self):
        self.adl_resolution: dict = {}
        self.adl_targets: dict = {}
        # bookkeeping for the properties (not contract state): every bankruptcy price set, and
        # per take-over at the oracle (account, market, price, [(winner, size, cost, profit)])
        self.adl_target_history: dict = {}
        self.adl_take_rests: list = []

    # ------------------------------------------------------------ views
    def is_frozen(self, account) -> bool:
        return account in self.adl_resolution

    def adl_check_active(self, account):
        require(self.loss_policy != "adl" or not self.is_frozen(account), FROZEN)

    def adl_ranking(self) -> Ranking:
        """The ranking as it must be: every ranked position of an account not under resolution."""
        ranking = Ranking()
        for (account, market), pos in self.positions.items():
            bucket = entry_bucket(pos.size, pos.cost, self.scale)
            if bucket and not self.is_frozen(account):
                ranking.insert(market, pos.size > 0, bucket)
        return ranking

    def adl_exhausted(self, market: int, long_side: bool, price: int) -> bool:
        return self.adl_ranking().is_exhausted(market, long_side, price)

    def adl_profit(self, account, market: int, now: int) -> int:
        """The position's profit at the oracle net of funding owed (ClearinghouseAdl.adl_rank)."""
        pos = self.positions.get((account, market))
        if pos is None:
            return 0
        funding, charge = self.owed(market, pos, self.funding_index_view(market, now))
        return (pos.size * self.prices[market]) // self.scale - pos.cost - funding - charge

    # ------------------------------------------------------------ transactions
    def _adl_liquidate_bankrupt(self, keeper, account, now: int):
        """LiquidationAdl.liquidate_bankrupt."""
        require(account != keeper, "liquidate_bankrupt: cannot liquidate yourself")
        if not self.is_frozen(account) and self._adl_open(account, keeper, now):
            return
        self.adl_check_active(keeper)
        self._adl_take_exhausted(account, keeper, now)
        self._adl_finish_if_flat(account)

    def deleverage(self, keeper, account, market: int, counterparties, now: int):
        """LiquidationAdl.deleverage."""
        require(self.loss_policy == "adl", "model: deleverage is adl's")
        require(account != keeper, "deleverage: cannot deleverage yourself")
        if not self.is_frozen(account) and self._adl_open(account, keeper, now):
            return
        self.adl_check_active(keeper)
        self._adl_fill(account, market, list(counterparties), keeper, now)
        self._adl_finish_if_flat(account)

    # ------------------------------------------------------------ steps
    def _adl_open(self, account, keeper, now: int) -> bool:
        """Steps 0 and 1; True when the bankruptcy is resolved at once (the vault paid it all,
        or no losing market has a winner): then the other policies' takeover, rest bad debt."""
        self.adl_check_active(keeper)
        book = self._open_bankruptcy(keeper, account, now)
        self.adl_target_history = {k: v for k, v in self.adl_target_history.items() if k[0] != account}
        weights, total_loss, notionals, total_notional = {}, 0, {}, 0
        for market, size, notional, price, _, loss in book.rows:
            if self.adl_exhausted(market, size < 0, price):
                continue
            weights[market], notionals[market] = loss, notional
            total_loss += loss
            total_notional += notional
        if total_loss == 0:
            weights, total_loss = notionals, total_notional
        shares = split_shares(book.deficit - book.insurance_paid, weights, total_loss)
        if not shares:
            if book.deficit > book.insurance_paid:  # nobody opposite a losing position in profit
                for market, size, _, price, _, _ in book.rows:
                    self._adl_record_winners(account, market, size, price)
            self._close_bankruptcy(keeper, account, book, 0, now)
            return True
        self.adl_resolution[account] = (book.deficit, book.insurance_paid)
        if book.insurance_paid > 0:
            self._credit(account, book.insurance_paid)
        took_over = False
        for market, size, notional, price, funding_index, loss in book.rows:
            share = shares.get(market, 0)
            if share == 0:
                self._transfer_position(account, keeper, market, -size, notional, price, funding_index)
                self.events.append(("BankruptcyTakeover", account, keeper, market, size, price, loss))
                took_over = True
            else:
                target = bankruptcy_price(share, abs(size), price, size > 0, self.scale)
                self.adl_targets[(account, market)] = (target, abs(size))
                self.adl_target_history[(account, market)] = target
        if book.reward > 0:
            self._credit(keeper, book.reward)
            took_over = True
        if took_over:
            self._check_liquidator(keeper, now)
        return False

    def _adl_fill(self, account, market: int, counterparties: list, keeper, now: int):
        """Step 2 in one market, then step 3 there if its winners are exhausted."""
        target, initial = self.adl_targets.get((account, market), (0, 0))
        require(target != 0, "deleverage: market not under resolution")
        size = self.position_size(account, market)
        bankrupt_long = size > 0
        price = self.prices[market]
        funding_index = self._accrue(market, now, 0, 0)
        step = 0
        if bankrupt_long and target > price:
            step = target - price
        elif not bankrupt_long and price > target:
            step = price - target
        remaining, paid = abs(size), 0
        for counterparty in counterparties:
            if remaining == 0:
                break
            fill, cost = self._adl_fill_one(account, market, counterparty, remaining, target, initial, bankrupt_long,
                                            price, funding_index, step)
            remaining -= fill
            paid += cost
        if paid > 0:
            self.socialized_loss[market] += paid
        if remaining > 0 and self.adl_exhausted(market, not bankrupt_long, price):
            self._adl_take_rest(account, keeper, market, price, funding_index, now)
        elif remaining == 0:
            del self.adl_targets[(account, market)]

    def _adl_fill_one(self, account, market, counterparty, remaining, target, initial, bankrupt_long, price,
                      funding_index, step) -> tuple[int, int]:
        require(not self.is_frozen(counterparty), "deleverage: counterparty is being deleveraged")
        pos = self.positions.get((counterparty, market))
        require(pos is not None and (pos.size > 0) != bankrupt_long, "deleverage: not an opposite position")
        bucket = entry_bucket(pos.size, pos.cost, self.scale)
        require(bucket != 0 and bucket == self.adl_ranking().best(market, pos.size > 0),
                "deleverage: not the best-ranked winner")
        value = (pos.size * price) // self.scale
        require(value > pos.cost, "deleverage: counterparty not in profit")
        funding, charge = self.owed(market, pos, funding_index)
        size_abs = abs(pos.size)
        fill = fill_size(remaining, size_abs, value - pos.cost - funding - charge, step, self.scale)
        cost = 0
        if fill > 0:
            filled = initial - remaining
            notional = (cumulative_notional(filled + fill, target, bankrupt_long, self.scale)
                        - cumulative_notional(filled, target, bankrupt_long, self.scale))
            delta = -fill if bankrupt_long else fill
            self._transfer_position(account, counterparty, market, delta, notional, target, funding_index)
            self.events.append(("Deleveraged", account, counterparty, market, -delta, target))
            at_oracle = fill * price // self.scale
            cost = notional - min(notional, at_oracle) if bankrupt_long else at_oracle - min(notional, at_oracle)
        if fill < remaining and fill < size_abs:
            self._adl_rebase(counterparty, market, price, funding_index)
        return fill, cost

    def _adl_rebase(self, account, market: int, price: int, funding_index: int):
        """A winner whose profit ran out: realize its PnL at the oracle, cost := value."""
        pos = self._settle(account, market, self.positions[(account, market)], funding_index)
        value = (pos.size * price) // self.scale
        if value == pos.cost:
            return
        self._credit(account, value - pos.cost)
        self.cost_sums[(market, pos.size > 0)] += abs(value) - abs(pos.cost)
        pos.cost = value

    def _adl_take_rest(self, account, keeper, market: int, price: int, funding_index: int, now: int):
        """Step 3: no winner left, the keeper takes the rest at the oracle price."""
        pos = self.positions[(account, market)]
        self._adl_record_winners(account, market, pos.size, price)
        funding, charge = self.owed(market, pos, funding_index)
        value = (pos.size * price) // self.scale
        loss = max(pos.cost - value + funding + charge, 0)
        size = pos.size
        self._transfer_position(account, keeper, market, -size, abs(size) * price // self.scale, price, funding_index)
        del self.adl_targets[(account, market)]
        self.events.append(("BankruptcyTakeover", account, keeper, market, size, price, loss))
        self._check_liquidator(keeper, now)

    def _adl_record_winners(self, account, market: int, size: int, price: int):
        """Record the opposite positions in profit when the rest goes to the keeper at the oracle."""
        winners = [(a, p.size, p.cost, (p.size * price) // self.scale - p.cost)
                   for (a, m), p in self.positions.items()
                   if m == market and (p.size > 0) != (size > 0) and not self.is_frozen(a) and a != account
                   and (p.size * price) // self.scale > p.cost]
        self.adl_take_rests.append((account, market, price, winners))

    def _adl_take_exhausted(self, account, keeper, now: int):
        for market in range(len(self.markets)):
            if (account, market) not in self.adl_targets:
                continue
            price = self.prices[market]
            if self.adl_exhausted(market, self.position_size(account, market) < 0, price):
                self._adl_take_rest(account, keeper, market, price, self._accrue(market, now, 0, 0), now)

    def _adl_finish_if_flat(self, account) -> bool:
        if any(a == account for (a, _) in self.positions):
            return False
        deficit, insurance_paid = self.adl_resolution.pop(account)
        balance = self.collateral.get(account, 0)
        bad = 0
        if balance < 0:
            bad = -balance
            self.bad_debt += bad
            self._credit(account, -balance)
        self._close_account(account)
        residual = deficit - insurance_paid
        socialized = residual - min(bad, residual)
        self.events.append(("Bankruptcy", account, insurance_paid + socialized + bad, insurance_paid, socialized, bad))
        return True
