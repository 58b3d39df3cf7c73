# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title MockVaultLens
@notice Test helper: reads the InsuranceVault's accounting and a few accounts' positions in a
        single call, so the stateful fuzz test can check every invariant after every step
        without dozens of RPC round trips. Read-only; never deployed outside tests.
"""

from ethereum.ercs import IERC20


struct Request:
    shares: uint256
    assets: uint256
    claimable_from: uint256
    claimable_until: uint256


interface IVault:
    def asset() -> address: view
    def totalAssets() -> uint256: view
    def totalSupply() -> uint256: view
    def balanceOf(owner: address) -> uint256: view
    def redeem_request(owner: address) -> Request: view
    def claimableRedeemRequest(requestId: uint256, controller: address) -> uint256: view
    def pendingRedeemRequest(requestId: uint256, controller: address) -> uint256: view
    def maxRedeem(owner: address) -> uint256: view
    def maxWithdraw(owner: address) -> uint256: view
    def open_losses() -> uint256: view


struct Position:
    shares: uint256
    request_shares: uint256
    request_assets: uint256
    claimable_from: uint256
    claimable_until: uint256
    pending: uint256
    claimable: uint256
    max_redeem: uint256
    max_withdraw: uint256
    tokens: uint256


struct VaultState:
    total_assets: uint256
    total_supply: uint256
    vault_tokens: uint256
    # requested shares the vault holds, and open flagged losses
    held: uint256
    open_losses: uint256
    positions: DynArray[Position, 8]


@external
@view
def read(vault: address, owners: DynArray[address, 8]) -> VaultState:
    """
    @notice The vault's totals (with the requested shares it holds and its open losses) and, for each of `owners`, its shares, redeem request,
            pending/claimable request shares, maxRedeem, maxWithdraw and asset-token balance.
    @param vault The InsuranceVault.
    @param owners Up to 8 accounts.
    @return The state, positions in the order of `owners`.
    """
    token: IERC20 = IERC20(staticcall IVault(vault).asset())
    state: VaultState = VaultState(
        total_assets=staticcall IVault(vault).totalAssets(),
        total_supply=staticcall IVault(vault).totalSupply(),
        vault_tokens=staticcall token.balanceOf(vault),
        held=staticcall IVault(vault).balanceOf(vault),
        open_losses=staticcall IVault(vault).open_losses(),
        positions=[],
    )
    for owner: address in owners:
        req: Request = staticcall IVault(vault).redeem_request(owner)
        state.positions.append(
            Position(
                shares=staticcall IVault(vault).balanceOf(owner),
                request_shares=req.shares,
                request_assets=req.assets,
                claimable_from=req.claimable_from,
                claimable_until=req.claimable_until,
                pending=staticcall IVault(vault).pendingRedeemRequest(0, owner),
                claimable=staticcall IVault(vault).claimableRedeemRequest(0, owner),
                max_redeem=staticcall IVault(vault).maxRedeem(owner),
                max_withdraw=staticcall IVault(vault).maxWithdraw(owner),
                tokens=staticcall token.balanceOf(owner),
            )
        )
    return state
