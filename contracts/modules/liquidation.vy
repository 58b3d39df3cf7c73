# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title liquidation
@notice The loss waterfall. `liquidate` lets a keeper take over part of an account that fell
        below maintenance margin (but still has non-negative equity) at the oracle price, for
        a penalty split between the keeper and the insurance vault. A bankruptcy (negative
        equity) is resolved by the deployable's `liquidate_bankrupt` / `backstop_bankrupt`,
        which run the numbered steps here around the deployment's loss policy:
          0. size it on the book as it stands (`_open_bankruptcy`), before any takeover;
          1. the insurance vault pays what it can (`_cover`);
          2. the loss policy charges the residual (the deployable calls its `_charge`);
          3. the rest is bad debt, the deficit is written off and the positions move at the
             oracle price to the keeper or to the backstop account (`_close_bankruptcy`).
@dev Close factor: one `liquidate` call may take at most `close_factor` of the position
     (rounded up), and a partial liquidation must not leave a position whose notional is
     below `dust_notional`; a position at or below that size may be taken whole.
"""

from ..interfaces import IInsuranceVault
from . import fixed_math
from . import market_registry as registry
from . import clearing

uses: registry
uses: clearing


event Liquidation:
    account: indexed(address)
    liquidator: indexed(address)
    market: indexed(uint256)
    size: int256
    price: uint256
    penalty: uint256
    liquidator_reward: uint256


event Bankruptcy:
    account: indexed(address)
    deficit: uint256
    insurance_paid: uint256
    socialized: uint256
    bad_debt: uint256


event BankruptcyTakeover:
    account: indexed(address)
    liquidator: indexed(address)
    market: indexed(uint256)
    size: int256
    price: uint256
    loss: uint256


event KeeperRewarded:
    keeper: indexed(address)
    amount: uint256


WAD: constant(uint256) = registry.WAD  # constants.vy
MAX_MARKETS: constant(uint256) = registry.MAX_MARKETS


# a bankruptcy as sized on the book before the takeover (every array indexed by market)
struct Bankrupt:
    deficit: uint256
    insurance_paid: uint256
    reward: uint256
    # the residual's share per market, which the loss policy is asked to charge
    shares: uint256[MAX_MARKETS]
    # the side to charge: opposite to the bankrupt position
    charge_longs: bool[MAX_MARKETS]
    sizes: int256[MAX_MARKETS]
    prices: uint256[MAX_MARKETS]
    funding: int256[MAX_MARKETS]
    notionals: uint256[MAX_MARKETS]
    losses: uint256[MAX_MARKETS]


@external
def liquidate(account: address, market: uint256, size: uint256):
    """
    @notice Take over `size` (unsigned, 1e18 = one base unit) of `account`'s position in
            `market` at the oracle price. Allowed only while the account is below maintenance
            margin and its equity is not negative. The account pays a penalty on the
            liquidated notional (capped at its remaining equity), split between the caller
            and the insurance vault. The caller must meet initial margin afterwards.
    @param account The account to liquidate.
    @param market The market whose position is reduced.
    @param size How much to take over; at most `max_liquidatable_size(account, market)`.
    """
    self._liquidate(account, market, size, msg.sender)


# adl: split so a deployable can wrap `liquidate` (ADL keeps its ranking in step)
@internal
def _liquidate(account: address, market: uint256, size: uint256, liquidator: address):
    """
    @dev `liquidate` by `liquidator`.
    """
    assert size > 0, "liquidate: zero size"
    assert account != liquidator, "liquidate: cannot liquidate yourself"
    registry._check_market(market)
    health: clearing.Health = clearing._health(account)
    assert health.equity < convert(health.maintenance_margin, int256), "liquidate: account is healthy"
    assert health.equity >= 0, "liquidate: account is bankrupt, use liquidate_bankrupt"

    params: registry.MarketParams = registry._params(market)
    price: uint256 = clearing._price(market)
    funding_index: int256 = clearing._accrue(market, price, 0, 0)
    position_size: int256 = clearing._load(account, market).size
    assert position_size != 0, "liquidate: no position in this market"
    position_abs: uint256 = fixed_math._abs(position_size)
    assert size <= position_abs, "liquidate: size above position"
    assert size <= self._max_size(position_abs, price, params.close_factor), "liquidate: size above close factor"
    if size < position_abs:
        left: uint256 = fixed_math._mul_div_down(position_abs - size, price, clearing._scale())
        assert left >= registry.dust_notional, "liquidate: would leave a dust position"

    delta: int256 = convert(size, int256)
    if position_size > 0:
        delta = -delta
    # the same notional enters both sides, so its rounding cancels out
    notional: uint256 = fixed_math._mul_div_down(size, price, clearing._scale())
    self._transfer_position(account, liquidator, market, delta, notional, price, funding_index)

    # penalty rounded up, then capped at the equity the account has left
    penalty: uint256 = fixed_math._mul_div_up(notional, params.liquidation_penalty, WAD)
    left_equity: int256 = clearing._health(account).equity
    if left_equity <= 0:
        penalty = 0
    elif penalty > convert(left_equity, uint256):
        penalty = convert(left_equity, uint256)
    # the keeper's share rounds down, the vault gets the rest
    reward: uint256 = penalty * params.liquidator_share // WAD
    if penalty > 0:
        clearing._credit(account, -convert(penalty, int256))
        clearing._credit(liquidator, convert(reward, int256))
        clearing._add_vault_revenue(penalty - reward)

    self._check_liquidator(liquidator)
    log Liquidation(
        account=account,
        liquidator=liquidator,
        market=market,
        size=delta,
        price=price,
        penalty=penalty,
        liquidator_reward=reward,
    )


@internal
def _open_bankruptcy(account: address, keeper: address, with_reward: bool) -> Bankrupt:
    """
    @dev Waterfall steps 0 and 1. Size the bankruptcy on the book as it stands, before any
         takeover: the deficit (minus equity), each market's loss (cost basis above the
         position's value at the oracle price, plus the funding and loss-policy charges the
         position still owes there), the side to charge and that market's share of the
         residual. Then ask the insurance vault for the deficit (and, `with_reward`, the
         keeper reward). Because nothing has moved yet, a keeper holding the opposite side is
         charged like every other holder: the policy's hook runs before `_close_bankruptcy`
         transfers the positions.
    @param account The bankrupt account.
    @param keeper The caller.
    @param with_reward Whether the caller earns the keeper reward.
    @return The book, the vault's payment and each market's share of the residual.
    """
    assert account != keeper, "liquidate_bankrupt: cannot liquidate yourself"
    equity: int256 = clearing._health(account).equity
    assert equity < 0, "liquidate_bankrupt: account is not bankrupt"

    book: Bankrupt = empty(Bankrupt)
    book.deficit = convert(-equity, uint256)
    total_loss: uint256 = 0
    total_notional: uint256 = 0
    # the keeper reward is bounded by what liquidation penalties on the taken-over notional
    # would pay, so splitting a position over many small accounts cannot farm rewards
    reward_cap: uint256 = 0
    count: uint256 = registry.market_count
    for market: uint256 in range(MAX_MARKETS):
        if market >= count:
            break
        position: clearing.Position = clearing._load(account, market)
        if position.size == 0:
            continue
        price: uint256 = clearing._price(market)
        funding_index: int256 = clearing._accrue(market, price, 0, 0)
        value: int256 = fixed_math._div_floor(position.size * convert(price, int256), convert(clearing._scale(), int256))
        funding: int256 = 0
        charge: uint256 = 0
        funding, charge = clearing._owed(market, position, funding_index)
        lost: int256 = position.cost - value + funding + convert(charge, int256)
        if lost > 0:
            book.losses[market] = convert(lost, uint256)
        notional: uint256 = fixed_math._mul_div_down(fixed_math._abs(position.size), price, clearing._scale())
        reward_cap += fixed_math._mul_div_down(notional, registry._penalty(market), WAD)
        book.sizes[market] = position.size
        book.prices[market] = price
        book.funding[market] = funding_index
        book.notionals[market] = notional
        book.charge_longs[market] = position.size < 0
        total_loss += book.losses[market]
        total_notional += notional

    # 1. the insurance vault
    if not with_reward:
        reward_cap = 0
    book.insurance_paid, book.reward = self._cover(book.deficit, reward_cap)

    # the residual is split across the markets where the account lost money, pro rata to
    # those losses (if no position shows a loss, e.g. the deficit is realized losses beside
    # profitable positions, pro rata to the positions' notional instead)
    residual: uint256 = book.deficit - book.insurance_paid
    weights: uint256[MAX_MARKETS] = book.losses
    total_weight: uint256 = total_loss
    if total_loss == 0:
        weights = book.notionals
        total_weight = total_notional
    if residual > 0 and total_weight > 0:
        allocated: uint256 = 0
        for market: uint256 in range(MAX_MARKETS):
            if market >= count:
                break
            if weights[market] == 0:
                continue
            # each market's share rounds up; the last ones are capped so the shares sum to
            # exactly the residual
            share: uint256 = min(fixed_math._mul_div_up(residual, weights[market], total_weight), residual - allocated)
            allocated += share
            book.shares[market] = share
    return book


@internal
def _close_bankruptcy(account: address, keeper: address, receiver: address, book: Bankrupt, socialized: uint256):
    """
    @dev Waterfall step 3 and the takeover, after the policy charged `socialized` of the
         residual: record the rest as bad debt, write the deficit off (the account's equity
         is then exactly zero), move every position at the oracle price to `receiver` (the
         keeper, or this contract's own backstop account) and pay the keeper its reward.
    @param account The bankrupt account.
    @param keeper The caller, who receives the reward.
    @param receiver Who takes the positions over.
    @param book What `_open_bankruptcy` returned.
    @param socialized What the loss policy charged.
    """
    residual: uint256 = book.deficit - book.insurance_paid
    bad: uint256 = residual - socialized
    if bad > 0:
        clearing._add_bad_debt(bad)
    clearing._credit(account, convert(book.deficit, int256))

    count: uint256 = registry.market_count
    for market: uint256 in range(MAX_MARKETS):
        if market >= count:
            break
        size: int256 = book.sizes[market]
        if size == 0:
            continue
        self._transfer_position(account, receiver, market, -size, book.notionals[market], book.prices[market], book.funding[market])
        log BankruptcyTakeover(account=account, liquidator=receiver, market=market, size=size, price=book.prices[market], loss=book.losses[market])
    # the positions realized at the oracle price leave a few base units of rounding at most,
    # never a deficit; the remainder goes to the vault
    assert clearing._close_account(account) == 0, "liquidate_bankrupt: deficit left"

    if book.reward > 0:
        clearing._credit(keeper, convert(book.reward, int256))
        log KeeperRewarded(keeper=keeper, amount=book.reward)
    if receiver == keeper:
        self._check_liquidator(keeper)
    log Bankruptcy(account=account, deficit=book.deficit, insurance_paid=book.insurance_paid, socialized=socialized, bad_debt=bad)


@external
@view
def max_liquidatable_size(account: address, market: uint256) -> uint256:
    """
    @notice The most one `liquidate` call may take of `account`'s position in `market` now
            (0 if the account is not liquidatable or is bankrupt).
    """
    registry._check_market(market)
    health: clearing.Health = clearing._health(account)
    if health.equity >= convert(health.maintenance_margin, int256) or health.equity < 0:
        return 0
    position_abs: uint256 = fixed_math._abs(clearing._load(account, market).size)
    if position_abs == 0:
        return 0
    price: uint256 = clearing._price_view(market)
    return self._max_size(position_abs, price, registry._params(market).close_factor)


@internal
@view
def _max_size(position_abs: uint256, price: uint256, close_factor: uint256) -> uint256:
    # rounded up so a close factor of 50 % can always finish a position in two calls
    limit: uint256 = fixed_math._mul_div_up(position_abs, close_factor, WAD)
    if limit >= position_abs:
        return position_abs
    # a position that would leave dust after the largest partial take may be taken whole
    if fixed_math._mul_div_down(position_abs - limit, price, clearing._scale()) < registry.dust_notional:
        return position_abs
    return limit


@internal
def _transfer_position(account: address, liquidator: address, market: uint256, delta: int256, notional: uint256, price: uint256, funding_index: int256):
    account_old: int256 = 0
    account_new: int256 = 0
    keeper_old: int256 = 0
    keeper_new: int256 = 0
    account_old, account_new = clearing._apply_fill(account, market, delta, notional, price, funding_index)
    keeper_old, keeper_new = clearing._apply_fill(liquidator, market, -delta, notional, price, funding_index)
    oi_delta: int256 = clearing._long_delta(account_old, account_new) + clearing._long_delta(keeper_old, keeper_new)
    if oi_delta != 0:
        # a takeover never raises open interest: the keeper takes the side the account leaves
        clearing._update_open_interest(market, oi_delta)


@internal
def _cover(deficit: uint256, reward_cap: uint256) -> (uint256, uint256):
    """
    @dev Ask the vault for the deficit plus the keeper reward (min of `keeper_reward` and
         `reward_cap`); the deficit is served first. Pending vault revenue is swept to it
         first: it is the vault's money.
    """
    vault: address = clearing.insurance_vault
    if vault == empty(address):
        return 0, 0
    clearing._sweep(vault)
    request: uint256 = deficit + min(registry.keeper_reward, reward_cap)
    if request == 0:
        return 0, 0
    paid: uint256 = extcall IInsuranceVault(vault).cover(request)
    assert paid <= request, "liquidate_bankrupt: vault paid more than asked"
    insurance_paid: uint256 = min(paid, deficit)
    return insurance_paid, paid - insurance_paid


@internal
def _check_liquidator(liquidator: address):
    health: clearing.Health = clearing._health(liquidator)
    assert health.equity >= convert(health.initial_margin, int256), "liquidate: liquidator below initial margin"
