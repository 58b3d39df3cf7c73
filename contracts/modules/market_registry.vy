# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title market_registry
@notice The list of markets and their risk parameters: margins, fees, price band, open-interest
        cap, oracle, liquidation and funding settings, plus the protocol-wide parameters. The
        setters of margins, funding and the insurance fee share are the clearing module's
        externals (they first settle state under the old values, or need the open interest),
        over the internal `_set_*` here.
@dev Per-market parameters are packed four 64-bit fields to a word so a fill reads three
     storage slots instead of twelve. Every ratio is 1e18 = 100 % and fits in 64 bits.
"""

from ..interfaces import IAggregatorV3
from . import ownable_2step as ownable
from . import constants

uses: ownable


struct MarketParams:
    feed: address
    imr: uint256
    mmr: uint256
    taker_fee: uint256
    maker_fee: uint256
    liquidation_penalty: uint256
    liquidator_share: uint256
    close_factor: uint256
    price_band: uint256
    max_price_age: uint256
    funding_period: uint256
    max_funding_premium: uint256
    price_multiplier: uint256
    max_open_interest: uint256


event MarketAdded:
    market: indexed(uint256)
    feed: indexed(address)
    imr: uint256
    mmr: uint256


event MarginsSet:
    market: indexed(uint256)
    imr: uint256
    mmr: uint256


event FeesSet:
    market: indexed(uint256)
    taker_fee: uint256
    maker_fee: uint256


event PriceBandSet:
    market: indexed(uint256)
    price_band: uint256


event MaxOpenInterestSet:
    market: indexed(uint256)
    max_open_interest: uint256


event OracleSet:
    market: indexed(uint256)
    feed: indexed(address)
    max_price_age: uint256


event LiquidationParamsSet:
    market: indexed(uint256)
    penalty: uint256
    liquidator_share: uint256
    close_factor: uint256


event FundingParamsSet:
    market: indexed(uint256)
    funding_period: uint256
    max_funding_premium: uint256


event InsuranceFeeShareSet:
    share: uint256


event KeeperRewardSet:
    amount: uint256


event DustNotionalSet:
    amount: uint256


# bounds: written once in constants.vy (Python reads them back from there)
WAD: constant(uint256) = constants.WAD
MAX_MARKETS: constant(uint256) = constants.MAX_MARKETS
MAX_FEE: constant(uint256) = constants.MAX_FEE
MAX_PRICE_BAND: constant(uint256) = constants.MAX_PRICE_BAND
MAX_PRICE_AGE: constant(uint256) = constants.MAX_PRICE_AGE
MIN_FUNDING_PERIOD: constant(uint256) = constants.MIN_FUNDING_PERIOD
MAX_FUNDING_PERIOD: constant(uint256) = constants.MAX_FUNDING_PERIOD
MAX_FUNDING_PREMIUM: constant(uint256) = constants.MAX_FUNDING_PREMIUM
MASK64: constant(uint256) = 2**64 - 1
# a raise of mmr makes open positions liquidatable at once: at most one point per day
MAX_MMR_RAISE: constant(uint256) = 10**16
MMR_RAISE_INTERVAL: constant(uint256) = 86400

# defaults for a new market
DEFAULT_TAKER_FEE: constant(uint256) = 5 * 10**14  # 5 bp
DEFAULT_MAKER_FEE: constant(uint256) = 2 * 10**14  # 2 bp
DEFAULT_PRICE_BAND: constant(uint256) = 5 * 10**16  # fills within 5 % of the oracle
DEFAULT_MAX_PRICE_AGE: constant(uint256) = 3600
DEFAULT_LIQUIDATOR_SHARE: constant(uint256) = 5 * 10**17  # half the penalty to the liquidator
DEFAULT_CLOSE_FACTOR: constant(uint256) = 5 * 10**17  # at most half a position per call
DEFAULT_FUNDING_PERIOD: constant(uint256) = 8 * 3600
DEFAULT_MAX_FUNDING_PREMIUM: constant(uint256) = 5 * 10**15  # 0.5 % per period
DEFAULT_MAX_OPEN_INTEREST: constant(uint256) = 10**6 * 10**18  # one million base units
DEFAULT_INSURANCE_FEE_SHARE: constant(uint256) = 5 * 10**17


market_count: public(uint256)
max_open_interest: public(HashMap[uint256, uint256])
market_feed: public(HashMap[uint256, address])
# protocol-wide, in collateral base units or 1e18 ratios
insurance_fee_share: public(uint256)
keeper_reward: public(uint256)
dust_notional: public(uint256)

# packed: imr | mmr | taker_fee | maker_fee
_risk: HashMap[uint256, uint256]
# packed: liquidation_penalty | liquidator_share | close_factor | price_band
_liq: HashMap[uint256, uint256]
# packed: max_price_age | funding_period | max_funding_premium | price_multiplier
_conf: HashMap[uint256, uint256]
# when each market's mmr was last raised
_mmr_raised_at: HashMap[uint256, uint256]


@deploy
def __init__(token_unit: uint256):
    """
    @param token_unit One whole collateral token in base units (10**decimals); sets the
           default keeper reward (5 tokens) and dust notional (10 tokens).
    """
    self.insurance_fee_share = DEFAULT_INSURANCE_FEE_SHARE
    self.keeper_reward = 5 * token_unit
    self.dust_notional = 10 * token_unit


@external
def add_market(feed: address, imr: uint256, mmr: uint256) -> uint256:
    """
    @notice List a new market priced by an AggregatorV3 feed. Other parameters start at their
            defaults: fees 5 bp taker / 2 bp maker, price band 5 %, max price age 1 h,
            liquidation penalty mmr / 2 (half to the liquidator), close factor 50 %,
            funding period 8 h with a 0.5 % premium cap, max open interest 1e6 base units.
    @param feed The price feed (its answer must be positive, at most 18 decimals).
    @param imr Initial-margin ratio, 1e18 = 100 %.
    @param mmr Maintenance-margin ratio, 0 < mmr < imr <= 1e18.
    @return The new market's id (0, 1, ...).
    """
    ownable._check_owner()
    market: uint256 = self.market_count
    assert market < MAX_MARKETS, "registry: too many markets"
    self._check_margins(imr, mmr)
    multiplier: uint256 = self._feed_multiplier(feed)
    self.market_count = market + 1
    self.market_feed[market] = feed
    self._risk[market] = self._word(imr, mmr, DEFAULT_TAKER_FEE, DEFAULT_MAKER_FEE)
    self._liq[market] = self._word(mmr // 2, DEFAULT_LIQUIDATOR_SHARE, DEFAULT_CLOSE_FACTOR, DEFAULT_PRICE_BAND)
    self._conf[market] = self._word(
        DEFAULT_MAX_PRICE_AGE, DEFAULT_FUNDING_PERIOD, DEFAULT_MAX_FUNDING_PREMIUM, multiplier
    )
    self.max_open_interest[market] = DEFAULT_MAX_OPEN_INTEREST
    log MarketAdded(market=market, feed=feed, imr=imr, mmr=mmr)
    return market


@external
def set_fees(market: uint256, taker_fee: uint256, maker_fee: uint256):
    """
    @notice Set a market's taker and maker fees, each at most 1 % of the filled notional.
    """
    ownable._check_owner()
    self._check_market(market)
    assert taker_fee <= MAX_FEE and maker_fee <= MAX_FEE, "registry: fee above 1 %"
    risk: uint256 = self._risk[market]
    self._risk[market] = self._word(self._field(risk, 0), self._field(risk, 1), taker_fee, maker_fee)
    log FeesSet(market=market, taker_fee=taker_fee, maker_fee=maker_fee)


@external
def set_price_band(market: uint256, price_band: uint256):
    """
    @notice Fills must be priced within `price_band` (1e18 = 100 %) of the oracle price.
    """
    ownable._check_owner()
    self._check_market(market)
    assert price_band > 0 and price_band <= MAX_PRICE_BAND, "registry: price band out of range"
    liq: uint256 = self._liq[market]
    self._liq[market] = self._word(self._field(liq, 0), self._field(liq, 1), self._field(liq, 2), price_band)
    log PriceBandSet(market=market, price_band=price_band)


@external
def set_max_open_interest(market: uint256, max_open_interest: uint256):
    """
    @notice Cap a market's open interest (base-asset units, 1e18 = 1). Fills that raise open
            interest above it revert; fills that lower it always pass.
    """
    ownable._check_owner()
    self._check_market(market)
    assert max_open_interest > 0, "registry: zero max open interest"
    self.max_open_interest[market] = max_open_interest
    log MaxOpenInterestSet(market=market, max_open_interest=max_open_interest)


@external
def set_oracle(market: uint256, feed: address, max_price_age: uint256):
    """
    @notice Replace a market's price feed and/or its staleness limit (seconds, <= 7 days).
    """
    ownable._check_owner()
    self._check_market(market)
    assert max_price_age > 0 and max_price_age <= MAX_PRICE_AGE, "registry: max price age out of range"
    multiplier: uint256 = self._feed_multiplier(feed)
    conf: uint256 = self._conf[market]
    self.market_feed[market] = feed
    self._conf[market] = self._word(max_price_age, self._field(conf, 1), self._field(conf, 2), multiplier)
    log OracleSet(market=market, feed=feed, max_price_age=max_price_age)


@external
def set_liquidation_params(market: uint256, penalty: uint256, liquidator_share: uint256, close_factor: uint256):
    """
    @notice Liquidation penalty on the liquidated notional (<= mmr), the liquidator's share of
            it (the rest goes to the insurance vault), and the close factor: the largest
            fraction of a position one `liquidate` call may take (0 < close_factor <= 1e18).
    """
    ownable._check_owner()
    self._check_market(market)
    assert penalty <= self._field(self._risk[market], 1), "registry: penalty above mmr"
    assert liquidator_share <= WAD, "registry: liquidator share above 100 %"
    assert close_factor > 0 and close_factor <= WAD, "registry: close factor out of range"
    liq: uint256 = self._liq[market]
    self._liq[market] = self._word(penalty, liquidator_share, close_factor, self._field(liq, 3))
    log LiquidationParamsSet(market=market, penalty=penalty, liquidator_share=liquidator_share, close_factor=close_factor)


@external
def set_keeper_reward(amount: uint256):
    """
    @notice The reward (collateral base units) the insurance vault pays whoever resolves a
            bankruptcy; it is paid only from what the vault can cover after the deficit.
    """
    ownable._check_owner()
    self.keeper_reward = amount
    log KeeperRewardSet(amount=amount)


@external
def set_dust_notional(amount: uint256):
    """
    @notice A partial liquidation may not leave a position smaller than this notional
            (collateral base units); below it the whole position may be taken at once.
    """
    ownable._check_owner()
    self.dust_notional = amount
    log DustNotionalSet(amount=amount)


@external
@view
def market_params(market: uint256) -> MarketParams:
    """
    @notice Every parameter of a market, unpacked.
    """
    self._check_market(market)
    params: MarketParams = self._params(market)
    params.max_open_interest = self.max_open_interest[market]
    return params


@internal
@view
def _params(market: uint256) -> MarketParams:
    risk: uint256 = self._risk[market]
    liq: uint256 = self._liq[market]
    conf: uint256 = self._conf[market]
    return MarketParams(
        feed=self.market_feed[market],
        imr=self._field(risk, 0),
        mmr=self._field(risk, 1),
        taker_fee=self._field(risk, 2),
        maker_fee=self._field(risk, 3),
        liquidation_penalty=self._field(liq, 0),
        liquidator_share=self._field(liq, 1),
        close_factor=self._field(liq, 2),
        price_band=self._field(liq, 3),
        max_price_age=self._field(conf, 0),
        funding_period=self._field(conf, 1),
        max_funding_premium=self._field(conf, 2),
        price_multiplier=self._field(conf, 3),
        max_open_interest=0,  # not needed on the hot path; market_params() fills it in
    )


@internal
@view
def _margin_ratios(market: uint256) -> (uint256, uint256):
    risk: uint256 = self._risk[market]
    return self._field(risk, 0), self._field(risk, 1)


@internal
@view
def _oracle_conf(market: uint256) -> (address, uint256, uint256):
    conf: uint256 = self._conf[market]
    return self.market_feed[market], self._field(conf, 0), self._field(conf, 3)


@internal
@view
def _penalty(market: uint256) -> uint256:
    return self._field(self._liq[market], 0)


@internal
@view
def _funding_conf(market: uint256) -> (uint256, uint256):
    conf: uint256 = self._conf[market]
    return self._field(conf, 1), self._field(conf, 2)


@internal
def _set_margins(market: uint256, imr: uint256, mmr: uint256, positions_open: bool):
    """
    @dev Store a market's margin ratios (0 < mmr < imr <= 1e18, penalty <= mmr). While
         positions are open a raise of mmr acts on them at once, so it is bounded: at most 1
         percentage point per call and one raise per day. The clearing module's `set_margins`
         says whether positions are open.
    @param market The market (already checked).
    @param imr Initial-margin ratio, 1e18 = 100 %.
    @param mmr Maintenance-margin ratio.
    @param positions_open Whether the market has open interest.
    """
    self._check_margins(imr, mmr)
    assert self._field(self._liq[market], 0) <= mmr, "registry: penalty above mmr"
    risk: uint256 = self._risk[market]
    old_mmr: uint256 = self._field(risk, 1)
    if positions_open and mmr > old_mmr:
        assert mmr <= old_mmr + MAX_MMR_RAISE and block.timestamp >= self._mmr_raised_at[market] + MMR_RAISE_INTERVAL, "registry: mmr raise above 1 point a day"
        self._mmr_raised_at[market] = block.timestamp
    self._risk[market] = self._word(imr, mmr, self._field(risk, 2), self._field(risk, 3))
    log MarginsSet(market=market, imr=imr, mmr=mmr)


@internal
def _set_funding_params(market: uint256, funding_period: uint256, max_funding_premium: uint256):
    """
    @dev Store a market's funding period (60 s .. 30 days) and premium cap (<= 10 %). The
         clearing module's `set_funding_params` accrues funding under the old ones first.
    @param market The market (already checked).
    @param funding_period Seconds.
    @param max_funding_premium 1e18 = 100 % per period.
    """
    assert funding_period >= MIN_FUNDING_PERIOD and funding_period <= MAX_FUNDING_PERIOD, "registry: funding period out of range"
    assert max_funding_premium <= MAX_FUNDING_PREMIUM, "registry: funding premium cap above 10 %"
    conf: uint256 = self._conf[market]
    self._conf[market] = self._word(self._field(conf, 0), funding_period, max_funding_premium, self._field(conf, 3))
    log FundingParamsSet(market=market, funding_period=funding_period, max_funding_premium=max_funding_premium)


@internal
def _set_insurance_fee_share(share: uint256):
    """
    @dev Store the vault's share of trading fees (<= 1e18). The clearing module's
         `set_insurance_fee_share` splits the fees earned so far under the old share first.
    @param share 1e18 = 100 %.
    """
    assert share <= WAD, "registry: share above 100 %"
    self.insurance_fee_share = share
    log InsuranceFeeShareSet(share=share)


@internal
@view
def _check_market(market: uint256):
    assert market < self.market_count, "registry: unknown market"


@internal
@pure
def _check_margins(imr: uint256, mmr: uint256):
    assert mmr > 0, "registry: zero mmr"
    assert mmr < imr, "registry: mmr must be below imr"
    assert imr <= WAD, "registry: imr above 100 %"


@internal
@view
def _feed_multiplier(feed: address) -> uint256:
    assert feed.is_contract, "registry: feed is not a contract"
    decimals: uint8 = staticcall IAggregatorV3(feed).decimals()
    assert decimals <= 18, "registry: feed has more than 18 decimals"
    return 10 ** (18 - convert(decimals, uint256))


@internal
@pure
def _word(a: uint256, b: uint256, c: uint256, d: uint256) -> uint256:
    assert a <= MASK64 and b <= MASK64 and c <= MASK64 and d <= MASK64, "registry: parameter too large"
    return a | (b << 64) | (c << 128) | (d << 192)


@internal
@pure
def _field(word: uint256, index: uint256) -> uint256:
    return (word >> (64 * index)) & MASK64
