"""The keeper against the in-process chain: an account made liquidatable by a price drop is
liquidated (partial), a bankrupt one is flagged on the vault, resolved with liquidate_bankrupt and
its flag cleared."""
from keeper_support import USDC, WAD, fund, open_position

from simulation import keeper as keeper_module


def set_price(feed, whole_price, sender):
    feed.set_answer(int(whole_price * 10**8), sender=sender)


def test_keeper_liquidates_then_resolves_bankruptcy(chain, owner, trader, maker, liquidator, other,
                                                    contracts, deployment):
    ch, btc = contracts["ch"], contracts["feeds"][0]
    d, manifest = deployment
    fund(contracts, maker, 500_000 * USDC)
    fund(contracts, trader, 6_000 * USDC)
    # the trader goes long 1 BTC at 50,000 (the maker sells)
    open_position(contracts, chain, maker, trader, 0, -WAD, 50_000 * WAD)
    assert ch.position_size(trader, 0) == WAD

    keeper = keeper_module.build_keeper(manifest, liquidator,
                                        keeper_module.KeeperOptions(once=True))
    # nothing to do while healthy (and the keeper has no collateral yet)
    assert keeper.run().liquidations == 0
    assert trader.address in keeper.accounts and maker.address in keeper.accounts

    keeper_module.deposit_for_keeper(manifest, liquidator, 200_000 * USDC)
    set_price(btc, 46_000, owner)  # equity ~1,975 < maintenance 2,300, still >= 0
    assert ch.is_liquidatable(trader) and ch.equity(trader) >= 0
    keeper = keeper_module.build_keeper(manifest, liquidator, keeper_module.KeeperOptions(once=True))
    stats = keeper.run()
    assert stats.liquidations >= 1 and stats.failed == 0
    assert 0 < ch.position_size(trader, 0) < WAD  # close factor 50 %: partial
    assert ch.position_size(liquidator, 0) > 0
    assert not ch.is_liquidatable(trader)

    # `other` opens 1 BTC long at 46,000 on 4,700 of collateral; then BTC drops to 41,000:
    # both `other` (4,700 - 5,000 - fee) and the trader (0.5 BTC left) are bankrupt
    fund(contracts, other, 4_700 * USDC)
    open_position(contracts, chain, maker, other, 0, -WAD, 46_000 * WAD)
    set_price(btc, 41_000, owner)
    deficits = {a.address: -ch.equity(a) for a in (trader, other)}
    assert all(v > 0 for v in deficits.values())
    stats = keeper.run()
    assert stats.bankruptcies == 2 and stats.failed == 0
    # flag, resolve, clear: both flagged before either is resolved, both cleared after
    kinds = [(s[0], s[1]) for s in stats.sent if s[0] in ("flag_loss", "liquidate_bankrupt", "clear_loss")]
    assert [k for k, _ in kinds][:2] == ["flag_loss", "flag_loss"] and len(kinds) == 6
    for acct in (trader, other):
        mine = [k for k, a in kinds if a == acct.address]
        assert mine == ["flag_loss", "liquidate_bankrupt", "clear_loss"]
        assert not contracts["vault"].loss_flagged(acct)
    assert (stats.losses_flagged, stats.losses_cleared) == (2, 2) and contracts["vault"].open_losses() == 0
    bankrupt_sent = [s for s in stats.sent if s[0] == "liquidate_bankrupt"]
    # largest deficit first
    assert [s[1] for s in bankrupt_sent] == sorted(deficits, key=deficits.get, reverse=True)
    for acct in (trader, other):
        assert ch.position_size(acct, 0) == 0 and ch.equity(acct) == 0
    assert not ch.is_liquidatable(liquidator)


def test_keeper_cli_once(deployment, contracts, chain, owner, maker, staker, keeper_script):
    """`ape run keeper --once` through click, in-process: deposits, liquidates, exits 0."""
    from click.testing import CliRunner

    d, manifest = deployment
    ch, eth = contracts["ch"], contracts["feeds"][1]
    fund(contracts, maker, 100_000 * USDC)
    fund(contracts, staker, 650 * USDC)
    open_position(contracts, chain, maker, staker, 1, 2 * WAD, 3_000 * WAD)  # staker short 2 ETH
    eth.set_answer(3_300 * 10**8, sender=owner)  # equity ~47 < maintenance 330
    assert ch.is_liquidatable(staker) and ch.equity(staker) >= 0
    r = CliRunner().invoke(keeper_script.cli, ["--network", "ethereum:local:test", "--manifest", str(manifest),
                                               "--account", "TEST::6", "--deposit", "50000", "--once"])
    assert r.exit_code == 0, r.output
    assert "1 liquidations" in r.output
    assert -2 * WAD < ch.position_size(staker, 1) < 0
    dry = CliRunner().invoke(keeper_script.cli, ["--network", "ethereum:local:test", "--manifest", str(manifest),
                                                 "--once", "--dry-run", "--max-blocks", "1"])
    assert dry.exit_code == 0, dry.output
