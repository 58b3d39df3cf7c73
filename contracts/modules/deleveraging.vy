# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title deleveraging
@notice The `adl` waterfall: a bankruptcy whose residual (after the insurance vault) is paid
        by closing the bankrupt positions against the opposite side's winners, best-ranked
        first, at the bankruptcy price (see adl.vy for the ranking and its guarantees).
          0. size the bankruptcy on the book as it stands and ask the vault (liquidation's
             `_open_bankruptcy`); if the vault pays it all, or no market has a winner, the
             other policies' path runs: keeper takeover at oracle prices, rest bad debt;
          1. otherwise freeze the account (`_open`): the vault's payment is credited to it,
             each market where it lost money gets a share of the residual (pro rata to the
             losses of the markets that have winners) and a bankruptcy price that pays that
             share; positions in the other markets go to the keeper at the oracle price;
          2. `_fill`: a keeper names the winners, in ranking order, and each is closed against
             the bankrupt position at the bankruptcy price, at most for its profit; any number
             of calls, each bounded by MAX_COUNTERPARTIES fills;
          3. when a market's winners are exhausted the keeper takes the rest at the oracle
             price (`_take_rest`); once the account is flat, `_finish` records what is still
             owed as bad debt and emits `Bankruptcy`.
@dev A frozen account has negative equity until it is resolved; it can neither trade,
     withdraw nor liquidate (adl._check_active). Its fills all happen at the price fixed at
     the event, and their notionals are cumulative differences (adl._cumulative_notional),
     so once its positions are closed at that price its collateral is exactly the deficit's
     rounding in the protocol's favour, whatever the oracle did in between; only the part a
     keeper takes at the oracle price (no winners left) carries the price move since the
     event, into bad debt or into a surplus returned to the vault.
