"""Admin surface of the Clearinghouse: two-step ownership, guardian and pause, market listing,
every per-market and protocol-wide setter with its bounds and its event, the insurance vault
wiring, the fee sweep and the protocol-fee withdrawal."""
import ape
import pytest

from support.drivers import events, fill, fund
from support.model import (
    DEFAULT_CLOSE_FACTOR,
    DEFAULT_FUNDING_PERIOD,
    DEFAULT_INSURANCE_FEE_SHARE,
    DEFAULT_LIQUIDATOR_SHARE,
    DEFAULT_MAKER_FEE,
    DEFAULT_MAX_FUNDING_PREMIUM,
    DEFAULT_MAX_OPEN_INTEREST,
    DEFAULT_MAX_PRICE_AGE,
    DEFAULT_PRICE_BAND,
    DEFAULT_TAKER_FEE,
    IMR,
    MMR,
    PRICE,
    WAD,
    ZERO_ADDRESS,
    fee,
    notional,
)

NOT_OWNER = "ownable: caller is not the owner"
UNKNOWN_MARKET = "registry: unknown market"


@pytest.fixture(scope="module")
def bare(protocol_builder):
    """A protocol without an insurance vault."""
    return protocol_builder(with_vault=False)


@pytest.fixture(scope="module")
def new_feed(project, owner):
    return owner.deploy(project.MockAggregator, 8, 3_000 * 10**8)


# ---------------------------------------------------------------- ownership


def test_deployer_is_owner_and_guardian(ch, owner):
    assert ch.owner() == owner.address
    assert ch.guardian() == owner.address
    assert ch.pending_owner() == ZERO_ADDRESS
    assert ch.paused() is False


def test_transfer_ownership_is_two_step(ch, owner, other):
    receipt = ch.transfer_ownership(other, sender=owner)
    started = events(ch.OwnershipTransferStarted, receipt)
    assert len(started) == 1
    assert started[0].previous_owner == owner.address
    assert started[0].new_owner == other.address
    # nothing changes until the new owner accepts
    assert ch.owner() == owner.address
    assert ch.pending_owner() == other.address

    receipt = ch.accept_ownership(sender=other)
    transferred = events(ch.OwnershipTransferred, receipt)
    assert len(transferred) == 1
    assert transferred[0].previous_owner == owner.address
    assert transferred[0].new_owner == other.address
    assert ch.owner() == other.address
    assert ch.pending_owner() == ZERO_ADDRESS


def test_old_owner_loses_and_new_owner_gains_admin_rights(ch, owner, other):
    ch.transfer_ownership(other, sender=owner)
    ch.accept_ownership(sender=other)
    with ape.reverts(NOT_OWNER):
        ch.set_keeper_reward(1, sender=owner)
    ch.set_keeper_reward(1, sender=other)
    assert ch.keeper_reward() == 1


def test_transfer_ownership_only_by_owner(ch, attacker):
    with ape.reverts(NOT_OWNER):
        ch.transfer_ownership(attacker, sender=attacker)


def test_accept_ownership_only_by_pending_owner(ch, owner, other, attacker):
    ch.transfer_ownership(other, sender=owner)
    with ape.reverts("ownable: caller is not the pending owner"):
        ch.accept_ownership(sender=attacker)
    with ape.reverts("ownable: caller is not the pending owner"):
        ch.accept_ownership(sender=owner)
    assert ch.owner() == owner.address


def test_accept_ownership_without_pending_transfer_reverts(ch, other):
    with ape.reverts("ownable: caller is not the pending owner"):
        ch.accept_ownership(sender=other)


def test_transfer_ownership_to_zero_cancels_pending_transfer(ch, owner, other):
    ch.transfer_ownership(other, sender=owner)
    ch.transfer_ownership(ZERO_ADDRESS, sender=owner)
    assert ch.pending_owner() == ZERO_ADDRESS
    with ape.reverts("ownable: caller is not the pending owner"):
        ch.accept_ownership(sender=other)
    assert ch.owner() == owner.address


def test_pending_owner_can_be_replaced(ch, owner, other, staker):
    ch.transfer_ownership(other, sender=owner)
    ch.transfer_ownership(staker, sender=owner)
    with ape.reverts("ownable: caller is not the pending owner"):
        ch.accept_ownership(sender=other)
    ch.accept_ownership(sender=staker)
    assert ch.owner() == staker.address


# ---------------------------------------------------------------- guardian and pause


def test_set_guardian(ch, owner, guardian):
    receipt = ch.set_guardian(guardian, sender=owner)
    logged = events(ch.GuardianSet, receipt)
    assert len(logged) == 1
    assert logged[0].previous_guardian == owner.address
    assert logged[0].new_guardian == guardian.address
    assert ch.guardian() == guardian.address


