# pragma version 0.4.3
# pragma nonreentrancy on
# pragma optimize codesize
# pragma experimental-codegen
"""
@title ClearinghouseAdl
@notice Clawback's perpetual-futures clearinghouse with the `adl` loss policy: the residual of
        a bankruptcy (after the insurance vault) is paid by closing the bankrupt positions
        against the opposite side's winners, best-ranked first, at the bankruptcy price
        (contracts/modules/adl.vy, deleveraging.vy); whatever no winner can pay is bad debt.
@dev Thin deployable, sibling of Clearinghouse.vy (pro_rata_size). `liquidate`,
     `liquidate_bankrupt` and `deleverage`, and the owner's vault wiring, fee withdrawal and
     forward-only setters, run the code of LiquidationAdl by DELEGATECALL on this contract's
     storage. `trade` and `withdraw` wrap clearing's internals: a fill keeps the
     ADL ranking in step (adl._on_fill), and an account under resolution can neither trade nor
     withdraw. Both deployables initialize the same modules in the same order, `adl` (the only
     policy with storage) last, so their storage layouts agree.
"""

from ethereum.ercs import IERC20Detailed
from .modules import ownable_2step as ownable
from .modules import market_registry as registry
from .modules import loss_index
from .modules import fixed_math
from .modules import eip712_orders as orders
from .modules import clearing
from .modules import liquidation
from .modules import engine_link
from .modules import adl as policy


interface ILiquidationEngine:
    def loss_policy() -> String[32]: view
    def collateral_token() -> address: view


struct AdlRank:
    bucket: uint256
    profit: int256


initializes: ownable
initializes: registry[ownable := ownable]
initializes: loss_index
initializes: clearing[ownable := ownable, registry := registry, loss_index := loss_index]
initializes: liquidation[registry := registry, clearing := clearing]
initializes: engine_link
initializes: policy

