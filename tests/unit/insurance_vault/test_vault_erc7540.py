"""Standard conformance found by a16z's ERC-4626 property suite: previews and claims agree
(issue: previewRedeem promised more than redeem paid), previews of asynchronous exits revert as
ERC-7540 requires (issue: previews ignored the min rule), and max*/convert*/preview* do not
revert at huge scales (issue: maxWithdraw overflowed)."""
import ape
import pytest
from insurance_vault_helpers import MAX_UINT, events, mul_div


@pytest.fixture
def three_and_one(funded, vault, staker, revenue, matured):
    """Deposit 3, revenue 1, request everything (the a16z counterexample)."""
    vault.deposit(3, staker, sender=staker)
    revenue(1)
    shares = vault.balanceOf(staker)
    vault.request_redeem(shares, sender=staker)
    matured(staker)
    return shares


def test_previews_of_async_exits_revert(three_and_one, vault):
    """ERC-7540: previewRedeem and previewWithdraw MUST revert for an asynchronous redeem."""
    with ape.reverts("vault: async redeem, use maxRedeem"):
        vault.previewRedeem(three_and_one)
    with ape.reverts("vault: async redeem, use maxWithdraw"):
        vault.previewWithdraw(1)


def test_partial_redeem_pays_what_the_claim_views_promise(three_and_one, vault, staker):
    """redeem(s) pays floor(s * maxWithdraw / maxRedeem); withdraw(a) burns
    ceil(a * maxRedeem / maxWithdraw): the per-share claim price of the views, at once."""
    shares, value = vault.maxRedeem(staker), vault.maxWithdraw(staker)
    assert (shares, value) == (three_and_one, 3)
    part = shares * 4 // 5  # 2.4e6 shares
    paid = vault.redeem.call(part, staker, staker, sender=staker)
    assert paid == mul_div(part, value, shares) == 2
    burnt = vault.withdraw.call(1, staker, staker, sender=staker)
    assert burnt == mul_div(1, shares, value, up=True) == 1_000_000  # not 25 % more


def test_claims_never_exceed_the_claim_value(three_and_one, vault, staker):
    """Redeeming in pieces never pays more in total than redeeming at once."""
    value = vault.maxWithdraw(staker)
    total = 0
    for _ in range(3):
        total += events(vault.redeem(three_and_one // 4, staker, staker, sender=staker), "Withdraw")[0].assets
    total += events(vault.redeem(vault.maxRedeem(staker), staker, staker, sender=staker), "Withdraw")[0].assets
    assert total <= value


@pytest.fixture
def huge(owner, project, clearinghouse_account, staker, other):
    """An 18-decimal asset at absurd scale: 2**100 base units staked by each of two stakers, one
    request, then 2**140 of revenue, so shares * (assets + 1) no longer fits in 256 bits."""
    token = owner.deploy(project.MockToken, "Huge", "HUGE", 18)
    vault = owner.deploy(project.InsuranceVault, token, clearinghouse_account, 0)
    for acct in (staker, other):
        token.mint(acct, 2**101, sender=acct)
        token.approve(vault, MAX_UINT, sender=acct)
        vault.deposit(2**100, acct, sender=acct)
    vault.request_redeem(vault.balanceOf(staker), sender=staker)
    token.mint(clearinghouse_account, 2**140, sender=clearinghouse_account)
    token.transfer(vault, 2**140, sender=clearinghouse_account)
    vault.notify_revenue(2**140, sender=clearinghouse_account)
    return vault


def test_max_functions_do_not_overflow_at_huge_scales(huge, staker, other, chain):
    chain.mine()
    shares = huge.maxRedeem(staker)
    assert shares * (huge.totalAssets() + 1) >= 2**256  # the product overflows 256 bits
    value = huge.maxWithdraw(staker)  # reverted with checked-arithmetic overflow before
    assert value == huge.redeem_request(staker)[1]  # the request value binds after revenue
    assert huge.convertToAssets(shares) > value
    for who in (staker, other):
        assert huge.maxDeposit(who) == huge.maxMint(who) == MAX_UINT
        huge.maxRedeem(who), huge.maxWithdraw(who)
    supply = huge.totalSupply()
    assert huge.convertToAssets(supply) <= huge.totalAssets()
    assert huge.convertToShares(huge.totalAssets()) <= supply + 10**6  # the virtual shares
    assert huge.previewMint(supply) >= huge.convertToAssets(supply)
    assert huge.previewDeposit(huge.totalAssets()) == huge.convertToShares(huge.totalAssets())
    assert events(huge.redeem(shares, staker, staker, sender=staker), "Withdraw")[0].assets == value