def test_set_guardian_only_by_owner(ch, guardian):
    with ape.reverts(NOT_OWNER):
        ch.set_guardian(guardian, sender=guardian)


def test_set_guardian_rejects_zero(ch, owner):
    with ape.reverts("ownable: zero guardian"):
        ch.set_guardian(ZERO_ADDRESS, sender=owner)


def test_guardian_pauses_and_unpauses(ch, owner, guardian):
    ch.set_guardian(guardian, sender=owner)
    receipt = ch.pause(sender=guardian)
    paused = events(ch.Paused, receipt)
    assert len(paused) == 1 and paused[0].by == guardian.address
    assert ch.paused() is True
    receipt = ch.unpause(sender=guardian)
    unpaused = events(ch.Unpaused, receipt)
    assert len(unpaused) == 1 and unpaused[0].by == guardian.address
    assert ch.paused() is False


def test_owner_can_pause_besides_the_guardian(ch, owner, guardian):
    ch.set_guardian(guardian, sender=owner)
    ch.pause(sender=owner)
    assert ch.paused() is True
    ch.unpause(sender=owner)
    assert ch.paused() is False


def test_pause_and_unpause_only_by_guardian(ch, owner, guardian, attacker):
    ch.set_guardian(guardian, sender=owner)
    with ape.reverts("ownable: caller is not the guardian"):
        ch.pause(sender=attacker)
    ch.pause(sender=guardian)
    with ape.reverts("ownable: caller is not the guardian"):
        ch.unpause(sender=attacker)


def test_replaced_guardian_loses_pause_right(ch, owner, guardian, other):
    ch.set_guardian(guardian, sender=owner)
    ch.set_guardian(other, sender=owner)
    with ape.reverts("ownable: caller is not the guardian"):
        ch.pause(sender=guardian)
    ch.pause(sender=other)
    assert ch.paused() is True


def test_pause_twice_reverts(ch, owner):
    ch.pause(sender=owner)
    with ape.reverts("ownable: already paused"):
        ch.pause(sender=owner)


def test_unpause_when_not_paused_reverts(ch, owner):
    with ape.reverts("ownable: not paused"):
        ch.unpause(sender=owner)


# ---------------------------------------------------------------- add_market


