# pragma version 0.4.3
# pragma nonreentrancy on
# pragma optimize codesize
# pragma experimental-codegen
"""
@title LiquidationProRataSize
@notice The liquidation engine of a `pro_rata_size` Clearinghouse: `liquidate`,
        `liquidate_bankrupt` and `backstop_bankrupt`, run by the Clearinghouse through
        DELEGATECALL on its own storage. Called directly it only sees its own, empty storage.
@dev Initializes exactly the Clearinghouse's modules in the same order (storage layouts must
     agree). The engines of the other policies differ only in the policy module imported.
"""

from .modules import ownable_2step as ownable
from .modules import market_registry as registry
from .modules import loss_index
from .modules import pro_rata_size as policy
from .modules import clearing
from .modules import liquidation
from .modules import engine_link
from ethereum.ercs import IERC20Detailed

initializes: ownable
initializes: registry[ownable := ownable]
initializes: loss_index
initializes: policy[loss_index := loss_index]
initializes: clearing[ownable := ownable, registry := registry, loss_index := loss_index]
initializes: liquidation[registry := registry, clearing := clearing]
initializes: engine_link

exports: (
    policy.loss_policy,
    clearing.collateral_token,
    liquidation.liquidate,
)


@deploy
def __init__(collateral: address):
    """
    @param collateral The Clearinghouse's collateral token: the engine's immutables (token,
           decimals scale, whether cost is tracked) must equal the Clearinghouse's.
    """
    decimals: uint256 = convert(staticcall IERC20Detailed(collateral).decimals(), uint256)
    ownable.__init__()
    registry.__init__(10**decimals)
    loss_index.__init__(policy.TRACKS_COST, policy.CHARGES_INDEX)
    clearing.__init__(collateral, decimals)


@external
def liquidate_bankrupt(account: address):
    """
    @notice Resolve an account whose equity is negative. The bankruptcy is sized on the book
            as it stands; the deficit is covered by the insurance vault (up to its per-event
            limit), the residual is charged to the opposite side of the markets where the
            account lost money (pro rata to those losses; within a market pro rata to size,
            a keeper holding that side included), and whatever is left is bad debt. Then the
            caller takes over all of the account's positions at oracle prices and the account
            ends flat with zero collateral. The caller receives a keeper reward paid by the
            vault from what it can pay after the deficit, at most `keeper_reward` and at most
            the liquidation penalty on the taken-over notional; it must meet initial margin.
    @param account The bankrupt account.
    """
    book: liquidation.Bankrupt = liquidation._open_bankruptcy(account, msg.sender, True)
    liquidation._close_bankruptcy(account, msg.sender, msg.sender, book, self._charge_policy(book))


@external
def backstop_bankrupt(account: address):
    """
    @notice Resolve a bankruptcy that no keeper can take over whole: the same waterfall as
            `liquidate_bankrupt`, but the positions move to the Clearinghouse's own margin
            account (the backstop book, left at equity zero) instead of the caller; keepers
            then take them over piece by piece with `liquidate(clearinghouse, market, size)`.
            Anyone may call it; it pays no keeper reward.
    @param account The bankrupt account.
    """
    book: liquidation.Bankrupt = liquidation._open_bankruptcy(account, msg.sender, False)
    liquidation._close_bankruptcy(account, msg.sender, self, book, self._charge_policy(book))


@internal
def _charge_policy(book: liquidation.Bankrupt) -> uint256:
    """
    @dev Waterfall step 2: hand each market's share of the residual to the loss policy, on
         the open interest as it stood before the takeover.
    @return What the policy charged in total.
    """
    socialized: uint256 = 0
    for market: uint256 in range(registry.MAX_MARKETS):
        share: uint256 = book.shares[market]
        if share == 0:
            continue
        socialized += policy._charge(
            market, book.charge_longs[market], share, clearing._open_interest(market), book.prices[market], clearing._scale()
        )
    return socialized
