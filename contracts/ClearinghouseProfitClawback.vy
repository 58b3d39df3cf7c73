# pragma version 0.4.3
# pragma nonreentrancy on
# pragma optimize codesize
# pragma experimental-codegen
"""
@title ClearinghouseProfitClawback
@notice Clawback's perpetual-futures clearinghouse with the `profit_clawback` loss policy: one
        collateral token, cross-margin accounts over several markets, signed-order trading,
        funding, liquidation and the loss waterfall (insurance vault, the residual charged to
        the opposite side's positions pro rata to their unrealized profit, bad debt). See DESIGN.md for the interface, units
        and invariants; the logic lives in the modules under contracts/modules/.
@dev Thin deployable, one per loss policy (Clearinghouse.vy, pro_rata_size, is its sibling).
     `liquidate`, `liquidate_bankrupt` and `backstop_bankrupt` run the code of the policy's
     engine (LiquidationProfitClawback, wired once with `set_loss_engine`) by DELEGATECALL on this
     contract's storage; everything else runs here. Both deployables initialize the same
     modules in the same order, so their storage layouts agree.
"""

from ethereum.ercs import IERC20Detailed
from .modules import ownable_2step as ownable
from .modules import market_registry as registry
from .modules import loss_index
from .modules import profit_clawback as policy
from .modules import clearing
from .modules import liquidation
from .modules import engine_link


interface ILiquidationEngine:
    def loss_policy() -> String[32]: view
    def collateral_token() -> address: view


initializes: ownable
initializes: registry[ownable := ownable]
initializes: loss_index
initializes: policy[loss_index := loss_index]
initializes: clearing[ownable := ownable, registry := registry, loss_index := loss_index]
initializes: liquidation[registry := registry, clearing := clearing]
initializes: engine_link

exports: (
    ownable.__interface__,
    registry.__interface__,
    policy.__interface__,
    loss_index.socialized_loss,
    clearing.__interface__,
    liquidation.max_liquidatable_size,
    engine_link.loss_engine,
)


@deploy
def __init__(collateral: address):
    """
    @param collateral The collateral token (at most 18 decimals). The deployer becomes owner
           and guardian.
    """
    assert collateral.is_contract, "clearinghouse: collateral is not a contract"
    decimals: uint256 = convert(staticcall IERC20Detailed(collateral).decimals(), uint256)
    ownable.__init__()
    registry.__init__(10**decimals)
    loss_index.__init__(policy.TRACKS_COST, policy.CHARGES_INDEX)
    clearing.__init__(collateral, decimals)
    if False:
        # never runs: lists the events the engine emits from this address in this ABI
        log liquidation.Liquidation(account=empty(address), liquidator=empty(address), market=0, size=0, price=0, penalty=0, liquidator_reward=0)
        log liquidation.Bankruptcy(account=empty(address), deficit=0, insurance_paid=0, socialized=0, bad_debt=0)
        log liquidation.BankruptcyTakeover(account=empty(address), liquidator=empty(address), market=0, size=0, price=0, loss=0)
        log liquidation.KeeperRewarded(keeper=empty(address), amount=0)
        log policy.ProfitClawedBack(market=0, long_side=False, amount=0, side_profit=0, index_x=0, index_y=0)


@external
def set_loss_engine(engine: address):
    """
    @notice Wire the liquidation engine (once): a LiquidationProfitClawback deployed over the
            same collateral token. Until then liquidations revert.
    @param engine The engine's address.
    """
    ownable._check_owner()
    assert staticcall ILiquidationEngine(engine).loss_policy() == policy.loss_policy, "set_loss_engine: engine runs another loss policy"
    assert staticcall ILiquidationEngine(engine).collateral_token() == clearing.collateral_token, "set_loss_engine: engine over another collateral"
    engine_link._set(engine)


@external
@reentrant
def liquidate(account: address, market: uint256, size: uint256):
    """
    @notice Take over `size` of a liquidatable (not bankrupt) account's position in `market`
            at the oracle price, for a penalty (see liquidation.vy). Runs on the engine.
    @param account The account to liquidate.
    @param market The market whose position is reduced.
    @param size How much to take over; at most `max_liquidatable_size(account, market)`.
    """
    engine_link._delegate()


@external
@reentrant
def liquidate_bankrupt(account: address):
    """
    @notice Resolve an account whose equity is negative; the caller takes its positions over
            (see LiquidationProfitClawback.liquidate_bankrupt). Runs on the engine.
    @param account The bankrupt account.
    """
    engine_link._delegate()


@external
@reentrant
def backstop_bankrupt(account: address):
    """
    @notice Resolve a bankruptcy without a keeper holding the whole book; the positions move
            to this contract's backstop account (see LiquidationProfitClawback). Runs on the engine.
    @param account The bankrupt account.
    """
    engine_link._delegate()