"""

from . import fixed_math
from . import market_registry as registry
from . import clearing
from . import loss_index
from . import liquidation
from . import adl

uses: registry
uses: loss_index
uses: clearing
uses: liquidation
uses: adl


MAX_COUNTERPARTIES: constant(uint256) = 16
_MAX_MARKETS: constant(uint256) = registry.MAX_MARKETS


# one call's deleveraging round in one market
struct Round:
    account: address
    market: uint256
    # the bankruptcy price and the bankrupt position's size at the event
    target: uint256
    initial: uint256
    bankrupt_long: bool
    price: uint256
    funding_index: int256
    # what closing one unit at the bankruptcy price costs a winner against the oracle now
    step: uint256


# ---------------------------------------------------------------- steps


@internal
def _open(account: address, keeper: address) -> bool:
    """
    @dev Waterfall steps 0 and 1 for an account not yet under resolution.
    @param account The bankrupt account.
    @param keeper The caller; it takes over the positions no winner pays for.
    @return True when the bankruptcy is already resolved (no deleveraging needed).
    """
    adl._check_active(keeper)
    keeper_words: uint256[_MAX_MARKETS] = self._words(keeper)
    self._unrank(account)
    book: liquidation.Bankrupt = liquidation._open_bankruptcy(account, keeper, True)
    shares: uint256[_MAX_MARKETS] = self._shares(book)
    if self._is_zero(shares):
        # the vault paid it all, or nobody is in profit opposite any losing position
        liquidation._close_bankruptcy(account, keeper, keeper, book, 0)
        self._sync(keeper, keeper_words)
        return True
    took_over: bool = self._freeze(account, keeper, book, shares)
    self._sync(keeper, keeper_words)
    if book.reward > 0:
        clearing._credit(keeper, convert(book.reward, int256))
        log liquidation.KeeperRewarded(keeper=keeper, amount=book.reward)
        took_over = True
    if took_over:
        liquidation._check_liquidator(keeper)
    return False


@internal
def _freeze(account: address, keeper: address, book: liquidation.Bankrupt, shares: uint256[_MAX_MARKETS]) -> bool:
    """
    @dev Step 1: freeze the account, credit it the vault's payment, give each market with a
         share of the residual its bankruptcy price, and hand the positions of the other
         markets to the keeper at the event's oracle price.
    @return Whether the keeper took a position over.
    """
    adl._freeze(account, book.deficit, book.insurance_paid)
    if book.insurance_paid > 0:
        clearing._credit(account, convert(book.insurance_paid, int256))
    took_over: bool = False
    count: uint256 = registry.market_count
    for market: uint256 in range(_MAX_MARKETS):
        if market >= count:
            break
        size: int256 = book.sizes[market]
        if size == 0:
            continue
        if shares[market] == 0:
            self._take_at_event(account, keeper, market, book)
            took_over = True
        else:
            adl._set_target(account, market, adl._bankruptcy_price(shares[market], fixed_math._abs(size), book.prices[market], size > 0), fixed_math._abs(size))
    return took_over


@internal
def _fill(account: address, market: uint256, counterparties: DynArray[address, MAX_COUNTERPARTIES], keeper: address):
    """
    @dev Waterfall step 2 in one market: close the bankrupt position against `counterparties`
         at the bankruptcy price (`_fill_one` each), then step 3 for the market if its winners
         are exhausted.
    @param account The account under resolution.
    @param market The market.
    @param counterparties The winners, in ranking order.
    @param keeper The caller.
    """
    r: Round = empty(Round)
    r.account = account
    r.market = market
    target: uint256 = 0
    initial: uint256 = 0
    target, initial = adl._target(account, market)
    r.target = target
    r.initial = initial
    assert r.target != 0, "deleverage: market not under resolution"
    size: int256 = clearing._load(account, market).size
    r.bankrupt_long = size > 0
    r.price = clearing._price(market)
    r.funding_index = clearing._accrue(market, r.price, 0, 0)
    # what closing one unit at the bankruptcy price costs a winner, against the oracle now
    if r.bankrupt_long and r.target > r.price:
        r.step = r.target - r.price
    elif not r.bankrupt_long and r.price > r.target:
        r.step = r.price - r.target
    remaining: uint256 = fixed_math._abs(size)
    paid: uint256 = 0
    for counterparty: address in counterparties:
        if remaining == 0:
            break
        fill: uint256 = 0
        cost: uint256 = 0
        fill, cost = self._fill_one(r, counterparty, remaining)
        remaining -= fill
        paid += cost
    if paid > 0:
        loss_index._record(market, paid)
    if remaining > 0 and adl._is_exhausted(market, not r.bankrupt_long, r.price):
        self._take_rest(account, keeper, market, r.price, r.funding_index)
    elif remaining == 0:
        adl._clear_target(account, market)


@internal
def _fill_one(r: Round, counterparty: address, remaining: uint256) -> (uint256, uint256):
    """
    @dev One winner: it must hold an opposite position in profit at the oracle price, from the
         best non-empty bucket of its side now. It is closed for what the bankrupt position
         still needs (`remaining`), at most its size and at most what its profit pays for; a
         winner whose profit ran out keeps the rest of its position, re-based at the oracle
         price, so it no longer ranks as a winner.
    @return The size filled and what the fill cost the winner against the oracle price.
    """
    assert not adl._is_frozen(counterparty), "deleverage: counterparty is being deleveraged"
    word: uint256 = clearing._position[counterparty][r.market]
    other: clearing.Position = clearing._load(counterparty, r.market)
    assert other.size != 0 and (other.size > 0) != r.bankrupt_long, "deleverage: not an opposite position"
    bucket: uint256 = adl._entry_bucket(other.size, other.cost)
    assert bucket != 0 and bucket == adl._best(r.market, other.size > 0), "deleverage: not the best-ranked winner"
    value: int256 = fixed_math._div_floor(other.size * convert(r.price, int256), convert(clearing._scale(), int256))
    assert value > other.cost, "deleverage: counterparty not in profit"
    funding: int256 = 0
    charge: uint256 = 0
    funding, charge = clearing._owed(r.market, other, r.funding_index)
    size_abs: uint256 = fixed_math._abs(other.size)
    fill: uint256 = adl._fill_size(remaining, size_abs, value - other.cost - funding - convert(charge, int256), r.step)
    cost: uint256 = 0
    if fill > 0:
        cost = self._close_against(r, counterparty, fill, r.initial - remaining)
    if fill < remaining and fill < size_abs:
        self._rebase(counterparty, r.market, r.price, r.funding_index)
    adl._move(r.market, word, clearing._position[counterparty][r.market])
    return fill, cost


@internal
def _take_rest(account: address, keeper: address, market: uint256, price: uint256, funding_index: int256):
    """
    @dev Waterfall step 3 in one market: no winner is left, so the keeper takes the rest of
         the bankrupt position at the oracle price; the share of the deficit it leaves unpaid
         ends as bad debt unless the account has a surplus elsewhere.
    """
    position: clearing.Position = clearing._load(account, market)
    value: int256 = fixed_math._div_floor(position.size * convert(price, int256), convert(clearing._scale(), int256))
    funding: int256 = 0
    charge: uint256 = 0
    funding, charge = clearing._owed(market, position, funding_index)
    lost: int256 = position.cost - value + funding + convert(charge, int256)
    loss: uint256 = 0
    if lost > 0:
        loss = convert(lost, uint256)
    notional: uint256 = fixed_math._mul_div_down(fixed_math._abs(position.size), price, clearing._scale())
    word: uint256 = clearing._position[keeper][market]
    liquidation._transfer_position(account, keeper, market, -position.size, notional, price, funding_index)
    adl._move(market, word, clearing._position[keeper][market])
    adl._clear_target(account, market)
    log liquidation.BankruptcyTakeover(account=account, liquidator=keeper, market=market, size=position.size, price=price, loss=loss)
    liquidation._check_liquidator(keeper)


@internal
def _take_at_event(account: address, keeper: address, market: uint256, book: liquidation.Bankrupt):
    """
    @dev At the event, the keeper takes over a position whose market has no share of the
         residual, at the event's oracle price.
    """
    size: int256 = book.sizes[market]
    liquidation._transfer_position(account, keeper, market, -size, book.notionals[market], book.prices[market], book.funding[market])
    log liquidation.BankruptcyTakeover(account=account, liquidator=keeper, market=market, size=size, price=book.prices[market], loss=book.losses[market])


@internal
def _take_exhausted(account: address, keeper: address):
    """
    @dev Step 3 in every market of the account whose winners are exhausted.
    """
    count: uint256 = registry.market_count
    for market: uint256 in range(_MAX_MARKETS):
        if market >= count:
            break
        target: uint256 = 0
        initial: uint256 = 0
        target, initial = adl._target(account, market)
        if target == 0:
            continue
        price: uint256 = clearing._price(market)
        if adl._is_exhausted(market, clearing._load(account, market).size < 0, price):
            self._take_rest(account, keeper, market, price, clearing._accrue(market, price, 0, 0))


@internal
def _finish_if_flat(account: address) -> bool:
    """
    @dev Once the account under resolution has no position left: record what it still owes
         as bad debt (a surplus goes to the vault), close it and emit `Bankruptcy`, whose
         `socialized` is what the winners paid of the residual.
    @return Whether the resolution ended.
    """
    count: uint256 = registry.market_count
    for market: uint256 in range(_MAX_MARKETS):
        if market >= count:
            break
        if clearing._position[account][market] != 0:
            return False
    deficit: uint256 = 0
    insurance_paid: uint256 = 0
    deficit, insurance_paid = adl._unfreeze(account)
    balance: int256 = clearing._collateral[account]
    bad: uint256 = 0
    if balance < 0:
        bad = convert(-balance, uint256)
        clearing._add_bad_debt(bad)
        clearing._credit(account, -balance)
    clearing._close_account(account)
    residual: uint256 = deficit - insurance_paid
    socialized: uint256 = residual - min(bad, residual)
    log liquidation.Bankruptcy(account=account, deficit=insurance_paid + socialized + bad, insurance_paid=insurance_paid, socialized=socialized, bad_debt=bad)
    return True


# ---------------------------------------------------------------- private


@internal
def _close_against(r: Round, counterparty: address, fill: uint256, filled: uint256) -> uint256:
    """
    @dev One deleveraging fill: `fill` of the bankrupt position, after `filled` already
         closed, moves to `counterparty` (closing its opposite position) at the bankruptcy
         price. The notional is a difference of cumulative notionals (adl._cumulative_notional).
    @return What the fill cost the winner against the oracle price, base units.
    """
    notional: uint256 = adl._cumulative_notional(filled + fill, r.target, r.bankrupt_long) - adl._cumulative_notional(filled, r.target, r.bankrupt_long)
    delta: int256 = convert(fill, int256)
    if r.bankrupt_long:
        delta = -delta
    liquidation._transfer_position(r.account, counterparty, r.market, delta, notional, r.target, r.funding_index)
    log adl.Deleveraged(account=r.account, counterparty=counterparty, market=r.market, size=-delta, price=r.target)
    at_oracle: uint256 = fixed_math._mul_div_down(fill, r.price, clearing._scale())
    if r.bankrupt_long:
        return notional - min(notional, at_oracle)
    return at_oracle - min(notional, at_oracle)


@internal
def _rebase(account: address, market: uint256, price: uint256, funding_index: int256):
    """
    @dev Realize a position's PnL at the oracle price and make that price its cost basis
         (equity unchanged: collateral and cost move together; the value rounds down as in
         every equity view).
    """
    position: clearing.Position = clearing._settle(account, market, clearing._load(account, market), funding_index)
    if position.size == 0:
        return
    value: int256 = fixed_math._div_floor(position.size * convert(price, int256), convert(clearing._scale(), int256))
    if value == position.cost:
        return
    clearing._collateral[account] += value - position.cost
    clearing._position[account][market] = fixed_math._pack(position.size, value)


@internal
@view
def _words(account: address) -> uint256[_MAX_MARKETS]:
    """
    @dev An account's position words in every market (to re-rank it after a takeover).
    """
    words: uint256[_MAX_MARKETS] = empty(uint256[_MAX_MARKETS])
    count: uint256 = registry.market_count
    for market: uint256 in range(_MAX_MARKETS):
        if market >= count:
            break
        words[market] = clearing._position[account][market]
    return words


@internal
def _unrank(account: address):
    """
    @dev Take an account's positions out of the ranking (it is being resolved).
    """
    count: uint256 = registry.market_count
    for market: uint256 in range(_MAX_MARKETS):
        if market >= count:
            break
        word: uint256 = clearing._position[account][market]
        if word != 0:
            adl._move(market, word, 0)


@internal
@pure
def _is_zero(shares: uint256[_MAX_MARKETS]) -> bool:
    """
    @dev Whether no market has a share of the residual.
    """
    for share: uint256 in shares:
        if share != 0:
            return False
    return True


@internal
def _sync(account: address, before: uint256[_MAX_MARKETS]):
    """
    @dev Re-rank an account's positions that changed since `before`.
    """
    count: uint256 = registry.market_count
    for market: uint256 in range(_MAX_MARKETS):
        if market >= count:
            break
        now: uint256 = clearing._position[account][market]
        if now != before[market]:
            adl._move(market, before[market], now)


@internal
@view
def _shares(book: liquidation.Bankrupt) -> uint256[_MAX_MARKETS]:
    """
    @dev Each market's share of the residual for deleveraging: pro rata to the losses of the
         markets where someone opposite is in profit (by notional if none of those lost
         money); shares round up, the last capped so they sum to exactly the residual.
         All zero when the vault paid everything or no losing market has a winner.
    """
    shares: uint256[_MAX_MARKETS] = empty(uint256[_MAX_MARKETS])
    residual: uint256 = book.deficit - book.insurance_paid
    if residual == 0:
        return shares
    losses: uint256[_MAX_MARKETS] = empty(uint256[_MAX_MARKETS])
    notionals: uint256[_MAX_MARKETS] = empty(uint256[_MAX_MARKETS])
    total_loss: uint256 = 0
    total_notional: uint256 = 0
    count: uint256 = registry.market_count
    for market: uint256 in range(_MAX_MARKETS):
        if market >= count:
            break
        if book.sizes[market] == 0 or adl._is_exhausted(market, book.charge_longs[market], book.prices[market]):
            continue
        losses[market] = book.losses[market]
        notionals[market] = book.notionals[market]
        total_loss += book.losses[market]
        total_notional += book.notionals[market]
    weights: uint256[_MAX_MARKETS] = losses
    total: uint256 = total_loss
    if total_loss == 0:
        weights = notionals
        total = total_notional
    if total == 0:
        return shares
    allocated: uint256 = 0
    for market: uint256 in range(_MAX_MARKETS):
        if market >= count:
            break
        if weights[market] == 0:
            continue
        share: uint256 = min(fixed_math._mul_div_up(residual, weights[market], total), residual - allocated)
        allocated += share
        shares[market] = share
    return shares
