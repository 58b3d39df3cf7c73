"""Keeper-reward farming (issue 8, item 6). The bound, documented in README "The loss
waterfall": one resolution pays the keeper at most min(keeper_reward, liquidation penalty on the
taken-over notional), and only out of what the vault can pay after the deficit. Splitting a book
over n accounts therefore earns at most n * keeper_reward and never more than the penalty on the
whole notional, which is what ordinary liquidations of the same notional would have paid; a
split account too small for the penalty to reach keeper_reward earns only the penalty."""
import pytest
from liquidation_model import P0, WAD, price, set_price, tokens

KEEPER_REWARD = tokens(5)
PENALTY = WAD // 40  # mmr / 2 = 2.5 %


def mul_div_down(a, b, d):
    return a * b // d


@pytest.fixture(scope="module")
def split_book(protocol_builder, accounts, owner, maker, liquidator, staker):
    """Three mid-sized accounts (0.1 BTC, penalty 107.5 at 43,000 > 5) and one tiny one
    (0.001 BTC, penalty 1.075 < 5), all long from the maker with 10 % margin; a staked vault."""
    protocol = protocol_builder()
    protocol.token.mint(staker, tokens(100_000), sender=staker)
    protocol.token.approve(protocol.vault, tokens(100_000), sender=staker)
    protocol.vault.deposit(tokens(100_000), staker, sender=staker)
    protocol.fund(maker, 100_000)
    protocol.fund(liquidator, 100_000)
    sizes = (WAD // 10, WAD // 10, WAD // 10, WAD // 1000)
    splits = []
    for size in sizes:
        account = accounts.generate_test_account()
        owner.transfer(account, 10**18)
        protocol.fund(account, 600 * size / WAD * 10)  # 6,000 per BTC: 12 % of 50,000
        protocol.fill(account, maker, -size, P0)
        splits.append((account, size))
    protocol.clearinghouse.sweep_fees(sender=liquidator)
    set_price(protocol, price(43_000))
    return protocol, splits


def test_each_split_account_pays_at_most_the_penalty_on_its_notional(split_book, liquidator):
    protocol, splits = split_book
    ch = protocol.clearinghouse
    p = price(43_000)
    total_reward = total_cap = 0
    for account, size in splits:
        assert ch.equity(account) < 0
        receipt = ch.liquidate_bankrupt(account, sender=liquidator)
        rewards = [e.amount for e in receipt.events.filter(ch.KeeperRewarded)]
        reward = sum(rewards)
        penalty_cap = mul_div_down(mul_div_down(size, p, 10**30), PENALTY, WAD)
        assert reward == min(KEEPER_REWARD, penalty_cap)
        total_reward += reward
        total_cap += penalty_cap
    assert total_reward == 3 * KEEPER_REWARD + mul_div_down(mul_div_down(WAD // 1000, p, 10**30), PENALTY, WAD)
    assert total_reward <= min(len(splits) * KEEPER_REWARD, total_cap)
