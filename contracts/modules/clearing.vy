# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title clearing
@notice Margin accounts and trading: one collateral token, cross-margin over every market,
        EIP-712 signed maker orders filled by takers, maker/taker fees, premium-based funding
        through a lazy cumulative index, and every account view.
@dev Accounting model (all amounts in collateral base units):
       equity(a) = collateral(a) + sum_m [ floor(size * price / SCALE) - cost - owed_m ]
     where `cost` is the signed notional paid for the open position (long > 0, short < 0),
     `owed_m` the pending funding and loss-policy charge, and SCALE = 10**(36 - decimals).
     A fill moves the same notional into both sides' `cost`, so the sum of costs over all
     accounts stays zero and the conservation identity of DESIGN.md holds exactly; moving
     realized PnL from `cost` into `collateral` leaves equity unchanged. Every rounding goes
     in the protocol's favour and is commented where it happens.
"""

from ethereum.ercs import IERC20
from ..interfaces import IAggregatorV3
from ..interfaces import IInsuranceVault
from . import fixed_math
from . import eip712_orders as orders
from . import ownable_2step as ownable
from . import market_registry as registry
from . import loss_index
from . import constants

uses: ownable
uses: registry
uses: loss_index


struct Position:
    size: int256
    cost: int256
    funding_snapshot: int256
    # the loss policy's stamp of the position's side at the last touch (loss_index._stamp)
    policy_stamp: int256
    # the position's (X, Y) snapshot word, loaded only when it missed an event (loss_index)
    policy_xy: uint256


struct Health:
    equity: int256
    initial_margin: uint256
    maintenance_margin: uint256
    owed: int256


struct AccountSummary:
    collateral: int256
    equity: int256
    initial_margin: uint256
    maintenance_margin: uint256


event Deposit:
    account: indexed(address)
    amount: uint256


event Withdraw:
    account: indexed(address)
    amount: uint256


event Trade:
    digest: indexed(bytes32)
    maker: indexed(address)
    taker: indexed(address)
    market: uint256
    maker_size: int256
    price: uint256
    maker_fee: uint256
    taker_fee: uint256


event OrderCancelled:
    digest: indexed(bytes32)
    account: indexed(address)


event Funding:
    market: indexed(uint256)
    index: int256
    premium: int256


event Settled:
    account: indexed(address)
    market: indexed(uint256)
    funding: int256
    # the loss policy's charge (named `haircut` for the simulation and indexers; any policy)
    haircut: uint256
    excess: uint256


event InsuranceVaultSet:
    vault: indexed(address)


event FeesSwept:
    vault: indexed(address)
    to_vault: uint256
    to_protocol: uint256


event ProtocolFeesWithdrawn:
    receiver: indexed(address)
    amount: uint256


event BadDebtRepaid:
    amount: uint256


WAD: constant(uint256) = registry.WAD  # constants.vy
MAX_MARKETS: constant(uint256) = registry.MAX_MARKETS
MAX_SUMMARY_BATCH: constant(uint256) = constants.MAX_SUMMARY_BATCH
CANCELLED: constant(uint256) = 2**255
_TIME_MASK: constant(uint256) = 2**64 - 1
_OI_USED: constant(uint256) = 2**255

collateral_token: public(immutable(address))
# notional in base units = size * price / SCALE
SCALE: immutable(uint256)
SCALE_INT: immutable(int256)

insurance_vault: public(address)
bad_debt: public(uint256)
protocol_fees: public(uint256)
# filled size per order digest; the top bit marks a cancelled order (one storage read per fill)
_fills: HashMap[bytes32, uint256]

_collateral: HashMap[address, int256]
# packed int128 pair: size (low) | cost (high)
_position: HashMap[address, HashMap[uint256, uint256]]
# packed int128 pair: funding index snapshot (low) | loss policy stamp (high)
_snapshot: HashMap[address, HashMap[uint256, uint256]]
# total long size per market (`_open_interest`); bit 255 (_OI_USED) stays set once a fill has
# written it, so a market that empties and fills again rewrites the slot (2,900 gas) instead
# of creating it (20,000); open interest itself stays below 2**255 (it converts to int256)
_long_open_interest: HashMap[uint256, uint256]
# a market's funding, one word (a fill reads it once): the index (int128, high 128 bits) |
# the premium (int64, bits 64..127) | the last accrual's timestamp (uint64, low 64 bits). The
# index fits int128 as every position's snapshot of it always had to (`_pack` reverts past
# it); |premium| <= MAX_FUNDING_PREMIUM = 1e17 < 2**63; a timestamp < 2**64 s.
_funding: HashMap[uint256, uint256]
# fees not yet split between vault and protocol, and vault revenue waiting to be swept
_fees_unswept: uint256
_vault_pending: uint256

# Oracle prices read in this transaction. A Chainlink answer cannot change inside a
# transaction that does not itself update the feed, so one read per market is enough.
_price_cache: transient(HashMap[uint256, uint256])


@deploy
def __init__(collateral: address, decimals: uint256):
    assert decimals <= 18, "clearing: token decimals above 18"
    collateral_token = collateral
    SCALE = 10 ** (36 - decimals)
    SCALE_INT = convert(SCALE, int256)


# ---------------------------------------------------------------- admin


@external
def set_insurance_vault(vault: address):
    """
    @notice Wire the insurance vault (once). Fee shares and penalties accrued before are
            swept to it on the next `sweep_fees` or bankruptcy.
    @param vault An InsuranceVault over this Clearinghouse's collateral token.
    """
    ownable._check_owner()
    assert vault != empty(address), "clearing: zero vault"
    assert self.insurance_vault == empty(address), "clearing: vault already set"
    assert staticcall IInsuranceVault(vault).asset() == collateral_token, "clearing: vault asset mismatch"
    # the wiring is one-shot: a vault that would refuse our revenue and cover calls would
    # block sweeps and every bankruptcy forever
    assert staticcall IInsuranceVault(vault).clearinghouse() == self, "clearing: vault bound to another clearinghouse"
    self.insurance_vault = vault
    log InsuranceVaultSet(vault=vault)


@external
def sweep_fees():
    """
    @notice Send the insurance vault its share of accrued fees and penalties (raising its
            share price); the rest of the fees becomes withdrawable protocol fees. Anyone
            may call it.
    """
    vault: address = self.insurance_vault
    assert vault != empty(address), "clearing: no insurance vault"
    self._sweep(vault)


@external
def withdraw_protocol_fees(receiver: address, amount: uint256):
    """
    @notice Owner withdraws protocol fees. The fees earned so far are split first, and the
            protocol's part pays down bad debt before any of it is withdrawable (fees are
            junior to traders): while bad debt remains, `protocol_fees()` is 0 and this
            reverts.
    @param receiver Where the fees go.
    @param amount Collateral base units, at most `protocol_fees()` after the split.
    """
    ownable._check_owner()
    self._split_fees()
    assert receiver != empty(address), "clearing: zero receiver"
    assert amount > 0, "clearing: zero amount"
    assert amount <= self.protocol_fees, "clearing: exceeds protocol fees"
    self.protocol_fees -= amount
    assert extcall IERC20(collateral_token).transfer(receiver, amount, default_return_value=True), "clearing: transfer failed"
    log ProtocolFeesWithdrawn(receiver=receiver, amount=amount)


@external
def set_margins(market: uint256, imr: uint256, mmr: uint256):
    """
    @notice Set a market's initial and maintenance margin ratios (0 < mmr < imr <= 1e18); the
            liquidation penalty must stay at or below the new mmr. While the market has open
            positions a raise of mmr would make some liquidatable at once, so it is bounded:
            at most 1 percentage point per call and one raise per day, giving traders time to
            add collateral. Lowering mmr, and any imr change, act at once.
    @param market The market.
    @param imr Initial-margin ratio, 1e18 = 100 %.
    @param mmr Maintenance-margin ratio.
    """
    ownable._check_owner()
    registry._check_market(market)
    registry._set_margins(market, imr, mmr, self._open_interest(market) != 0)


@external
def set_funding_params(market: uint256, funding_period: uint256, max_funding_premium: uint256):
    """
    @notice Funding: a premium p (traded price over oracle, capped at `max_funding_premium`,
            decaying by 2 * cap per period without fills) is paid by longs to shorts (or
            back) at p * price per unit over `funding_period` seconds (60 s .. 30 days;
            cap <= 10 %). Funding so far is accrued under the old parameters first, so the
            change acts only forward (this reads the oracle: it must be fresh).
    @param market The market.
    @param funding_period Seconds over which a premium is paid in full.
    @param max_funding_premium The premium cap, 1e18 = 100 % per period.
    """
    ownable._check_owner()
    registry._check_market(market)
    self._accrue(market, self._price(market), 0, 0)
    registry._set_funding_params(market, funding_period, max_funding_premium)


@external
def set_insurance_fee_share(share: uint256):
    """
    @notice The share of trading fees (1e18 = 100 %) that goes to the insurance vault. Fees
            earned so far are split under the old share first, so the change acts only
            forward.
    @param share The vault's share, at most 1e18.
    """
    ownable._check_owner()
    self._split_fees()
    registry._set_insurance_fee_share(share)


# ---------------------------------------------------------------- trader


@external
def deposit(amount: uint256):
    """
    @notice Deposit collateral into the caller's margin account (approve the token first).
            Allowed while paused: it only reduces risk.
    @param amount Collateral base units.
    """
    assert amount > 0, "deposit: zero amount"
    self._collateral[msg.sender] += convert(amount, int256)
    assert extcall IERC20(collateral_token).transferFrom(msg.sender, self, amount, default_return_value=True), "deposit: transfer failed"
    log Deposit(account=msg.sender, amount=amount)


@external
def withdraw(amount: uint256):
    """
    @notice Withdraw collateral. Limited to the settled collateral (unrealized profit counts
            toward margin but cannot be taken out) and to what keeps the account at or above
            its initial margin. Allowed while paused.
    @param amount Collateral base units.
    """
    self._withdraw(amount, msg.sender)


# adl: split so a deployable can wrap `withdraw` (ADL keeps its ranking in step)
@internal
def _withdraw(amount: uint256, account: address):
    """
    @dev `withdraw` for `account`.
    """
    assert amount > 0, "withdraw: zero amount"
    health: Health = self._health(account)
    amount_int: int256 = convert(amount, int256)
    assert amount_int <= self._collateral[account] - health.owed, "withdraw: exceeds settled collateral"
    assert health.equity - amount_int >= convert(health.initial_margin, int256), "withdraw: below initial margin"
    self._collateral[account] -= amount_int
    assert extcall IERC20(collateral_token).transfer(account, amount, default_return_value=True), "withdraw: transfer failed"
    log Withdraw(account=account, amount=amount)


@external
def trade(order: orders.Order, signature: Bytes[65], fill_size: uint256):
    """
    @notice Fill `fill_size` of a maker's signed order at its limit price; the caller is the
            taker and takes the opposite side. Both accounts must meet initial margin after
            the fill unless it only reduces their exposure (then equity must stay >= 0, and
            an account left below maintenance margin must not trade worse than the oracle).
    @param order The maker's order: size > 0 the maker buys, < 0 the maker sells.
    @param signature The maker's EIP-712 signature, 65 bytes r || s || v.
    @param fill_size How much of |order.size| to fill now (1e18 = one base unit).
    """
    self._trade(order, signature, fill_size, msg.sender)


# adl: split so a deployable can wrap `trade` (ADL keeps its ranking in step)
@internal
def _trade(order: orders.Order, signature: Bytes[65], fill_size: uint256, taker: address):
    """
    @dev `trade` with `taker` as the taker.
    """
    assert fill_size > 0, "trade: zero fill size"
    assert order.size != 0, "trade: zero order size"
    market: uint256 = order.market
    registry._check_market(market)
    assert block.timestamp <= order.expiry, "trade: order expired"
    maker: address = order.account
    assert maker != taker, "trade: maker is the taker"
    digest: bytes32 = orders._digest(order)
    fills: uint256 = self._fills[digest]
    assert fills & CANCELLED == 0, "trade: order cancelled"
    total_filled: uint256 = fills + fill_size
    assert total_filled <= fixed_math._abs(order.size), "trade: fill exceeds order size"
    assert orders._recover(digest, signature) == maker, "trade: signer is not the order account"
    self._fills[digest] = total_filled

    params: registry.MarketParams = registry._params(market)
    price: uint256 = self._price(market)
    fill_price: uint256 = order.limit_price
    deviation: uint256 = fill_price - price if fill_price > price else price - fill_price
    assert deviation * WAD <= price * params.price_band, "trade: price outside band"

    # premium of this fill over the index, capped
    premium: int256 = convert(min(deviation * WAD // price, params.max_funding_premium), int256)
    if fill_price < price:
        premium = -premium
    funding_index: int256 = self._accrue(market, price, fill_size, premium)

    maker_delta: int256 = convert(fill_size, int256)
    if order.size < 0:
        maker_delta = -maker_delta
    # the same notional enters both sides' cost, so its rounding cancels out
    notional: uint256 = fixed_math._mul_div_down(fill_size, fill_price, SCALE)
    maker_old: int256 = 0
    maker_new: int256 = 0
    taker_old: int256 = 0
    taker_new: int256 = 0
    maker_old, maker_new = self._apply_fill(maker, market, maker_delta, notional, fill_price, funding_index)
    taker_old, taker_new = self._apply_fill(taker, market, -maker_delta, notional, fill_price, funding_index)

    # fees rounded up
    maker_fee: uint256 = fixed_math._mul_div_up(notional, params.maker_fee, WAD)
    taker_fee: uint256 = fixed_math._mul_div_up(notional, params.taker_fee, WAD)
    self._collateral[maker] -= convert(maker_fee, int256)
    self._collateral[taker] -= convert(taker_fee, int256)
    self._fees_unswept += maker_fee + taker_fee

    oi_delta: int256 = self._long_delta(maker_old, maker_new) + self._long_delta(taker_old, taker_new)
    if oi_delta != 0:
        open_interest: uint256 = self._update_open_interest(market, oi_delta)
        if oi_delta > 0:
            assert open_interest <= registry.max_open_interest[market], "trade: open interest cap"

    # off the oracle exactly one side trades worse than it: the buyer above, the seller below
    maker_worse: bool = (fill_price > price) == (order.size > 0)
    self._check_after_fill(maker, maker_old, maker_new, deviation > 0 and maker_worse)
    self._check_after_fill(taker, taker_old, taker_new, deviation > 0 and not maker_worse)
    log Trade(
        digest=digest,
        maker=maker,
        taker=taker,
        market=market,
        maker_size=maker_delta,
        price=fill_price,
        maker_fee=maker_fee,
        taker_fee=taker_fee,
    )


@external
def cancel(order: orders.Order):
    """
    @notice Cancel one of the caller's signed orders; its unfilled part can never be filled.
    """
    assert msg.sender == order.account, "cancel: caller is not the order account"
    digest: bytes32 = orders._digest(order)
    fills: uint256 = self._fills[digest]
    assert fills & CANCELLED == 0, "cancel: already cancelled"
    self._fills[digest] = fills | CANCELLED
    log OrderCancelled(digest=digest, account=msg.sender)


@external
def settle(account: address):
    """
    @notice Settle an account's pending funding and loss-policy charges into its collateral
            (every view already includes them; this only makes them explicit). Anyone may
            call it.
    """
    for market: uint256 in range(MAX_MARKETS):
        if market >= registry.market_count:
            break
        if self._position[account][market] == 0:
            continue
        price: uint256 = self._price(market)
        funding_index: int256 = self._accrue(market, price, 0, 0)
        self._settle(account, market, self._load(account, market), funding_index)


# ---------------------------------------------------------------- views


@external
@view
def order_digest(order: orders.Order) -> bytes32:
    """
    @notice The EIP-712 digest a maker signs for `order`.
    """
    return orders._digest(order)


@external
@view
def filled(digest: bytes32) -> uint256:
    """
    @notice How much of the order with this digest has been filled (never above |size|).
    """
    return self._fills[digest] & (CANCELLED - 1)


@external
@view
def cancelled(digest: bytes32) -> bool:
    """
    @notice Whether the order with this digest was cancelled by its account.
    """
    return self._fills[digest] & CANCELLED != 0


@external
@view
def domain_separator() -> bytes32:
    """
    @notice The EIP-712 domain separator (name "Clawback", version "1", this chain, this contract).
    """
    return orders._domain_separator()


@external
@view
def collateral(account: address) -> int256:
    """
    @notice Settled balance: deposits, realized PnL, fees, and funding and loss-policy charges
            settled up to now. May be negative while unrealized profit covers it.
    """
    return self._collateral[account] - self._health(account).owed


@external
@view
def position_size(account: address, market: uint256) -> int256:
    """
    @notice Signed position size (1e18 = one base unit; long > 0, short < 0).
    """
    return fixed_math._unpack_lo(self._position[account][market])


@external
@view
def equity(account: address) -> int256:
    """
    @notice Collateral plus unrealized PnL at oracle prices, minus pending funding and
            loss-policy charges. Rounded down.
    """
    return self._health(account).equity


@external
@view
def initial_margin(account: address) -> uint256:
    """
    @notice Sum over markets of |size| * price * imr, rounded up.
    """
    return self._health(account).initial_margin


@external
@view
def maintenance_margin(account: address) -> uint256:
    """
    @notice Sum over markets of |size| * price * mmr, rounded up.
    """
    return self._health(account).maintenance_margin


@external
@view
def is_liquidatable(account: address) -> bool:
    """
    @notice True when equity is below the maintenance margin.
    """
    health: Health = self._health(account)
    return health.equity < convert(health.maintenance_margin, int256)


@external
@view
def account_summary(account: address) -> AccountSummary:
    """
    @notice collateral, equity, initial and maintenance margin in one call.
    """
    return self._summary(account)


@external
def account_summaries(accounts: DynArray[address, MAX_SUMMARY_BATCH]) -> DynArray[AccountSummary, MAX_SUMMARY_BATCH]:
    """
    @notice `account_summary` of many accounts in one call, meant for eth_call (off-chain
            reads, keepers, indexers). Not a view: it changes no state except the
            per-transaction price cache, so each market's oracle is read once for the whole
            batch instead of once per account. Element i equals `account_summary(accounts[i])`
            (same order, duplicates allowed), and the call reverts exactly when one of those
            would (a stale price in a market no listed account holds does not revert it).
            A STATICCALL cannot run it (the cache is transient storage).
    @dev The precedent is Uniswap V3's QuoterV2: an external function for eth_call that is
         not `view`. Before each account's `_health` (which reads the cache first) the
         oracle of each market the account holds is read into the cache; a market already
         cached is not read again.
    @param accounts The accounts, at most MAX_SUMMARY_BATCH (256).
    @return One (collateral, equity, initial_margin, maintenance_margin) per account, in the
            order of `accounts`.
    """
    summaries: DynArray[AccountSummary, MAX_SUMMARY_BATCH] = []
    for account: address in accounts:
        # cache the price of each market the account holds (an oracle already read is not
        # read again); `_health` then finds it there, as `account_summary` would read it
        for market: uint256 in range(MAX_MARKETS):
            if market >= registry.market_count:
                break
            if self._position[account][market] != 0:
                self._price(market)
        summaries.append(self._summary(account))
    return summaries


@external
@view
def policy_excess(account: address) -> uint256:
    """
    @notice What the loss policy collected from this account's side beyond the account's own
            charge and will credit to the insurance vault when the account's positions are
            next settled (profit_clawback: positions not in profit; 0 under pro_rata_size).
            The conservation gap of DESIGN.md is the sum of this over accounts plus dust.
    @param account The account.
    @return Collateral base units.
    """
    excess: uint256 = 0
    for market: uint256 in range(MAX_MARKETS):
        if market >= registry.market_count:
            break
        if self._position[account][market] == 0:
            continue
        position: Position = self._load(account, market)
        accrued: int256 = loss_index._accrued(
            market, position.size, position.cost, position.policy_stamp, position.policy_xy, SCALE
        )
        if accrued < 0:
            excess += convert(-accrued, uint256)
    return excess


@external
@view
def open_interest(market: uint256) -> uint256:
    """
    @notice Total long size in a market (always equal to the total short size).
    """
    return self._open_interest(market)


@external
@view
def treasury() -> uint256:
    """
    @notice Fees and penalties held here that no account owns: the protocol's share and the
            vault's share until it is swept.
    """
    return self._fees_unswept + self._vault_pending + self.protocol_fees


@external
@view
def pending_vault_revenue() -> uint256:
    """
    @notice What the next sweep (`sweep_fees`, or the one a vault deposit/mint/request
            triggers) would send the insurance vault now: its pending penalties and
            remainders plus its share of the unswept fees at the current insurance share,
            rounded down exactly as `_split_fees` rounds. Bad-debt repayment takes only the
            protocol's part of the fees, so it does not reduce this. 0 while no vault is
            wired (nothing can be swept).
    @return Collateral base units.
    """
    if self.insurance_vault == empty(address):
        return 0
    # the vault's share of fees rounds down, as in `_split_fees`
    return self._vault_pending + self._fees_unswept * registry.insurance_fee_share // WAD


@external
@view
def index_price(market: uint256) -> uint256:
    """
    @notice The market's oracle price (1e18 = one collateral token per base unit). Reverts
            when the feed is stale or not positive.
    """
    registry._check_market(market)
    return self._price_view(market)


@external
@view
def funding_index(market: uint256) -> int256:
    """
    @notice Cumulative funding per base unit paid by longs to shorts, accrued to now
            (price units: 1e18 = one collateral token).
    """
    registry._check_market(market)
    return self._funding_index_view(market, self._price_view(market))


@external
@view
def funding_premium(market: uint256) -> int256:
    """
    @notice The current funding premium (traded price over oracle, 1e18 = 100 % per
            funding period; positive: longs pay shorts), clamped to the market's cap and
            decayed towards zero since the last fill (by 2 * cap per funding period).
    @return The premium at block.timestamp.
    """
    index: int256 = 0
    premium: int256 = 0
    index, premium = self._funding_state(market, 0)
    return premium


# ---------------------------------------------------------------- internal: prices and funding


@internal
@view
def _read_oracle(market: uint256) -> uint256:
    feed: address = empty(address)
    max_age: uint256 = 0
    multiplier: uint256 = 0
    feed, max_age, multiplier = registry._oracle_conf(market)
    round_id: uint80 = 0
    answer: int256 = 0
    started_at: uint256 = 0
    updated_at: uint256 = 0
    answered_in: uint80 = 0
    round_id, answer, started_at, updated_at, answered_in = staticcall IAggregatorV3(feed).latestRoundData()
    assert answer > 0, "oracle: price not positive"
    assert updated_at <= block.timestamp, "oracle: price from the future"
    assert block.timestamp - updated_at <= max_age, "oracle: stale price"
    return convert(answer, uint256) * multiplier


@internal
@view
def _price_view(market: uint256) -> uint256:
    cached: uint256 = self._price_cache[market]
    if cached != 0:
        return cached
    return self._read_oracle(market)


@internal
def _price(market: uint256) -> uint256:
    cached: uint256 = self._price_cache[market]
    if cached != 0:
        return cached
    price: uint256 = self._read_oracle(market)
    self._price_cache[market] = price
    return price


@internal
@view
def _funding_index_view(market: uint256, price: uint256) -> int256:
    """
    @dev The market's funding index accrued to now at `price` (see `_funding_state`).
    """
    index: int256 = 0
    premium: int256 = 0
    index, premium = self._funding_state(market, price)
    return index


@internal
@view
def _funding_state(market: uint256, price: uint256) -> (int256, int256):
    """
    @dev The funding index and premium brought to now. Without fills the premium decays
         linearly towards zero by 2 * cap per funding period (from the cap to zero in half a
         period), so a premium set by wash trades fades instead of staying. Per unit of size
         longs pay shorts the integral of that premium times `price` over one funding period:
         (p^2 - p'^2) * price / (4 * cap) going from p to p'. The index is shared by both
         sides, so truncating its step cannot create or destroy value (payments round per
         account).
    @param market The market.
    @param price The oracle price the elapsed time is charged at (0: only the premium is used).
    @return The funding index and the premium (1e18 = 100 % per period) at block.timestamp.
    """
    word: uint256 = self._funding[market]
    index: int256 = fixed_math._unpack_hi(word)
    period: uint256 = 0
    cap: uint256 = 0
    period, cap = registry._funding_conf(market)
    stored: int256 = self._premium_of(word)
    # a premium stored under a looser cap is clamped to the current one
    level: uint256 = min(fixed_math._abs(stored), cap)
    if level == 0:
        return index, 0
    # the decay truncates (the premium fades at most 1e-18 slower)
    decay: uint256 = min(level, 2 * cap * (block.timestamp - (word & _TIME_MASK)) // period)
    # the premium falls by 2 * cap per period, so the time it spends between two levels is
    # their difference * period / (2 * cap): the index grows by the area under it,
    # (level^2 - new level^2) * period / (4 * cap), times price / period
    step: int256 = convert(decay * (2 * level - decay) * price // (4 * cap * WAD), int256)
    level -= decay
    if stored < 0:
        return index - step, -convert(level, int256)
    return index + step, convert(level, int256)


@internal
def _accrue(market: uint256, price: uint256, fill_size: uint256, premium: int256) -> int256:
    """
    @dev Bring the market's funding index and (decaying) premium to now; on a fill
         (fill_size > 0) also move the premium towards the fill's (capped) premium by the
         fill's weight against the open interest: (fill premium - premium) * fill / (open
         interest + fill), truncated towards zero so the step never overshoots. Moving the
         premium by dp costs the wash trader fees on at least open interest * dp / (cap - p),
         while a premium p pays out at most p^2 / (4 cap) of the open notional before it has
         decayed: with cap <= 8 * (taker fee + maker fee) no wash trade pays for itself.
    @param market The market.
    @param price The oracle price.
    @param fill_size The fill's size (0: accrual only).
    @param premium The fill's premium, already capped.
    @return The funding index at now.
    """
    word: uint256 = self._funding[market]
    index: int256 = 0
    new_premium: int256 = 0
    index, new_premium = self._funding_state(market, price)
    if fill_size > 0:
        weight_base: int256 = convert(self._open_interest(market) + fill_size, int256)
        new_premium += (premium - new_premium) * convert(fill_size, int256) // weight_base
    # with nothing accrued and the premium unchanged the clock need not move
    if index != fixed_math._unpack_hi(word) or new_premium != self._premium_of(word):
        # the premium stays within the cap (<= 1e17 in magnitude), so the low half fits int128
        self._funding[market] = fixed_math._pack(new_premium * 2**64 + convert(block.timestamp, int256), index)
        log Funding(market=market, index=index, premium=new_premium)
    return index


@internal
@pure
def _premium_of(word: uint256) -> int256:
    """
    @dev The premium out of a market's funding word (bits 64..127, sign-extended).
    """
    return convert(convert(word << 128, bytes32), int256) >> 192


# ---------------------------------------------------------------- internal: accounts


@internal
@view
def _load(account: address, market: uint256) -> Position:
    """
    @dev An account's position in a market with its funding and loss-policy snapshots.
    """
    word: uint256 = self._position[account][market]
    if word == 0:
        return empty(Position)
    snapshot: uint256 = self._snapshot[account][market]
    size: int256 = fixed_math._unpack_lo(word)
    stamp: int256 = fixed_math._unpack_hi(snapshot)
    return Position(
        size=size,
        cost=fixed_math._unpack_hi(word),
        funding_snapshot=fixed_math._unpack_lo(snapshot),
        policy_stamp=stamp,
        policy_xy=loss_index._snapshot_xy(account, market, size > 0, stamp),
    )


@internal
@view
def _owed(market: uint256, position: Position, funding_index: int256) -> (int256, uint256):
    """
    @dev Pending funding (signed, > 0 owed) and loss-policy charge of a position. Funding
         rounds towards plus infinity: payers pay the rounding, receivers never get more than
         paid; the charge rounds up (loss_index).
    @return Funding owed, charge owed.
    """
    if position.size == 0:
        return 0, 0
    funding: int256 = fixed_math._div_ceil(position.size * (funding_index - position.funding_snapshot), SCALE_INT)
    charge: uint256 = loss_index._pending(
        market, position.size, position.cost, position.policy_stamp, position.policy_xy, SCALE
    )
    return funding, charge


@internal
def _snap(account: address, market: uint256, funding_index: int256, long_side: bool):
    """
    @dev Write a position's snapshots: the funding index and its side's loss-policy stamp
         (loss_index._resnap keeps what else the policy needs).
    """
    self._snapshot[account][market] = fixed_math._pack(funding_index, loss_index._resnap(account, market, long_side))


@internal
def _settle(account: address, market: uint256, position: Position, funding_index: int256) -> Position:
    """
    @dev Settle a position's pending funding and loss-policy charge into collateral and move
         its snapshots to now. A charge the policy's formula makes negative (a position not in
         profit under profit_clawback) is clamped to 0; the clamped-away amount is the
         policy's over-collection from the side's winners and goes to the insurance vault.
    @return The position with fresh snapshots.
    """
    if position.size == 0:
        return position
    stamp: int256 = loss_index._stamp(market, position.size > 0)
    if position.funding_snapshot == funding_index and position.policy_stamp == stamp:
        return position
    funding: int256 = fixed_math._div_ceil(position.size * (funding_index - position.funding_snapshot), SCALE_INT)
    accrued: int256 = loss_index._accrued(
        market, position.size, position.cost, position.policy_stamp, position.policy_xy, SCALE
    )
    charge: uint256 = convert(max(accrued, 0), uint256)
    excess: uint256 = convert(max(-accrued, 0), uint256)
    if funding != 0 or accrued != 0:
        self._collateral[account] -= funding + convert(charge, int256)
        if excess > 0:
            self._vault_pending += excess
        log Settled(account=account, market=market, funding=funding, haircut=charge, excess=excess)
    if position.policy_stamp != stamp:
        loss_index._resnap(account, market, position.size > 0)
    self._snapshot[account][market] = fixed_math._pack(funding_index, stamp)
    position.funding_snapshot = funding_index
    position.policy_stamp = stamp
    # the snapshot is now the side's own: no (X, Y) word is needed until the next event
    position.policy_xy = 0
    return position


@internal
def _apply_fill(account: address, market: uint256, delta: int256, notional: uint256, price: uint256, funding_index: int256) -> (int256, int256):
    """
    @dev Change an account's position by `delta` at a fill of `notional` (the same amount on
         the other side). Settles pending charges first, then realizes PnL on the reduced part.
    @return The old and the new size.
    """
    position: Position = self._settle(account, market, self._load(account, market), funding_index)
    old_size: int256 = position.size
    new_size: int256 = old_size + delta
    signed_notional: int256 = convert(notional, int256)
    if delta < 0:
        signed_notional = -signed_notional
    total_cost: int256 = position.cost + signed_notional
    remaining: int256 = total_cost
    flipped: bool = old_size != 0 and new_size != 0 and (old_size > 0) != (new_size > 0)
    if new_size == 0:
        remaining = 0
    elif flipped:
        # cost basis of the new side at the fill price, rounded down: less PnL is realized
        # into withdrawable collateral
        remaining = fixed_math._div_floor(new_size * convert(price, int256), SCALE_INT)
    elif self._is_reducing(old_size, new_size):
        # pro-rata cost of what is left, rounded down for the same reason
        remaining = fixed_math._div_floor(position.cost * convert(fixed_math._abs(new_size), int256), convert(fixed_math._abs(old_size), int256))
    if remaining != total_cost:
        # realized PnL: collateral and cost move together, equity is unchanged
        self._collateral[account] -= total_cost - remaining
    if new_size == 0:
        self._position[account][market] = 0
    else:
        self._position[account][market] = fixed_math._pack(new_size, remaining)
    if new_size != 0 and (old_size == 0 or flipped):
        self._snap(account, market, funding_index, new_size > 0)
    loss_index._on_cost_change(market, old_size, position.cost, new_size, remaining)
    return old_size, new_size


@internal
@view
def _health(account: address) -> Health:
    health: Health = Health(equity=self._collateral[account], initial_margin=0, maintenance_margin=0, owed=0)
    for market: uint256 in range(MAX_MARKETS):
        if market >= registry.market_count:
            break
        if self._position[account][market] == 0:
            continue
        position: Position = self._load(account, market)
        price: uint256 = self._price_view(market)
        funding: int256 = 0
        charge: uint256 = 0
        funding, charge = self._owed(market, position, self._funding_index_view(market, price))
        owed: int256 = funding + convert(charge, int256)
        # position value rounded down (towards minus infinity): equity is never overstated
        value: int256 = fixed_math._div_floor(position.size * convert(price, int256), SCALE_INT)
        health.equity += value - position.cost - owed
        health.owed += owed
        # requirements rounded up
        notional: uint256 = fixed_math._mul_div_up(fixed_math._abs(position.size), price, SCALE)
        imr: uint256 = 0
        mmr: uint256 = 0
        imr, mmr = registry._margin_ratios(market)
        health.initial_margin += fixed_math._mul_div_up(notional, imr, WAD)
        health.maintenance_margin += fixed_math._mul_div_up(notional, mmr, WAD)
    return health


@internal
@view
def _summary(account: address) -> AccountSummary:
    """
    @dev `account_summary`: collateral net of what the account owes, and its health.
    """
    health: Health = self._health(account)
    return AccountSummary(
        collateral=self._collateral[account] - health.owed,
        equity=health.equity,
        initial_margin=health.initial_margin,
        maintenance_margin=health.maintenance_margin,
    )


@internal
def _check_after_fill(account: address, old_size: int256, new_size: int256, worse: bool):
    """
    @dev A fill that raises or flips exposure needs initial margin (and no pause). A fill that
         only reduces or closes needs equity >= 0 and, if it leaves the account below
         maintenance margin, a price no worse than the oracle for the account (a seller at or
         above it, a buyer at or below): an account the liquidators may take cannot sell its
         remaining equity to a colluder off the oracle and keep the risk on the vault.
    @param account The maker or the taker.
    @param old_size The position before the fill.
    @param new_size The position after it.
    @param worse True when the fill is priced worse than the oracle for this account.
    """
    health: Health = empty(Health)
    if new_size == 0 or self._is_reducing(old_size, new_size):
        health = self._health(account)
        assert health.equity >= 0, "trade: fill would leave the account bankrupt"
        assert not worse or health.equity >= convert(health.maintenance_margin, int256), "trade: below maintenance, off-oracle fill"
    else:
        assert not ownable.paused, "trade: paused"
        health = self._health(account)
        assert health.equity >= convert(health.initial_margin, int256), "trade: below initial margin"


@internal
@pure
def _is_reducing(old_size: int256, new_size: int256) -> bool:
    if old_size > 0:
        return new_size >= 0 and new_size < old_size
    if old_size < 0:
        return new_size <= 0 and new_size > old_size
    return False


@internal
@pure
def _long_delta(old_size: int256, new_size: int256) -> int256:
    return max(new_size, 0) - max(old_size, 0)


@internal
@view
def _open_interest(market: uint256) -> uint256:
    """
    @dev A market's open interest: its total long size (equal to its total short size).
    """
    return self._long_open_interest[market] & (_OI_USED - 1)


@internal
def _update_open_interest(market: uint256, delta: int256) -> uint256:
    open_interest: uint256 = convert(convert(self._open_interest(market), int256) + delta, uint256)
    self._long_open_interest[market] = open_interest | _OI_USED
    return open_interest


@internal
def _credit(account: address, amount: int256):
    self._collateral[account] += amount


@internal
def _close_account(account: address) -> uint256:
    """
    @dev Zero a flat account's collateral; returns its deficit. A positive remainder (a few
         base units of rounding) goes to the insurance vault.
    """
    balance: int256 = self._collateral[account]
    self._collateral[account] = 0
    if balance >= 0:
        self._vault_pending += convert(balance, uint256)
        return 0
    return convert(-balance, uint256)


@internal
def _add_vault_revenue(amount: uint256):
    self._vault_pending += amount


@internal
def _add_bad_debt(amount: uint256):
    self.bad_debt += amount


@internal
def _split_fees() -> uint256:
    """
    @dev Split the unswept fees at the current insurance share: the vault's part waits in
         `_vault_pending` until swept; the protocol's part, with the protocol fees already
         held, first pays down bad debt (fees are junior to traders), the rest becomes
         withdrawable. Moving an amount from `protocol_fees` to `bad_debt` lowers treasury and
         bad debt alike, so the conservation identity stays exact.
    @return The protocol's part of the fees split now.
    """
    fees: uint256 = self._fees_unswept
    # the vault's share of fees rounds down; the remainder is the protocol's
    fee_share: uint256 = fees * registry.insurance_fee_share // WAD
    self._fees_unswept = 0
    self._vault_pending += fee_share
    held: uint256 = self.protocol_fees + fees - fee_share
    repaid: uint256 = min(held, self.bad_debt)
    if repaid > 0:
        self.bad_debt -= repaid
        log BadDebtRepaid(amount=repaid)
    self.protocol_fees = held - repaid
    return fees - fee_share


@internal
def _sweep(vault: address):
    """
    @dev Split the fees (`_split_fees`) and send the vault what it is owed.
    @param vault The insurance vault.
    """
    to_protocol: uint256 = self._split_fees()
    to_vault: uint256 = self._vault_pending
    if to_vault == 0 and to_protocol == 0:
        return
    self._vault_pending = 0
    if to_vault > 0:
        assert extcall IERC20(collateral_token).transfer(vault, to_vault, default_return_value=True), "clearing: transfer failed"
        extcall IInsuranceVault(vault).notify_revenue(to_vault)
    log FeesSwept(vault=vault, to_vault=to_vault, to_protocol=to_protocol)


@internal
@view
def _scale() -> uint256:
    return SCALE
