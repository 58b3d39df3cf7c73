# pragma version 0.4.3
# pragma nonreentrancy on
# pragma optimize codesize
# pragma experimental-codegen
"""
@title LiquidationAdl
@notice The liquidation engine of an `adl` Clearinghouse (ClearinghouseAdl): `liquidate`,
        `liquidate_bankrupt` and `deleverage`, run by the Clearinghouse through DELEGATECALL
        on its own storage. Called directly it only sees its own, empty storage.
@dev Initializes exactly ClearinghouseAdl's modules in the same order (storage layouts must
     agree). The waterfall steps live in contracts/modules/deleveraging.vy.
"""

from .modules import ownable_2step as ownable
from .modules import market_registry as registry
from .modules import loss_index
from .modules import clearing
from .modules import liquidation
from .modules import engine_link
from .modules import adl as policy
from .modules import deleveraging
from ethereum.ercs import IERC20Detailed

initializes: ownable
initializes: registry[ownable := ownable]
initializes: loss_index
initializes: clearing[ownable := ownable, registry := registry, loss_index := loss_index]
initializes: liquidation[registry := registry, clearing := clearing]
initializes: engine_link
initializes: policy
initializes: deleveraging[registry := registry, loss_index := loss_index, clearing := clearing, liquidation := liquidation, adl := policy]

exports: (
    policy.loss_policy,
    clearing.collateral_token,
    # owner functions the Clearinghouse delegates here (room under EIP-170)
    clearing.set_insurance_vault,
    clearing.withdraw_protocol_fees,
    clearing.set_margins,
    clearing.set_funding_params,
    clearing.set_insurance_fee_share,
)


@deploy
def __init__(collateral: address):
    """
    @param collateral The Clearinghouse's collateral token: the engine's immutables (token,
           decimals scale) must equal the Clearinghouse's.
    """
    decimals: uint256 = convert(staticcall IERC20Detailed(collateral).decimals(), uint256)
    ownable.__init__()
    registry.__init__(10**decimals)
    loss_index.__init__(policy.TRACKS_COST, policy.CHARGES_INDEX)
    clearing.__init__(collateral, decimals)
    policy.__init__(decimals)


@external
def liquidate(account: address, market: uint256, size: uint256):
    """
    @notice Take over `size` of a liquidatable (not bankrupt) account's position in `market`
            at the oracle price, for a penalty (see liquidation.vy); neither side may be under
            resolution, and both positions move to the ADL bucket of their new entry price.
    @param account The account to liquidate.
    @param market The market whose position is reduced.
    @param size How much to take over; at most `max_liquidatable_size(account, market)`.
    """
    policy._check_active(account)
    policy._check_active(msg.sender)
    account_word: uint256 = clearing._position[account][market]
    keeper_word: uint256 = clearing._position[msg.sender][market]
    liquidation._liquidate(account, market, size, msg.sender)
    policy._on_fill(account, market, account_word, clearing._position[account][market])
    policy._on_fill(msg.sender, market, keeper_word, clearing._position[msg.sender][market])


@external
def liquidate_bankrupt(account: address):
    """
    @notice Start or continue resolving an account whose equity is negative. At the start the
            bankruptcy is sized on the book as it stands and the insurance vault pays what it
            can; if that covers it, or no market has a winner opposite a losing position, the
            caller takes over every position at oracle prices and the rest is bad debt (as
            under the other policies). Otherwise the account is frozen for deleveraging
            (`deleverage`), positions in markets without a share of the residual go to the
            caller at the oracle price, and each other market gets its bankruptcy price. On a
            frozen account it lets the caller take, at the oracle price, what remains in every
            market whose winners are exhausted, and ends the resolution once the account is flat.
            The caller must meet initial margin whenever it takes a position over.
    @param account The bankrupt account.
    """
    assert account != msg.sender, "liquidate_bankrupt: cannot liquidate yourself"
    if not policy._is_frozen(account):
        if deleveraging._open(account, msg.sender):
            return
    policy._check_active(msg.sender)
    deleveraging._take_exhausted(account, msg.sender)
    deleveraging._finish_if_flat(account)


@external
def deleverage(account: address, market: uint256, counterparties: DynArray[address, deleveraging.MAX_COUNTERPARTIES]):
    """
    @notice Close a bankrupt account's position in `market` against winners at its bankruptcy
            price (starting the resolution first, as `liquidate_bankrupt`, if needed). Each
            counterparty must hold an opposite position in profit at the oracle price in the
            best-ranked non-empty bucket of its side at the time of its fill (ranking: PnL % at
            the oracle price, i.e. entry price: the lowest-entry longs, the highest-entry
            shorts first); it is closed for what the bankrupt position still needs, at most its
            size and at most what its profit pays for (then the rest of it is re-based at the
            oracle price). When the market's winners are exhausted the caller takes the rest at
            the oracle price; once the account is flat the resolution ends (`Bankruptcy`).
    @param account The account being resolved.
    @param market The market.
    @param counterparties At most 16 winners, best-ranked first.
    """
    assert account != msg.sender, "deleverage: cannot deleverage yourself"
    if not policy._is_frozen(account):
        if deleveraging._open(account, msg.sender):
            return
    policy._check_active(msg.sender)
    deleveraging._fill(account, market, counterparties, msg.sender)
    deleveraging._finish_if_flat(account)