def test_add_market_returns_next_id_with_defaults_and_event(ch, owner, new_feed):
    assert ch.market_count() == 1
    assert ch.add_market.call(new_feed, WAD // 5, WAD // 8, sender=owner) == 1
    receipt = ch.add_market(new_feed, WAD // 5, WAD // 8, sender=owner)
    logged = events(ch.MarketAdded, receipt)
    assert len(logged) == 1
    assert logged[0].market == 1
    assert logged[0].feed == new_feed.address
    assert logged[0].imr == WAD // 5
    assert logged[0].mmr == WAD // 8
    assert ch.market_count() == 2
    assert ch.market_feed(1) == new_feed.address
    params = ch.market_params(1)
    assert params.feed == new_feed.address
    assert params.imr == WAD // 5
    assert params.mmr == WAD // 8
    assert params.taker_fee == DEFAULT_TAKER_FEE
    assert params.maker_fee == DEFAULT_MAKER_FEE
    assert params.liquidation_penalty == (WAD // 8) // 2
    assert params.liquidator_share == DEFAULT_LIQUIDATOR_SHARE
    assert params.close_factor == DEFAULT_CLOSE_FACTOR
    assert params.price_band == DEFAULT_PRICE_BAND
    assert params.max_price_age == DEFAULT_MAX_PRICE_AGE
    assert params.funding_period == DEFAULT_FUNDING_PERIOD
    assert params.max_funding_premium == DEFAULT_MAX_FUNDING_PREMIUM
    assert params.price_multiplier == 10**10
    assert params.max_open_interest == DEFAULT_MAX_OPEN_INTEREST
    assert ch.index_price(1) == 3_000 * WAD
    # the next market gets the next id
    assert ch.add_market.call(new_feed, WAD // 5, WAD // 8, sender=owner) == 2


def test_add_market_only_by_owner(ch, new_feed, attacker):
    with ape.reverts(NOT_OWNER):
        ch.add_market(new_feed, IMR, MMR, sender=attacker)


@pytest.mark.parametrize(
    "imr, mmr, message",
    [
        (IMR, 0, "registry: zero mmr"),
        (IMR, IMR, "registry: mmr must be below imr"),
        (IMR, IMR + 1, "registry: mmr must be below imr"),
        (WAD + 1, MMR, "registry: imr above 100 %"),
    ],
)
def test_add_market_margin_bounds(ch, owner, new_feed, imr, mmr, message):
    with ape.reverts(message):
        ch.add_market(new_feed, imr, mmr, sender=owner)


def test_add_market_margin_edges_pass(ch, owner, new_feed):
    ch.add_market(new_feed, WAD, WAD - 1, sender=owner)  # imr 100 %, mmr just below
    ch.add_market(new_feed, 2, 1, sender=owner)  # smallest positive ratios
    assert ch.market_params(1).imr == WAD
    assert ch.market_params(2).mmr == 1


def test_add_market_rejects_feed_that_is_not_a_contract(ch, owner, other):
    with ape.reverts("registry: feed is not a contract"):
        ch.add_market(other, IMR, MMR, sender=owner)


def test_add_market_rejects_feed_with_more_than_18_decimals(ch, owner, project):
    feed19 = owner.deploy(project.MockAggregator, 19, 50_000 * 10**19)
    with ape.reverts("registry: feed has more than 18 decimals"):
        ch.add_market(feed19, IMR, MMR, sender=owner)


def test_add_market_caps_the_number_of_markets(ch, owner, new_feed):
    for _ in range(15):
        ch.add_market(new_feed, IMR, MMR, sender=owner)
    assert ch.market_count() == 16
    with ape.reverts("registry: too many markets"):
        ch.add_market(new_feed, IMR, MMR, sender=owner)


# ---------------------------------------------------------------- per-market setters


def test_set_margins(ch, owner):
    receipt = ch.set_margins(0, WAD // 4, WAD // 8, sender=owner)
    logged = events(ch.MarginsSet, receipt)
    assert len(logged) == 1
    assert (logged[0].market, logged[0].imr, logged[0].mmr) == (0, WAD // 4, WAD // 8)
    params = ch.market_params(0)
    assert (params.imr, params.mmr) == (WAD // 4, WAD // 8)
    # the fees packed beside the margins are untouched
    assert (params.taker_fee, params.maker_fee) == (DEFAULT_TAKER_FEE, DEFAULT_MAKER_FEE)


def test_set_margins_only_by_owner(ch, attacker):
    with ape.reverts(NOT_OWNER):
        ch.set_margins(0, IMR, MMR, sender=attacker)


def test_set_margins_unknown_market(ch, owner):
    with ape.reverts(UNKNOWN_MARKET):
        ch.set_margins(1, IMR, MMR, sender=owner)


@pytest.mark.parametrize(
    "imr, mmr, message",
    [
        (IMR, 0, "registry: zero mmr"),
        (IMR, IMR, "registry: mmr must be below imr"),
        (WAD + 1, MMR, "registry: imr above 100 %"),
    ],
)
def test_set_margins_bounds(ch, owner, imr, mmr, message):
    with ape.reverts(message):
        ch.set_margins(0, imr, mmr, sender=owner)


def test_set_margins_keeps_penalty_at_or_below_mmr(ch, owner):
    penalty = ch.market_params(0).liquidation_penalty
    assert penalty == MMR // 2
    with ape.reverts("registry: penalty above mmr"):
        ch.set_margins(0, IMR, penalty - 1, sender=owner)
    ch.set_margins(0, IMR, penalty, sender=owner)  # equal is fine
    assert ch.market_params(0).mmr == penalty


def test_set_fees(ch, owner):
    receipt = ch.set_fees(0, 10**16, 3 * 10**14, sender=owner)
    logged = events(ch.FeesSet, receipt)
    assert len(logged) == 1
    assert (logged[0].market, logged[0].taker_fee, logged[0].maker_fee) == (0, 10**16, 3 * 10**14)
    params = ch.market_params(0)
    assert (params.taker_fee, params.maker_fee) == (10**16, 3 * 10**14)
    assert (params.imr, params.mmr) == (IMR, MMR)


def test_set_fees_zero_allowed(ch, owner):
    ch.set_fees(0, 0, 0, sender=owner)
    params = ch.market_params(0)
    assert (params.taker_fee, params.maker_fee) == (0, 0)


@pytest.mark.parametrize("taker_fee, maker_fee", [(10**16 + 1, 0), (0, 10**16 + 1)])
def test_set_fees_bounds(ch, owner, taker_fee, maker_fee):
    with ape.reverts("registry: fee above 1 %"):
        ch.set_fees(0, taker_fee, maker_fee, sender=owner)


def test_set_fees_only_by_owner_and_known_market(ch, owner, attacker):
    with ape.reverts(NOT_OWNER):
        ch.set_fees(0, 0, 0, sender=attacker)
    with ape.reverts(UNKNOWN_MARKET):
        ch.set_fees(1, 0, 0, sender=owner)


def test_set_price_band(ch, owner):
    receipt = ch.set_price_band(0, 5 * 10**17, sender=owner)
    logged = events(ch.PriceBandSet, receipt)
    assert len(logged) == 1
    assert (logged[0].market, logged[0].price_band) == (0, 5 * 10**17)
    params = ch.market_params(0)
    assert params.price_band == 5 * 10**17
    # packed beside the liquidation parameters, which stay
    assert params.liquidation_penalty == MMR // 2
    assert params.close_factor == DEFAULT_CLOSE_FACTOR
    ch.set_price_band(0, 1, sender=owner)
    assert ch.market_params(0).price_band == 1


@pytest.mark.parametrize("band", [0, 5 * 10**17 + 1])
def test_set_price_band_bounds(ch, owner, band):
    with ape.reverts("registry: price band out of range"):
        ch.set_price_band(0, band, sender=owner)


def test_set_price_band_only_by_owner_and_known_market(ch, owner, attacker):
    with ape.reverts(NOT_OWNER):
        ch.set_price_band(0, WAD // 10, sender=attacker)
    with ape.reverts(UNKNOWN_MARKET):
        ch.set_price_band(3, WAD // 10, sender=owner)


def test_set_max_open_interest(ch, owner):
    receipt = ch.set_max_open_interest(0, 7 * WAD, sender=owner)
    logged = events(ch.MaxOpenInterestSet, receipt)
    assert len(logged) == 1
    assert (logged[0].market, logged[0].max_open_interest) == (0, 7 * WAD)
    assert ch.max_open_interest(0) == 7 * WAD
    assert ch.market_params(0).max_open_interest == 7 * WAD


def test_set_max_open_interest_rejects_zero(ch, owner):
    with ape.reverts("registry: zero max open interest"):
        ch.set_max_open_interest(0, 0, sender=owner)


def test_set_max_open_interest_only_by_owner_and_known_market(ch, owner, attacker):
    with ape.reverts(NOT_OWNER):
        ch.set_max_open_interest(0, WAD, sender=attacker)
    with ape.reverts(UNKNOWN_MARKET):
        ch.set_max_open_interest(1, WAD, sender=owner)


def test_set_liquidation_params(ch, owner):
    receipt = ch.set_liquidation_params(0, MMR, WAD, WAD, sender=owner)  # every upper edge
    logged = events(ch.LiquidationParamsSet, receipt)
    assert len(logged) == 1
    assert (logged[0].market, logged[0].penalty, logged[0].liquidator_share, logged[0].close_factor) == (0, MMR, WAD, WAD)
    params = ch.market_params(0)
    assert (params.liquidation_penalty, params.liquidator_share, params.close_factor) == (MMR, WAD, WAD)
    assert params.price_band == DEFAULT_PRICE_BAND
    ch.set_liquidation_params(0, 0, 0, 1, sender=owner)  # every lower edge
    params = ch.market_params(0)
    assert (params.liquidation_penalty, params.liquidator_share, params.close_factor) == (0, 0, 1)


@pytest.mark.parametrize(
    "penalty, share, close_factor, message",
    [
        (MMR + 1, WAD // 2, WAD // 2, "registry: penalty above mmr"),
        (MMR // 2, WAD + 1, WAD // 2, "registry: liquidator share above 100 %"),
        (MMR // 2, WAD // 2, 0, "registry: close factor out of range"),
        (MMR // 2, WAD // 2, WAD + 1, "registry: close factor out of range"),
    ],
)
def test_set_liquidation_params_bounds(ch, owner, penalty, share, close_factor, message):
    with ape.reverts(message):
        ch.set_liquidation_params(0, penalty, share, close_factor, sender=owner)


def test_set_liquidation_params_only_by_owner_and_known_market(ch, owner, attacker):
    with ape.reverts(NOT_OWNER):
        ch.set_liquidation_params(0, 0, 0, WAD, sender=attacker)
    with ape.reverts(UNKNOWN_MARKET):
        ch.set_liquidation_params(1, 0, 0, WAD, sender=owner)


def test_set_funding_params(ch, owner):
    receipt = ch.set_funding_params(0, 60, 10**17, sender=owner)
    logged = events(ch.FundingParamsSet, receipt)
    assert len(logged) == 1
    assert (logged[0].market, logged[0].funding_period, logged[0].max_funding_premium) == (0, 60, 10**17)
    params = ch.market_params(0)
    assert (params.funding_period, params.max_funding_premium) == (60, 10**17)
    # packed beside the oracle settings, which stay
    assert params.max_price_age == DEFAULT_MAX_PRICE_AGE
    assert params.price_multiplier == 10**10
    ch.set_funding_params(0, 30 * 86400, 0, sender=owner)
    params = ch.market_params(0)
    assert (params.funding_period, params.max_funding_premium) == (30 * 86400, 0)


@pytest.mark.parametrize(
    "period, cap, message",
    [
        (59, 0, "registry: funding period out of range"),
        (30 * 86400 + 1, 0, "registry: funding period out of range"),
        (3600, 10**17 + 1, "registry: funding premium cap above 10 %"),
    ],
)
def test_set_funding_params_bounds(ch, owner, period, cap, message):
    with ape.reverts(message):
        ch.set_funding_params(0, period, cap, sender=owner)


def test_set_funding_params_only_by_owner_and_known_market(ch, owner, attacker):
    with ape.reverts(NOT_OWNER):
        ch.set_funding_params(0, 3600, 0, sender=attacker)
    with ape.reverts(UNKNOWN_MARKET):
        ch.set_funding_params(1, 3600, 0, sender=owner)


# ---------------------------------------------------------------- protocol-wide setters


def test_protocol_wide_defaults(ch):
    assert ch.insurance_fee_share() == DEFAULT_INSURANCE_FEE_SHARE
    assert ch.keeper_reward() == 5 * 10**6  # 5 tokens of a 6-decimal token
    assert ch.dust_notional() == 10 * 10**6  # 10 tokens


def test_set_insurance_fee_share(ch, owner):
    receipt = ch.set_insurance_fee_share(WAD, sender=owner)
    logged = events(ch.InsuranceFeeShareSet, receipt)
    assert len(logged) == 1 and logged[0].share == WAD
    assert ch.insurance_fee_share() == WAD
    ch.set_insurance_fee_share(0, sender=owner)
    assert ch.insurance_fee_share() == 0


def test_set_insurance_fee_share_bounds_and_owner(ch, owner, attacker):
    with ape.reverts("registry: share above 100 %"):
        ch.set_insurance_fee_share(WAD + 1, sender=owner)
    with ape.reverts(NOT_OWNER):
        ch.set_insurance_fee_share(0, sender=attacker)


def test_set_keeper_reward(ch, owner, attacker):
    receipt = ch.set_keeper_reward(123, sender=owner)
    logged = events(ch.KeeperRewardSet, receipt)
    assert len(logged) == 1 and logged[0].amount == 123
    assert ch.keeper_reward() == 123
    with ape.reverts(NOT_OWNER):
        ch.set_keeper_reward(0, sender=attacker)


def test_set_dust_notional(ch, owner, attacker):
    receipt = ch.set_dust_notional(456, sender=owner)
    logged = events(ch.DustNotionalSet, receipt)
    assert len(logged) == 1 and logged[0].amount == 456
    assert ch.dust_notional() == 456
    with ape.reverts(NOT_OWNER):
        ch.set_dust_notional(0, sender=attacker)


# ---------------------------------------------------------------- insurance vault wiring


def test_set_insurance_vault(bare, project, owner):
    ch = bare.clearinghouse
    assert ch.insurance_vault() == ZERO_ADDRESS
    vault = owner.deploy(project.InsuranceVault, bare.token, ch, 86400)
    receipt = ch.set_insurance_vault(vault, sender=owner)
    logged = events(ch.InsuranceVaultSet, receipt)
    assert len(logged) == 1 and logged[0].vault == vault.address
    assert ch.insurance_vault() == vault.address


def test_set_insurance_vault_only_by_owner(bare, project, owner, attacker):
    vault = owner.deploy(project.InsuranceVault, bare.token, bare.clearinghouse, 86400)
    with ape.reverts(NOT_OWNER):
        bare.clearinghouse.set_insurance_vault(vault, sender=attacker)


def test_set_insurance_vault_rejects_zero(bare, owner):
    with ape.reverts("clearing: zero vault"):
        bare.clearinghouse.set_insurance_vault(ZERO_ADDRESS, sender=owner)


def test_set_insurance_vault_rejects_asset_mismatch(bare, project, owner, token18):
    vault = owner.deploy(project.InsuranceVault, token18, bare.clearinghouse, 86400)
    with ape.reverts("clearing: vault asset mismatch"):
        bare.clearinghouse.set_insurance_vault(vault, sender=owner)


def test_set_insurance_vault_only_once(protocol, project, owner):
    ch = protocol.clearinghouse
    second = owner.deploy(project.InsuranceVault, protocol.token, ch, 86400)
    with ape.reverts("clearing: vault already set"):
        ch.set_insurance_vault(second, sender=owner)
    assert ch.insurance_vault() == protocol.vault.address


def test_set_insurance_vault_rejects_vault_of_another_clearinghouse(bare, project, owner, other):
    """The wiring is one-shot, and a vault that only accepts revenue and `cover` calls from some
    other address can never be paid or asked to cover: `sweep_fees` and every
    `liquidate_bankrupt` would revert forever. Such a vault must be refused."""
    ch = bare.clearinghouse
    foreign = owner.deploy(project.InsuranceVault, bare.token, other, 86400)
    assert foreign.clearinghouse() == other.address
    with ape.reverts("clearing: vault bound to another clearinghouse"):
        ch.set_insurance_vault(foreign, sender=owner)


# ---------------------------------------------------------------- fees: sweep and withdrawal


@pytest.fixture(scope="module")
def funded(protocol, bare, trader, maker):
    """trader and maker hold 100,000 tokens in both protocols."""
    for p in (protocol, bare):
        fund(p, trader, 100_000 * 10**6)
        fund(p, maker, 100_000 * 10**6)


def _trade_for_fees(protocol, trader, maker, size=WAD // 10):
    fill(protocol, trader, maker, size, PRICE)
    n = notional(size, PRICE)
    return fee(n, DEFAULT_MAKER_FEE) + fee(n, DEFAULT_TAKER_FEE)


def test_sweep_fees_splits_between_vault_and_protocol(funded, protocol, trader, maker, attacker):
    ch, token, vault = protocol.clearinghouse, protocol.token, protocol.vault
    size = 123_456_789_012_345_678
    fees = _trade_for_fees(protocol, trader, maker, size)
    assert ch.treasury() == fees
    assert ch.protocol_fees() == 0
    balance_before = token.balanceOf(ch)

    receipt = ch.sweep_fees(sender=attacker)  # anyone may sweep
    to_vault = fees * DEFAULT_INSURANCE_FEE_SHARE // WAD  # the vault's share rounds down
    to_protocol = fees - to_vault
    logged = events(ch.FeesSwept, receipt)
    assert len(logged) == 1
    assert (logged[0].vault, logged[0].to_vault, logged[0].to_protocol) == (vault.address, to_vault, to_protocol)
    assert token.balanceOf(vault) == to_vault
    assert vault.totalAssets() == to_vault
    assert token.balanceOf(ch) == balance_before - to_vault
    assert ch.protocol_fees() == to_protocol
    assert ch.treasury() == to_protocol


def test_sweep_fees_uses_the_configured_share(funded, protocol, owner, trader, maker):
    ch = protocol.clearinghouse
    share = 3 * 10**17
    ch.set_insurance_fee_share(share, sender=owner)
    fees = _trade_for_fees(protocol, trader, maker, 77_777_777_777_777_777)
    ch.sweep_fees(sender=owner)
    to_vault = fees * share // WAD
    assert protocol.token.balanceOf(protocol.vault) == to_vault
    assert ch.protocol_fees() == fees - to_vault


def test_sweep_fees_with_nothing_to_sweep_is_a_no_op(protocol, other):
    ch = protocol.clearinghouse
    receipt = ch.sweep_fees(sender=other)
    assert events(ch.FeesSwept, receipt) == []
    assert ch.treasury() == 0
    assert protocol.token.balanceOf(protocol.vault) == 0


def test_sweep_fees_twice_sends_nothing_more(funded, protocol, trader, maker, other):
    ch = protocol.clearinghouse
    fees = _trade_for_fees(protocol, trader, maker)
    ch.sweep_fees(sender=other)
    vault_balance = protocol.token.balanceOf(protocol.vault)
    receipt = ch.sweep_fees(sender=other)
    assert events(ch.FeesSwept, receipt) == []
    assert protocol.token.balanceOf(protocol.vault) == vault_balance
    assert ch.protocol_fees() == fees - fees * DEFAULT_INSURANCE_FEE_SHARE // WAD


def test_sweep_fees_without_vault_reverts(bare, other):
    with ape.reverts("clearing: no insurance vault"):
        bare.clearinghouse.sweep_fees(sender=other)


def test_fees_accrued_before_vault_is_wired_are_swept_to_it(funded, bare, project, owner, trader, maker):
    ch = bare.clearinghouse
    fees = _trade_for_fees(bare, trader, maker)
    assert ch.treasury() == fees
    vault = owner.deploy(project.InsuranceVault, bare.token, ch, 86400)
    ch.set_insurance_vault(vault, sender=owner)
    ch.sweep_fees(sender=owner)
    assert bare.token.balanceOf(vault) == fees * DEFAULT_INSURANCE_FEE_SHARE // WAD


def test_withdraw_protocol_fees(funded, protocol, owner, trader, maker, other):
    ch, token = protocol.clearinghouse, protocol.token
    fees = _trade_for_fees(protocol, trader, maker)
    ch.sweep_fees(sender=owner)
    available = fees - fees * DEFAULT_INSURANCE_FEE_SHARE // WAD
    assert ch.protocol_fees() == available

    receipt = ch.withdraw_protocol_fees(other, available - 1, sender=owner)
    logged = events(ch.ProtocolFeesWithdrawn, receipt)
    assert len(logged) == 1
    assert (logged[0].receiver, logged[0].amount) == (other.address, available - 1)
    assert token.balanceOf(other) == available - 1
    assert ch.protocol_fees() == 1
    assert ch.treasury() == 1
    ch.withdraw_protocol_fees(other, 1, sender=owner)
    assert ch.protocol_fees() == 0
    assert token.balanceOf(other) == available


def test_withdraw_protocol_fees_only_by_owner(funded, protocol, owner, trader, maker, attacker):
    _trade_for_fees(protocol, trader, maker)
    protocol.clearinghouse.sweep_fees(sender=owner)
    with ape.reverts(NOT_OWNER):
        protocol.clearinghouse.withdraw_protocol_fees(attacker, 1, sender=attacker)


def test_withdraw_protocol_fees_rejects_zero_receiver_and_zero_amount(funded, protocol, owner, trader, maker):
    _trade_for_fees(protocol, trader, maker)
    ch = protocol.clearinghouse
    ch.sweep_fees(sender=owner)
    with ape.reverts("clearing: zero receiver"):
        ch.withdraw_protocol_fees(ZERO_ADDRESS, 1, sender=owner)
    with ape.reverts("clearing: zero amount"):
        ch.withdraw_protocol_fees(owner, 0, sender=owner)


def test_withdraw_protocol_fees_cannot_exceed_protocol_fees(funded, protocol, owner, trader, maker):
    ch = protocol.clearinghouse
    fees = _trade_for_fees(protocol, trader, maker)
    available = fees - fees * DEFAULT_INSURANCE_FEE_SHARE // WAD
    # unswept fees are split first: only the protocol's part can be withdrawn
    with ape.reverts("clearing: exceeds protocol fees"):
        ch.withdraw_protocol_fees(owner, available + 1, sender=owner)
    ch.withdraw_protocol_fees(owner, available, sender=owner)
    assert ch.protocol_fees() == 0
    # the vault's part waits for the sweep
    assert ch.treasury() == fees - available
    ch.sweep_fees(sender=owner)
    assert protocol.token.balanceOf(protocol.vault) == fees - available
    with ape.reverts("clearing: exceeds protocol fees"):
        ch.withdraw_protocol_fees(owner, 1, sender=owner)


# ---------------------------------------------------------------- fees are junior to bad debt


@pytest.fixture(scope="module")
def clawback_protocol(project, chain, owner):
    """The profit_clawback deployable: the one policy that leaves a residual to bad debt when the
    opposite side holds no net profit (pro_rata_size always has the bankrupt position's own
    counterparty side to charge, sized on the book before the takeover)."""
    from support.protocol import build_protocol

    return build_protocol(project, chain, owner, loss_policy="profit_clawback")


def _bad_debt(protocol, owner, trader, maker, other, short_price, crash_price):
    """1 % fees, no fee share for the (empty) vault; `trader` 10x long 1 BTC against `maker` at
    50,000; the price falls to `short_price`, where `maker` buys its short back from `other`
    (now short 1 BTC there), then rises to `crash_price`, still below the trader's bankruptcy
    price and above `other`'s entry: the only opposite position is at a loss, profit_clawback
    charges nobody, so the deficit is bad debt. Returns the protocol fees held."""
    ch = protocol.clearinghouse
    ch.set_fees(0, 10**16, 10**16, sender=owner)
    ch.set_insurance_fee_share(0, sender=owner)
    fund(protocol, trader, 5_600 * 10**6)
    fund(protocol, maker, 100_000 * 10**6)
    fund(protocol, other, 100_000 * 10**6)
    fill(protocol, trader, maker, -WAD, PRICE)  # maker sells 1 BTC to trader
    protocol.set_price(short_price)
    fill(protocol, other, maker, WAD, short_price * WAD)  # maker buys it back from other
    protocol.set_price(crash_price)
    ch.liquidate_bankrupt(trader, sender=maker)
    assert ch.bad_debt() > 0
    return ch.protocol_fees()


def _gap(protocol, accounts):
    ch = protocol.clearinghouse
    return protocol.token.balanceOf(ch) + ch.bad_debt() - ch.treasury() - sum(ch.equity(a) for a in accounts)


def test_sweep_pays_bad_debt_from_protocol_fees_first(clawback_protocol, owner, staker, liquidator, other):
    protocol = clawback_protocol
    ch = protocol.clearinghouse
    held = _bad_debt(protocol, owner, staker, liquidator, other, 39_000, 40_000)  # deficit 4,900: above the fees
    bad = ch.bad_debt()
    assert held == 2 * (500 + 390) * 10**6 and bad == 4_900 * 10**6
    gap = _gap(protocol, (staker, liquidator, other))
    receipt = ch.sweep_fees(sender=other)
    logged = events(ch.BadDebtRepaid, receipt)
    assert len(logged) == 1
    assert logged[0].amount == held
    assert ch.bad_debt() == bad - held
    assert ch.protocol_fees() == 0
    # the identity balance + bad_debt - treasury - sum(equity) moves by nothing
    assert _gap(protocol, (staker, liquidator, other)) == gap
    # while bad debt remains no protocol fee can leave
    with ape.reverts("clearing: exceeds protocol fees"):
        ch.withdraw_protocol_fees(owner, 1, sender=owner)


def test_withdraw_protocol_fees_repays_bad_debt_first(clawback_protocol, owner, staker, liquidator, other):
    protocol = clawback_protocol
    ch = protocol.clearinghouse
    held = _bad_debt(protocol, owner, staker, liquidator, other, 44_000, 44_800)  # deficit 100: below the fees
    bad = ch.bad_debt()
    assert bad == 100 * 10**6 and bad < held
    gap = _gap(protocol, (staker, liquidator, other))
    # without a sweep the withdrawal itself pays the bad debt first
    with ape.reverts("clearing: exceeds protocol fees"):
        ch.withdraw_protocol_fees(owner, held - bad + 1, sender=owner)
    balance = protocol.token.balanceOf(owner)
    receipt = ch.withdraw_protocol_fees(owner, held - bad, sender=owner)
    assert [e.amount for e in events(ch.BadDebtRepaid, receipt)] == [bad]
    assert ch.bad_debt() == 0
    assert ch.protocol_fees() == 0
    assert protocol.token.balanceOf(owner) == balance + held - bad
    assert _gap(protocol, (staker, liquidator, other)) == gap


# ---------------------------------------------------------------- parameter changes act forward


def test_set_insurance_fee_share_splits_fees_earned_so_far(funded, protocol, owner, trader, maker):
    ch = protocol.clearinghouse
    fees = _trade_for_fees(protocol, trader, maker, 123_456_789_012_345_678)
    ch.set_insurance_fee_share(WAD, sender=owner)  # from now on all to the vault
    assert ch.protocol_fees() == fees - fees * DEFAULT_INSURANCE_FEE_SHARE // WAD
    later = _trade_for_fees(protocol, trader, maker, 10**17)
    ch.sweep_fees(sender=owner)
    # the fees before the change went out at the old 50 %, the later ones at 100 %
    assert protocol.token.balanceOf(protocol.vault) == fees * DEFAULT_INSURANCE_FEE_SHARE // WAD + later
    assert ch.protocol_fees() == fees - fees * DEFAULT_INSURANCE_FEE_SHARE // WAD


def test_set_insurance_fee_share_without_a_vault_keeps_the_vault_share(funded, bare, project, owner, trader, maker):
    ch = bare.clearinghouse
    fees = _trade_for_fees(bare, trader, maker)
    ch.set_insurance_fee_share(0, sender=owner)
    vault = owner.deploy(project.InsuranceVault, bare.token, ch, 86400)
    ch.set_insurance_vault(vault, sender=owner)
    ch.sweep_fees(sender=owner)
    assert bare.token.balanceOf(vault) == fees * DEFAULT_INSURANCE_FEE_SHARE // WAD


def test_set_margins_raise_is_bounded_while_positions_are_open(funded, protocol, chain, owner, trader, maker):
    ch = protocol.clearinghouse
    fill(protocol, trader, maker, WAD // 10, PRICE)
    point = WAD // 100
    with ape.reverts("registry: mmr raise above 1 point a day"):
        ch.set_margins(0, IMR, MMR + point + 1, sender=owner)
    receipt = ch.set_margins(0, IMR, MMR + point, sender=owner)
    assert events(ch.MarginsSet, receipt)[0].mmr == MMR + point
    # a second raise the same day is refused, however small
    with ape.reverts("registry: mmr raise above 1 point a day"):
        ch.set_margins(0, IMR, MMR + point + 1, sender=owner)
    # lowering mmr and changing imr act at once; raising back is still a raise that day
    ch.set_margins(0, IMR + point, MMR, sender=owner)
    with ape.reverts("registry: mmr raise above 1 point a day"):
        ch.set_margins(0, IMR, MMR + point, sender=owner)
    chain.pending_timestamp += 86400
    ch.set_margins(0, IMR, MMR + point, sender=owner)
    assert ch.market_params(0).mmr == MMR + point


def test_set_margins_raise_is_free_without_open_positions(protocol, owner):
    ch = protocol.clearinghouse
    assert ch.open_interest(0) == 0
    ch.set_margins(0, WAD // 2, WAD // 4, sender=owner)
    ch.set_margins(0, WAD // 2 + 1, WAD // 4 + 1, sender=owner)
    assert ch.market_params(0).mmr == WAD // 4 + 1
