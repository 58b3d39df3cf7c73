# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title MockVaultClearinghouse
@notice Test helper: plays the Clearinghouse for the InsuranceVault tests. It holds vault
        revenue pending until `sweep_fees` (like the real `treasury()` share), reports a
        settable equity per account (visible bankruptcies for `flag_loss`), exposes the
        `pending_vault_revenue()` view the vault's previews read, and forwards `cover`.
        Fund it by minting tokens to it. Never deployed outside tests.
"""

from ethereum.ercs import IERC20


interface IVault:
    def notify_revenue(amount: uint256): nonpayable
    def cover(amount: uint256) -> uint256: nonpayable


token: public(immutable(address))
vault: public(address)
pending_vault_revenue: public(uint256)
equity: public(HashMap[address, int256])


@deploy
def __init__(token_: address):
    """
    @param token_ The collateral token.
    """
    token = token_


@external
def set_vault(vault_: address):
    """
    @notice Wire the vault.
    @param vault_ The InsuranceVault.
    """
    self.vault = vault_


@external
def accrue(amount: uint256):
    """
    @notice Earn `amount` of vault revenue that waits here until swept (tokens must be held).
    @param amount Token base units.
    """
    self.pending_vault_revenue += amount


@external
@reentrant
def sweep_fees():
    """
    @notice Send the pending vault revenue and notify the vault (anyone may call it).
    """
    amount: uint256 = self.pending_vault_revenue
    if amount == 0:
        return
    self.pending_vault_revenue = 0
    assert extcall IERC20(token).transfer(self.vault, amount)
    extcall IVault(self.vault).notify_revenue(amount)


@external
def pay_revenue(amount: uint256):
    """
    @notice Transfer `amount` to the vault and notify it at once.
    @param amount Token base units.
    """
    assert extcall IERC20(token).transfer(self.vault, amount)
    extcall IVault(self.vault).notify_revenue(amount)


@external
def cover(amount: uint256) -> uint256:
    """
    @notice Ask the vault to cover `amount`.
    @param amount Token base units.
    @return What the vault paid.
    """
    return extcall IVault(self.vault).cover(amount)


@external
def set_equity(account: address, amount: int256):
    """
    @notice Set the equity `equity(account)` reports.
    @param account Any account.
    @param amount Equity in token base units (negative: bankrupt).
    """
    self.equity[account] = amount
