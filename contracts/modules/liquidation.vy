# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title liquidation
@notice The loss waterfall. `liquidate` lets a keeper take over part of an account that fell
        below maintenance margin (but still has non-negative equity) at the oracle price, for
        a penalty split between the keeper and the insurance vault. `liquidate_bankrupt`
        resolves an account whose equity is negative: the keeper takes over every position at
        oracle prices, then the deficit is paid by (1) the insurance vault, (2) a haircut on
        the opposite side's open positions (the `haircut` module), (3) explicit bad debt.
@dev Close factor: one `liquidate` call may take at most `close_factor` of the position
     (rounded up), and a partial liquidation must not leave a position whose notional is
     below `dust_notional`; a position at or below that size may be taken whole.
"""

from ..interfaces import IInsuranceVault
from . import fixed_math
from . import market_registry as registry
from . import haircut
from . import clearing

uses: registry
uses: haircut
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
    assert size > 0, "liquidate: zero size"
    assert account != msg.sender, "liquidate: cannot liquidate yourself"
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
    self._transfer_position(account, msg.sender, market, delta, notional, price, funding_index)

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
        clearing._credit(msg.sender, convert(reward, int256))
        clearing._add_vault_revenue(penalty - reward)

    self._check_liquidator(msg.sender)
    log Liquidation(
        account=account,
        liquidator=msg.sender,
        market=market,
        size=delta,
        price=price,
        penalty=penalty,
        liquidator_reward=reward,
    )


@external
def liquidate_bankrupt(account: address):
    """
    @notice Resolve an account whose equity is negative. The caller takes over all of its
            positions at oracle prices; the deficit is covered by the insurance vault (up to
            its per-event limit), then socialized on the opposite side of the markets where
            the account lost money, pro rata to those losses, and whatever is left is
            recorded as bad debt. The account ends flat with zero collateral. The caller
            receives a keeper reward paid by the vault from what it can pay after the
            deficit, at most `keeper_reward` and at most the liquidation penalty on the
            taken-over notional; the caller must meet initial margin.
    @param account The bankrupt account.
    """
    assert account != msg.sender, "liquidate_bankrupt: cannot liquidate yourself"
    assert clearing._health(account).equity < 0, "liquidate_bankrupt: account is not bankrupt"

    losses: uint256[MAX_MARKETS] = empty(uint256[MAX_MARKETS])
    notionals: uint256[MAX_MARKETS] = empty(uint256[MAX_MARKETS])
    charge_longs: bool[MAX_MARKETS] = empty(bool[MAX_MARKETS])
    total_loss: uint256 = 0
    total_notional: uint256 = 0
    # the keeper reward is bounded by what liquidation penalties on the taken-over notional
    # would pay, so splitting a position over many tiny accounts cannot farm rewards
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
        # the market's loss: cost basis above the position's value at the oracle price, plus
        # the funding and haircut charges the position still owes there
        value: int256 = fixed_math._div_floor(position.size * convert(price, int256), convert(clearing._scale(), int256))
        funding: int256 = 0
        charge: uint256 = 0
        funding, charge = clearing._owed(market, position, funding_index)
        lost: int256 = position.cost - value + funding + convert(charge, int256)
        loss: uint256 = 0
        if lost > 0:
            loss = convert(lost, uint256)
        notional: uint256 = fixed_math._mul_div_down(fixed_math._abs(position.size), price, clearing._scale())
        reward_cap += fixed_math._mul_div_down(notional, registry._penalty(market), WAD)
        self._transfer_position(account, msg.sender, market, -position.size, notional, price, funding_index)
        log BankruptcyTakeover(account=account, liquidator=msg.sender, market=market, size=position.size, price=price, loss=loss)
        # a market left without open interest (the keeper netted the other side away) has
        # nobody to charge: its weight goes to the markets that do, so bad debt only appears
        # when none does
        if clearing._long_open_interest[market] != 0:
            losses[market] = loss
            notionals[market] = notional
            charge_longs[market] = position.size < 0
            total_loss += loss
            total_notional += notional

    deficit: uint256 = clearing._close_account(account)

    # 1. the insurance vault
    insurance_paid: uint256 = 0
    reward: uint256 = 0
    insurance_paid, reward = self._cover(deficit, reward_cap)

    # 2. the haircut, split across the markets where the account lost money and someone is
    #    left to charge, pro rata to those losses (if no such position shows a loss, e.g. the
    #    deficit is realized losses beside profitable positions, pro rata to the positions'
    #    notional instead)
    residual: uint256 = deficit - insurance_paid
    socialized: uint256 = 0
    weights: uint256[MAX_MARKETS] = losses
    total_weight: uint256 = total_loss
    if total_loss == 0:
        weights = notionals
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
            socialized += haircut._socialize(
                market, charge_longs[market], share, clearing._long_open_interest[market], clearing._scale()
            )

    # 3. what nobody can be charged for
    bad: uint256 = residual - socialized
    if bad > 0:
        clearing._add_bad_debt(bad)

    if reward > 0:
        clearing._credit(msg.sender, convert(reward, int256))
        log KeeperRewarded(keeper=msg.sender, amount=reward)
    self._check_liquidator(msg.sender)
    log Bankruptcy(account=account, deficit=deficit, insurance_paid=insurance_paid, socialized=socialized, bad_debt=bad)


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
