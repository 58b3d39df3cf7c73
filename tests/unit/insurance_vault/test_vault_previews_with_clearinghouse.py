"""previewDeposit / previewMint against the real Clearinghouse of every loss policy: while fee
shares and penalties wait to be swept, the previews (which read `pending_vault_revenue()`)
equal what `deposit` / `mint` (which sweep first) actually mint and take."""
import pytest
from insurance_vault_helpers import MAX_UINT, USDC

from simulation.loss_policies import NAMES


@pytest.fixture(scope="module", params=NAMES)
def wired(request, protocol_builder, owner, maker, trader, staker):
    p = protocol_builder(loss_policy=request.param)
    ch, vault = p.clearinghouse, p.vault
    for acct in (maker, trader):
        p.fund(acct, 1_000_000)
    p.token.mint(staker, 10_000_000 * USDC, sender=owner)
    p.token.approve(vault, MAX_UINT, sender=staker)
    vault.deposit(1_000 * USDC, staker, sender=staker)
    return p


def _accrue_fees(p, maker, trader):
    """Trade back and forth so fees (taker 5 bp, maker 2 bp) wait unswept."""
    # odd sizes (1e18 = one base unit): the fees, and the vault's half of an odd total, round
    p.fill(trader, maker, 3 * 10**17 + 7)
    p.fill(trader, maker, -(3 * 10**17 + 3))


def test_pending_vault_revenue_is_what_a_sweep_sends(wired, maker, trader):
    p = wired
    _accrue_fees(p, maker, trader)
    pending = p.clearinghouse.pending_vault_revenue()
    assert pending > 0
    before = p.token.balanceOf(p.vault)
    p.clearinghouse.sweep_fees(sender=trader)
    assert p.token.balanceOf(p.vault) - before == pending
    assert p.clearinghouse.pending_vault_revenue() == 0


def test_preview_deposit_equals_deposit_while_revenue_pending(wired, maker, trader, staker):
    p = wired
    _accrue_fees(p, maker, trader)
    assert p.clearinghouse.treasury() > 0  # fees wait unswept: the deposit sweeps them first
    assets = 12_345 * USDC + 1
    preview = p.vault.previewDeposit(assets)
    before = p.vault.balanceOf(staker)
    p.vault.deposit(assets, staker, sender=staker)
    assert p.vault.balanceOf(staker) - before == preview


def test_preview_mint_equals_mint_while_revenue_pending(wired, maker, trader, staker):
    p = wired
    _accrue_fees(p, maker, trader)
    assert p.clearinghouse.treasury() > 0  # fees wait unswept: the deposit sweeps them first
    shares = 777 * 10**12 + 5
    preview = p.vault.previewMint(shares)
    before = p.token.balanceOf(staker)
    p.vault.mint(shares, staker, sender=staker)
    assert before - p.token.balanceOf(staker) == preview