exports: (
    ownable.__interface__,
    registry.__interface__,
    policy.__interface__,
    loss_index.socialized_loss,
    # clearing, less `trade` and `withdraw` (wrapped below)
    clearing.collateral_token,
    clearing.insurance_vault,
    clearing.bad_debt,
    clearing.protocol_fees,
    clearing.sweep_fees,
    clearing.deposit,
    clearing.cancel,
    clearing.settle,
    clearing.order_digest,
    clearing.filled,
    clearing.cancelled,
    clearing.domain_separator,
    clearing.collateral,
    clearing.position_size,
    clearing.equity,
    clearing.initial_margin,
    clearing.maintenance_margin,
    clearing.is_liquidatable,
    clearing.account_summary,
    clearing.account_summaries,
    clearing.open_interest,
    clearing.treasury,
    clearing.pending_vault_revenue,
    clearing.index_price,
    clearing.funding_index,
    clearing.funding_premium,
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
    policy.__init__(decimals)
    if False:
        # never runs: lists the events the engine emits from this address in this ABI
        log liquidation.Liquidation(account=empty(address), liquidator=empty(address), market=0, size=0, price=0, penalty=0, liquidator_reward=0)
        log liquidation.Bankruptcy(account=empty(address), deficit=0, insurance_paid=0, socialized=0, bad_debt=0)
        log liquidation.BankruptcyTakeover(account=empty(address), liquidator=empty(address), market=0, size=0, price=0, loss=0)
        log liquidation.KeeperRewarded(keeper=empty(address), amount=0)
        log policy.Deleveraged(account=empty(address), counterparty=empty(address), market=0, size=0, price=0)
        log clearing.InsuranceVaultSet(vault=empty(address))
        log clearing.ProtocolFeesWithdrawn(receiver=empty(address), amount=0)


@external
def set_loss_engine(engine: address):
    """
    @notice Wire the liquidation engine (once): a LiquidationAdl deployed over the same
            collateral token. Until then liquidations revert.
    @param engine The engine's address.
    """
    ownable._check_owner()
    assert staticcall ILiquidationEngine(engine).loss_policy() == policy.loss_policy, "set_loss_engine: engine runs another loss policy"
    assert staticcall ILiquidationEngine(engine).collateral_token() == clearing.collateral_token, "set_loss_engine: engine over another collateral"
    engine_link._set(engine)


@external
def trade(order: orders.Order, signature: Bytes[65], fill_size: uint256):
    """
    @notice Fill `fill_size` of a maker's signed order at its limit price; the caller is the
            taker (see clearing.trade). Neither side may be under resolution; both positions
            move to the ADL bucket of their new entry price.
    @param order The maker's order: size > 0 the maker buys, < 0 the maker sells.
    @param signature The maker's EIP-712 signature, 65 bytes r || s || v.
    @param fill_size How much of |order.size| to fill now (1e18 = one base unit).
    """
    market: uint256 = order.market
    maker_word: uint256 = clearing._position[order.account][market]
    taker_word: uint256 = clearing._position[msg.sender][market]
    clearing._trade(order, signature, fill_size, msg.sender)
    policy._on_fill(order.account, market, maker_word, clearing._position[order.account][market])
    policy._on_fill(msg.sender, market, taker_word, clearing._position[msg.sender][market])


@external
def withdraw(amount: uint256):
    """
    @notice Withdraw collateral (see clearing.withdraw); never while the account is under
            resolution: nothing can be withdrawn against an unresolved deficit.
    @param amount Collateral base units.
    """
    policy._check_active(msg.sender)
    clearing._withdraw(amount, msg.sender)


@external
@reentrant
def set_insurance_vault(vault: address):
    """
    @notice Wire the insurance vault (owner, once; see clearing.set_insurance_vault). Runs on
            the engine, which keeps this deployable below EIP-170.
    @param vault An InsuranceVault over this Clearinghouse's collateral token.
    """
    engine_link._delegate()


@external
@reentrant
def withdraw_protocol_fees(receiver: address, amount: uint256):
    """
    @notice Owner withdraws protocol fees, after bad debt is paid down (see
            clearing.withdraw_protocol_fees). Runs on the engine.
    @param receiver Where the fees go.
    @param amount Collateral base units, at most `protocol_fees()` after the split.
    """
    engine_link._delegate()


@external
@reentrant
def set_margins(market: uint256, imr: uint256, mmr: uint256):
    """
    @notice Set a market's margin ratios (owner; see clearing.set_margins: a raise of mmr acts
            forward in bounded steps). Runs on the engine, which keeps this deployable below
            EIP-170.
    @param market The market id.
    @param imr Initial margin ratio (1e18 = 100 %).
    @param mmr Maintenance margin ratio (1e18 = 100 %).
    """
    engine_link._delegate()


@external
@reentrant
def set_funding_params(market: uint256, funding_period: uint256, max_funding_premium: uint256):
    """
    @notice Set a market's funding period and premium cap (owner; funding accrues under the old
            ones first, see clearing.set_funding_params). Runs on the engine.
    @param market The market id.
    @param funding_period Seconds per funding period.
    @param max_funding_premium Premium cap per period (1e18 = 100 %).
    """
    engine_link._delegate()


@external
@reentrant
def set_insurance_fee_share(share: uint256):
    """
    @notice Set the vault's share of trading fees (owner; fees earned so far are split under
            the old share first, see clearing.set_insurance_fee_share). Runs on the engine.
    @param share 1e18 = 100 %.
    """
    engine_link._delegate()


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
    @notice Start or continue resolving a bankrupt account without naming winners (see
            LiquidationAdl.liquidate_bankrupt). Runs on the engine.
    @param account The bankrupt account.
    """
    engine_link._delegate()


@external
@reentrant
def deleverage(account: address, market: uint256, counterparties: DynArray[address, 16]):
    """
    @notice Close a bankrupt account's position in `market` against winners at its bankruptcy
            price, in ranking order (see LiquidationAdl.deleverage). Runs on the engine.
    @param account The account being resolved.
    @param market The market.
    @param counterparties Opposite positions in profit, best-ranked first.
    """
    engine_link._delegate()


@external
@view
def adl_rank(account: address, market: uint256) -> AdlRank:
    """
    @notice A position's ADL ranking: its entry-price bucket (0: not ranked, or the account is
            under resolution) and its profit at the oracle price net of funding owed (what a
            deleveraging fill may take from it at most).
    @param account The account.
    @param market The market.
    @return The bucket and the profit (collateral base units).
    """
    position: clearing.Position = clearing._load(account, market)
    if position.size == 0:
        return empty(AdlRank)
    price: uint256 = clearing._price_view(market)
    funding: int256 = 0
    charge: uint256 = 0
    funding, charge = clearing._owed(market, position, clearing._funding_index_view(market, price))
    value: int256 = fixed_math._div_floor(position.size * convert(price, int256), convert(clearing._scale(), int256))
    bucket: uint256 = 0
    if not policy._is_frozen(account):
        bucket = policy._entry_bucket(position.size, position.cost)
    return AdlRank(bucket=bucket, profit=value - position.cost - funding - convert(charge, int256))
