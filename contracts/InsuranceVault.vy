# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title InsuranceVault
@custom:contract-name InsuranceVault
@license MIT
@notice The Clawback insurance fund: an ERC-4626 vault over the Clearinghouse's collateral token
        with ERC-7540 asynchronous redemption. Stakers deposit the token and receive "cbINS"
        shares. The Clearinghouse pays revenue in (its fee share, liquidation penalties)
        through `notify_revenue`, which raises the share price, and draws on the vault through
        `cover` when an account goes bankrupt, which lowers it.

        Accounting. `totalAssets()` is an internal counter, not the token balance: tokens sent
        to the vault outside `deposit`/`mint`/`notify_revenue` (donations) never move the share
        price. Conversions use a virtual offset: 10**DECIMALS_OFFSET virtual shares and 1
        virtual asset, so
            shares = assets * (totalSupply + 10**6) / (totalAssets + 1)
            assets = shares * (totalAssets + 1) / (totalSupply + 10**6)
        computed with snekmate's full-precision mul-div (no intermediate overflow), which makes
        the first-depositor inflation attack cost the attacker about a million times what it
        could take from a victim. Every rounding favours the vault (ERC-4626).

        Revenue before a deposit belongs to the stakers who were there. Revenue waits in the
        Clearinghouse until it is swept, so `deposit`, `mint` and `requestRedeem` first call the
        Clearinghouse's permissionless `sweep_fees()`, which transfers the vault's pending share
        and calls back `notify_revenue`; the price of the new shares (or of the request) then
        includes everything earned before. Deposits therefore open once the vault is wired
        (`set_insurance_vault`). previewDeposit/previewMint add the pending revenue when the
        Clearinghouse exposes `pending_vault_revenue()`; without that view they can overstate
        what a deposit mints by the pending revenue (the README lists this departure).

        Redemption (ERC-7540, one aggregated request per controller, requestId 0).
        `requestRedeem(shares, controller, owner)` moves the shares from `owner` into the vault
        and records their value now. The request becomes claimable `cooldown` seconds later
        and stays claimable for `claim_window` seconds; both are fixed when the request is
        made, so a later parameter change never acts on it. `redeem`/`withdraw` then pay at
        most min(value at request, value now): a requested share keeps bearing losses but
        earns nothing more, and what it forfeits stays with the remaining stakers. A request
        that is not claimed in its window lapses: its shares stay in the vault, still capped,
        until the controller renews it (`requestRedeem(0, controller, owner)` or more shares),
        which restarts the cooldown. So nobody holds a standing instant exit. A request cannot
        be cancelled: cancelling would hand back the upside it forfeited.

        Visible losses. Anyone may `flag_loss(account)` for an account whose equity in the
        Clearinghouse is negative (a bankruptcy the vault is about to cover). While any flagged
        account is unresolved no request can be claimed; `clear_loss(account)` lifts the flag
        once the account's equity is back at or above zero (after `liquidate_bankrupt`).
        Stakers cannot leave between a loss becoming visible and its resolution.

        Cover. `cover(amount)` pays the Clearinghouse at most `max_cover_ratio` of the vault's
        assets per call (default 50 %, rounded down), and never takes the assets below
        `min_reserve` (default one whole token; at least 1 base unit). It never reverts for
        lack of funds: it returns what it paid, possibly 0.

        Trust. The Clearinghouse is fixed at deployment. The owner (snekmate two-step
        ownership) can only tune the cover ratio, the reserve, the cooldown and the claim
        window (each bounded, none retroactive on pending requests); it cannot move assets.
        Tokens sent to the vault by mistake are not recoverable (no privileged path to them).
"""

from ethereum.ercs import IERC20
from ethereum.ercs import IERC20Detailed
from ethereum.ercs import IERC4626

from .interfaces import IInsuranceVault
from .modules import constants

from snekmate.auth import ownable
from snekmate.auth import ownable_2step
from snekmate.tokens import erc20
from snekmate.utils import math

implements: IERC20
implements: IERC20Detailed
implements: IERC4626
implements: IInsuranceVault

initializes: ownable
initializes: ownable_2step[ownable := ownable]
initializes: erc20[ownable := ownable]

# snekmate's ERC-20 without its minter role (no `mint`, `set_minter`, `burn`: shares are only
# created by deposit/mint and destroyed by redemption) and its ownership functions.
exports: (
    erc20.transfer,
    erc20.transferFrom,
    erc20.approve,
    erc20.balanceOf,
    erc20.allowance,
    erc20.totalSupply,
    erc20.name,
    erc20.symbol,
    erc20.decimals,
    erc20.permit,
    erc20.nonces,
    erc20.DOMAIN_SEPARATOR,
    ownable.owner,
    ownable_2step.pending_owner,
    ownable_2step.transfer_ownership,
    ownable_2step.accept_ownership,
)


interface IClearinghouseHooks:
    def sweep_fees(): nonpayable
    def equity(account: address) -> int256: view


# ---------------------------------------------------------------------------------------------
# Constants and immutables
# ---------------------------------------------------------------------------------------------

# Share decimals = asset decimals + DECIMALS_OFFSET; 10**DECIMALS_OFFSET virtual shares.
DECIMALS_OFFSET: public(constant(uint8)) = 6
_VIRTUAL_SHARES: constant(uint256) = 10**6
_VIRTUAL_ASSETS: constant(uint256) = 1
_WAD: constant(uint256) = constants.WAD
_ROUND_UP: constant(bool) = True
_ROUND_DOWN: constant(bool) = False

MAX_COOLDOWN: public(constant(uint256)) = constants.MAX_COOLDOWN
MIN_CLAIM_WINDOW: public(constant(uint256)) = 3600
MAX_CLAIM_WINDOW: public(constant(uint256)) = 30 * 86400
DEFAULT_CLAIM_WINDOW: public(constant(uint256)) = 3 * 86400
_DEFAULT_MAX_COVER_RATIO: constant(uint256) = 5 * 10**17
_MAX_ASSET_DECIMALS: constant(uint8) = 18
# `min_reserve` can never be set below this: `cover` never empties the vault.
MIN_RESERVE_FLOOR: public(constant(uint256)) = constants.MIN_RESERVE_FLOOR
# ERC-7540 aggregates all requests of a controller under this id.
_REQUEST_ID: constant(uint256) = 0

_NAME: constant(String[25]) = "Clawback Insurance"
_SYMBOL: constant(String[5]) = "cbINS"
_EIP712_VERSION: constant(String[20]) = "1"

_IERC165_ID: constant(bytes4) = 0x01ffc9a7
_IERC7575_ID: constant(bytes4) = 0x2f0a18c5
_IERC7540_OPERATOR_ID: constant(bytes4) = 0xe3bc4e65
_IERC7540_REDEEM_ID: constant(bytes4) = 0x620ee8e4

asset: public(immutable(address))
clearinghouse: public(immutable(address))


# ---------------------------------------------------------------------------------------------
# Structs and storage
# ---------------------------------------------------------------------------------------------


struct Request:
    # Shares held by the vault for the controller (still in totalSupply, bearing losses).
    shares: uint256
    # Their value when requested (rounded down): the cap on what they redeem for.
    assets: uint256
    # First and last second the request can be claimed (fixed at request time).
    claimable_from: uint256
    claimable_until: uint256


# The vault's own assets: deposits + revenue - cover - redemptions. Donations are not counted.
_total_assets: uint256
# Seconds between a redeem request and the moment it can be claimed.
cooldown: public(uint256)
# Seconds a matured request stays claimable before it lapses.
claim_window: public(uint256)
# Largest share of the assets a single `cover` call may pay (1e18 = 100 %).
max_cover_ratio: public(uint256)
# `cover` never takes the assets below this (token base units).
min_reserve: public(uint256)
# ERC-7540 operators: controller => operator => approved.
isOperator: public(HashMap[address, HashMap[address, bool]])
# Accounts flagged with negative equity and not yet resolved, and how many there are.
loss_flagged: public(HashMap[address, bool])
open_losses: public(uint256)
# Pending redeem request per controller.
_requests: HashMap[address, Request]


# ---------------------------------------------------------------------------------------------
# Events
# ---------------------------------------------------------------------------------------------


event Deposit:
    sender: indexed(address)
    owner: indexed(address)
    assets: uint256
    shares: uint256


event Withdraw:
    sender: indexed(address)
    receiver: indexed(address)
    owner: indexed(address)
    assets: uint256
    shares: uint256


event RedeemRequest:
    controller: indexed(address)
    owner: indexed(address)
    requestId: indexed(uint256)
    sender: address
    shares: uint256


event OperatorSet:
    controller: indexed(address)
    operator: indexed(address)
    approved: bool


event RedeemScheduled:
    controller: indexed(address)
    # The whole request after this call: shares, their capped value and the claim window.
    shares: uint256
    assets: uint256
    claimable_from: uint256
    claimable_until: uint256


event RedeemSettled:
    controller: indexed(address)
    shares: uint256
    # Paid out to the receiver.
    assets: uint256
    # Value of the burnt shares at the current price minus what was paid: left to the stakers.
    forfeited: uint256
    remaining_shares: uint256
    remaining_assets: uint256


event LossFlagged:
    account: indexed(address)
    equity: int256
    open_losses: uint256


event LossCleared:
    account: indexed(address)
    open_losses: uint256


event Revenue:
    amount: uint256
    total_assets: uint256


event Cover:
    requested: uint256
    paid: uint256
    total_assets: uint256


event CooldownUpdated:
    old_cooldown: uint256
    new_cooldown: uint256


event ClaimWindowUpdated:
    old_window: uint256
    new_window: uint256


event MaxCoverRatioUpdated:
    old_ratio: uint256
    new_ratio: uint256


event MinReserveUpdated:
    old_reserve: uint256
    new_reserve: uint256


@deploy
def __init__(asset_: address, clearinghouse_: address, cooldown_: uint256):
    """
    @notice Deploy the vault; the deployer becomes the owner.
    @param asset_ The collateral token (ERC-20 with `decimals`, at most 18).
    @param clearinghouse_ The only address allowed to call `notify_revenue` and `cover`.
    @param cooldown_ Seconds between a redeem request and its claim (at most 30 days).
    """
    assert asset_.is_contract, "vault: asset is not a contract"
    assert clearinghouse_ != empty(address), "vault: zero clearinghouse"
    assert cooldown_ <= MAX_COOLDOWN, "vault: cooldown too long"
    asset_decimals: uint8 = staticcall IERC20Detailed(asset_).decimals()
    assert asset_decimals <= _MAX_ASSET_DECIMALS, "vault: asset decimals above 18"

    asset = asset_
    clearinghouse = clearinghouse_
    ownable.__init__()
    ownable_2step.__init__()
    erc20.__init__(_NAME, _SYMBOL, asset_decimals + DECIMALS_OFFSET, _NAME, _EIP712_VERSION)

    reserve: uint256 = 10 ** convert(asset_decimals, uint256)
    self.cooldown = cooldown_
    self.claim_window = DEFAULT_CLAIM_WINDOW
    self.max_cover_ratio = _DEFAULT_MAX_COVER_RATIO
    self.min_reserve = reserve

    log CooldownUpdated(old_cooldown=0, new_cooldown=cooldown_)
    log ClaimWindowUpdated(old_window=0, new_window=DEFAULT_CLAIM_WINDOW)
    log MaxCoverRatioUpdated(old_ratio=0, new_ratio=_DEFAULT_MAX_COVER_RATIO)
    log MinReserveUpdated(old_reserve=0, new_reserve=reserve)


# ---------------------------------------------------------------------------------------------
# ERC-165 / ERC-7575
# ---------------------------------------------------------------------------------------------


@external
@view
def supportsInterface(interface_id: bytes4) -> bool:
    """
    @notice ERC-165: ERC-165 itself, ERC-7575 (`share`), ERC-7540 operators and async redeem.
    @param interface_id The 4-byte interface identifier.
    @return Whether the vault implements it.
    """
    return interface_id in [_IERC165_ID, _IERC7575_ID, _IERC7540_OPERATOR_ID, _IERC7540_REDEEM_ID]


@external
@view
def share() -> address:
    """
    @notice ERC-7575: the share token is the vault itself.
    @return This contract.
    """
    return self


# ---------------------------------------------------------------------------------------------
# ERC-4626 views
# ---------------------------------------------------------------------------------------------


@external
@view
def totalAssets() -> uint256:
    """
    @notice The assets the vault accounts for (internal counter; donations and revenue still
            waiting in the Clearinghouse excluded).
    @return Assets in token base units.
    """
    return self._total_assets


@external
@view
def convertToShares(assets: uint256) -> uint256:
    """
    @notice Shares worth `assets` at the current price, rounded down.
    @param assets Assets in token base units.
    @return Shares.
    """
    return self._to_shares(assets, self._total_assets, _ROUND_DOWN)


@external
@view
def convertToAssets(shares: uint256) -> uint256:
    """
    @notice Assets worth `shares` at the current price, rounded down.
    @param shares Shares.
    @return Assets in token base units.
    """
    return self._to_assets(shares, self._total_assets, _ROUND_DOWN)


@external
@view
def maxDeposit(receiver: address) -> uint256:
    """
    @notice Deposits are not limited.
    @param receiver The would-be receiver (ignored).
    @return max_value(uint256).
    """
    return max_value(uint256)


@external
@view
def previewDeposit(assets: uint256) -> uint256:
    """
    @notice Shares `deposit(assets)` would mint now, after the sweep of pending revenue
            (rounded down).
    @param assets Assets in token base units.
    @return Shares.
    """
    return self._to_shares(assets, self._total_assets + self._pending_revenue(), _ROUND_DOWN)


@external
@view
def maxMint(receiver: address) -> uint256:
    """
    @notice Mints are not limited.
    @param receiver The would-be receiver (ignored).
    @return max_value(uint256).
    """
    return max_value(uint256)


@external
@view
def previewMint(shares: uint256) -> uint256:
    """
    @notice Assets `mint(shares)` would pull now, after the sweep of pending revenue
            (rounded up).
    @param shares Shares.
    @return Assets in token base units.
    """
    return self._to_assets(shares, self._total_assets + self._pending_revenue(), _ROUND_UP)


@external
@view
def maxWithdraw(controller: address) -> uint256:
    """
    @notice Assets `controller`'s request can be claimed for now (ERC-7540): 0 unless it is in
            its claim window and no flagged loss is open, otherwise min(value at request,
            value now) of the whole request. Never reverts.
    @param controller The controller of the request.
    @return Assets in token base units.
    """
    req: Request = self._requests[controller]
    if not self._is_claimable(req):
        return 0
    return self._claim_value(req)


@external
@view
def previewWithdraw(assets: uint256) -> uint256:
    """
    @notice Always reverts: redemption is asynchronous (ERC-7540). Use maxWithdraw and
            maxRedeem of the controller: `withdraw(assets)` burns
            ceil(assets * maxRedeem / maxWithdraw) requested shares.
    @param assets Assets in token base units.
    @return Never returns.
    """
    raise "vault: async redeem, use maxWithdraw"


@external
@view
def maxRedeem(controller: address) -> uint256:
    """
    @notice Requested shares `controller` can claim now (ERC-7540): all of them while the
            request is in its claim window and no flagged loss is open, otherwise 0.
    @param controller The controller of the request.
    @return Shares.
    """
    req: Request = self._requests[controller]
    if not self._is_claimable(req):
        return 0
    return req.shares


@external
@view
def previewRedeem(shares: uint256) -> uint256:
    """
    @notice Always reverts: redemption is asynchronous (ERC-7540). Use maxWithdraw and
            maxRedeem of the controller: `redeem(shares)` pays
            floor(shares * maxWithdraw / maxRedeem).
    @param shares Shares.
    @return Never returns.
    """
    raise "vault: async redeem, use maxRedeem"


# ---------------------------------------------------------------------------------------------
# ERC-7540 views
# ---------------------------------------------------------------------------------------------


@external
@view
def pendingRedeemRequest(requestId: uint256, controller: address) -> uint256:
    """
    @notice Requested shares of `controller` that cannot be claimed now: cooling down, lapsed
            (waiting for a renewal) or held back by an open flagged loss.
    @param requestId Must be 0 (requests are aggregated per controller); other ids have none.
    @param controller The controller of the request.
    @return Shares.
    """
    req: Request = self._requests[controller]
    if requestId != _REQUEST_ID or self._is_claimable(req):
        return 0
    return req.shares


@external
@view
def claimableRedeemRequest(requestId: uint256, controller: address) -> uint256:
    """
    @notice Requested shares of `controller` that can be claimed now (same as maxRedeem).
    @param requestId Must be 0 (requests are aggregated per controller); other ids have none.
    @param controller The controller of the request.
    @return Shares.
    """
    req: Request = self._requests[controller]
    if requestId != _REQUEST_ID or not self._is_claimable(req):
        return 0
    return req.shares


@external
@view
def redeem_request(controller: address) -> Request:
    """
    @notice The whole redeem request of `controller`.
    @param controller The controller of the request.
    @return shares held for it, assets (their value at request: the cap), claimable_from and
            claimable_until (inclusive bounds of the claim window; 0 without a request).
    """
    return self._requests[controller]


# ---------------------------------------------------------------------------------------------
# ERC-4626 / ERC-7540 actions
# ---------------------------------------------------------------------------------------------


@external
def deposit(assets: uint256, receiver: address) -> uint256:
    """
    @notice Sweep pending revenue in, then pull `assets` tokens from the caller and mint
            shares to `receiver` (rounded down).
    @param assets Assets in token base units (needs the caller's token allowance).
    @param receiver Who gets the shares.
    @return The shares minted.
    """
    assert assets != 0, "deposit: zero assets"
    assert receiver != empty(address), "deposit: zero receiver"
    self._sweep()
    shares: uint256 = self._to_shares(assets, self._total_assets, _ROUND_DOWN)
    assert shares != 0, "deposit: zero shares"
    self._deposit(receiver, assets, shares)
    return shares


@external
def mint(shares: uint256, receiver: address) -> uint256:
    """
    @notice Sweep pending revenue in, then mint exactly `shares` to `receiver`, pulling their
            price (rounded up) from the caller.
    @param shares Shares to mint.
    @param receiver Who gets the shares.
    @return The assets pulled, in token base units.
    """
    assert shares != 0, "mint: zero shares"
    assert receiver != empty(address), "mint: zero receiver"
    self._sweep()
    assets: uint256 = self._to_assets(shares, self._total_assets, _ROUND_UP)
    self._deposit(receiver, assets, shares)
    return assets


@external
def requestRedeem(shares: uint256, controller: address, owner: address) -> uint256:
    """
    @notice ERC-7540: move `shares` from `owner` into the vault as a redeem request of
            `controller`, valued now (after sweeping pending revenue, rounded down). The whole
            request becomes claimable `cooldown` seconds later, for `claim_window` seconds;
            adding shares (or 0 shares, to renew a lapsed request) restarts that clock. The
            caller is `owner`, its operator, or spends `owner`'s share allowance; adding to an
            existing request also needs the caller to be `controller` or its operator.
    @param shares Shares to add (0: renew the existing request).
    @param controller Who may claim the request.
    @param owner Whose shares are requested.
    @return The request id, always 0.
    """
    self._request_redeem(shares, controller, owner)
    return _REQUEST_ID


@external
def request_redeem(shares: uint256):
    """
    @notice Alias of `requestRedeem(shares, msg.sender, msg.sender)`.
    @param shares Shares to add to the caller's request (0: renew it).
    """
    self._request_redeem(shares, msg.sender, msg.sender)


@external
def setOperator(operator: address, approved: bool) -> bool:
    """
    @notice ERC-7540: let `operator` request, claim and renew on the caller's behalf.
    @param operator The operator.
    @param approved True to approve, False to revoke.
    @return True.
    """
    assert operator != msg.sender, "setOperator: self"
    self.isOperator[msg.sender][operator] = approved
    log OperatorSet(controller=msg.sender, operator=operator, approved=approved)
    return True


@external
def withdraw(assets: uint256, receiver: address, controller: address) -> uint256:
    """
    @notice Claim exactly `assets` of `controller`'s claimable request for `receiver`, burning
            ceil(assets * requested shares / claim value) requested shares, where the claim
            value is min(value at request, value now) of the whole request. The caller is
            `controller` or its operator.
    @param assets Assets in token base units, at most maxWithdraw(controller).
    @param receiver Who gets the tokens.
    @param controller Whose request is claimed.
    @return The shares burnt.
    """
    assert assets != 0, "withdraw: zero assets"
    assert receiver != empty(address), "withdraw: zero receiver"
    req: Request = self._claimable_request(controller)
    value: uint256 = self._claim_value(req)
    assert assets <= value, "withdraw: exceeds claimable assets"
    # rounded up: the burnt shares are worth at least `assets` at the claim price
    shares: uint256 = math._mul_div(assets, req.shares, value, _ROUND_UP)
    self._settle(receiver, controller, shares, assets, req)
    return shares


@external
def redeem(shares: uint256, receiver: address, controller: address) -> uint256:
    """
    @notice Claim `shares` of `controller`'s claimable request for `receiver`, paying
            floor(shares * claim value / requested shares), where the claim value is
            min(value at request, value now) of the whole request; the difference to their
            value now stays in the vault. May pay 0 for dust. The caller is `controller` or
            its operator.
    @param shares Requested shares to burn, at most maxRedeem(controller).
    @param receiver Who gets the tokens.
    @param controller Whose request is claimed.
    @return The assets paid, in token base units.
    """
    assert shares != 0, "redeem: zero shares"
    assert receiver != empty(address), "redeem: zero receiver"
    req: Request = self._claimable_request(controller)
    assert shares <= req.shares, "redeem: exceeds requested shares"
    # rounded down: the claimant never gets more than its share of the claim value
    assets: uint256 = math._mul_div(shares, self._claim_value(req), req.shares, _ROUND_DOWN)
    self._settle(receiver, controller, shares, assets, req)
    return assets


# ---------------------------------------------------------------------------------------------
# Visible losses
# ---------------------------------------------------------------------------------------------


@external
def flag_loss(account: address):
    """
    @notice Hold back every claim while `account` has negative equity in the Clearinghouse
            (a loss the vault is about to cover). Anyone may call it.
    @param account A Clearinghouse account.
    """
    assert not self.loss_flagged[account], "flag_loss: already flagged"
    equity: int256 = staticcall IClearinghouseHooks(clearinghouse).equity(account)
    assert equity < 0, "flag_loss: equity not negative"
    self.loss_flagged[account] = True
    self.open_losses += 1
    log LossFlagged(account=account, equity=equity, open_losses=self.open_losses)


@external
def clear_loss(account: address):
    """
    @notice Lift the flag of `account` once its equity is back at or above zero (it was
            resolved by `liquidate_bankrupt`, or prices recovered). Anyone may call it.
    @param account A flagged Clearinghouse account.
    """
    assert self.loss_flagged[account], "clear_loss: not flagged"
    equity: int256 = staticcall IClearinghouseHooks(clearinghouse).equity(account)
    assert equity >= 0, "clear_loss: equity still negative"
    self.loss_flagged[account] = False
    self.open_losses -= 1
    log LossCleared(account=account, open_losses=self.open_losses)


# ---------------------------------------------------------------------------------------------
# Clearinghouse
# ---------------------------------------------------------------------------------------------


@external
@reentrant
def notify_revenue(amount: uint256):
    """
    @notice Account for `amount` tokens of revenue the Clearinghouse has just transferred in;
            raises the share price. A zero amount is a no-op, so a zero fee never blocks the
            Clearinghouse. Reentrant on purpose: `deposit`, `mint` and `requestRedeem` call
            `sweep_fees()`, which calls back here; only the Clearinghouse can call it.
    @param amount Revenue in token base units.
    """
    assert msg.sender == clearinghouse, "notify_revenue: only clearinghouse"
    if amount == 0:
        return
    new_total: uint256 = self._total_assets + amount
    assert staticcall IERC20(asset).balanceOf(self) >= new_total, "notify_revenue: revenue not received"
    self._total_assets = new_total
    log Revenue(amount=amount, total_assets=new_total)


@external
def cover(amount: uint256) -> uint256:
    """
    @notice Pay the Clearinghouse up to `amount` tokens towards a bankrupt account's deficit:
            at most `max_cover_ratio` of the assets (rounded down) and never below
            `min_reserve`. Never reverts for lack of funds; lowers the share price.
    @param amount The deficit to cover, in token base units.
    @return What was paid, in token base units (possibly 0).
    """
    assert msg.sender == clearinghouse, "cover: only clearinghouse"
    total: uint256 = self._total_assets
    # rounded down: the per-event limit never pays more than its ratio
    paid: uint256 = min(amount, math._mul_div(total, self.max_cover_ratio, _WAD, _ROUND_DOWN))
    reserve: uint256 = self.min_reserve
    if total > reserve:
        paid = min(paid, total - reserve)
    else:
        paid = 0
    if paid != 0:
        total -= paid
        self._total_assets = total
        self._send(clearinghouse, paid)
    log Cover(requested=amount, paid=paid, total_assets=total)
    return paid


# ---------------------------------------------------------------------------------------------
# Owner
# ---------------------------------------------------------------------------------------------


@external
def set_cooldown(seconds: uint256):
    """
    @notice Set the cooldown of future redeem requests; pending requests keep theirs.
    @param seconds The new cooldown, at most 30 days.
    """
    ownable._check_owner()
    assert seconds <= MAX_COOLDOWN, "set_cooldown: cooldown too long"
    log CooldownUpdated(old_cooldown=self.cooldown, new_cooldown=seconds)
    self.cooldown = seconds


@external
def set_claim_window(seconds: uint256):
    """
    @notice Set how long future requests stay claimable once matured; pending requests keep
            theirs.
    @param seconds Between 1 hour and 30 days.
    """
    ownable._check_owner()
    assert seconds >= MIN_CLAIM_WINDOW, "set_claim_window: window too short"
    assert seconds <= MAX_CLAIM_WINDOW, "set_claim_window: window too long"
    log ClaimWindowUpdated(old_window=self.claim_window, new_window=seconds)
    self.claim_window = seconds


@external
def set_max_cover_ratio(ratio: uint256):
    """
    @notice Set the largest share of the assets one `cover` call may pay.
    @param ratio 1e18 = 100 %; 0 < ratio <= 1e18.
    """
    ownable._check_owner()
    assert ratio != 0, "set_max_cover_ratio: zero ratio"
    assert ratio <= _WAD, "set_max_cover_ratio: ratio above 100%"
    log MaxCoverRatioUpdated(old_ratio=self.max_cover_ratio, new_ratio=ratio)
    self.max_cover_ratio = ratio


@external
def set_min_reserve(amount: uint256):
    """
    @notice Set the assets `cover` never touches.
    @param amount Token base units, at least 1 (a vault with shares never reaches 0 assets).
    """
    ownable._check_owner()
    assert amount >= MIN_RESERVE_FLOOR, "set_min_reserve: reserve below floor"
    log MinReserveUpdated(old_reserve=self.min_reserve, new_reserve=amount)
    self.min_reserve = amount


# ---------------------------------------------------------------------------------------------
# Internal: conversions
# ---------------------------------------------------------------------------------------------


@internal
@view
def _to_shares(assets: uint256, total_assets: uint256, round_up: bool) -> uint256:
    """
    @dev Shares worth `assets` against `total_assets`, with the virtual offset.
    @param assets Assets in token base units.
    @param total_assets The assets to price against (the counter, maybe plus pending revenue).
    @param round_up True to round up (mint, withdraw), False to round down (deposit).
    @return Shares.
    """
    return math._mul_div(assets, erc20.totalSupply + _VIRTUAL_SHARES, total_assets + _VIRTUAL_ASSETS, round_up)


@internal
@view
def _to_assets(shares: uint256, total_assets: uint256, round_up: bool) -> uint256:
    """
    @dev Assets worth `shares` against `total_assets`, with the virtual offset.
    @param shares Shares.
    @param total_assets The assets to price against (the counter, maybe plus pending revenue).
    @param round_up True to round up (mint), False to round down (deposit, request, redeem).
    @return Assets in token base units.
    """
    return math._mul_div(shares, total_assets + _VIRTUAL_ASSETS, erc20.totalSupply + _VIRTUAL_SHARES, round_up)


@internal
@view
def _pending_revenue() -> uint256:
    """
    @dev The vault's revenue waiting in the Clearinghouse, if it exposes
         `pending_vault_revenue()`; 0 otherwise (the call fails or returns nothing).
    @return Token base units.
    """
    success: bool = False
    response: Bytes[32] = b""
    success, response = raw_call(
        clearinghouse,
        method_id("pending_vault_revenue()"),
        max_outsize=32,
        is_static_call=True,
        revert_on_failure=False,
    )
    if not success or len(response) != 32:
        return 0
    return convert(response, uint256)


# ---------------------------------------------------------------------------------------------
# Internal: requests
# ---------------------------------------------------------------------------------------------


@internal
@view
def _is_claimable(req: Request) -> bool:
    """
    @dev Whether `req` can be claimed now: it holds shares, is inside its claim window, and no
         flagged loss is open.
    @param req The request.
    @return True if claimable.
    """
    return (
        req.shares != 0
        and block.timestamp >= req.claimable_from
        and block.timestamp <= req.claimable_until
        and self.open_losses == 0
    )


@internal
@view
def _claim_value(req: Request) -> uint256:
    """
    @dev What the whole request is worth to its controller: min(value now rounded down, value
         at request).
    @param req The request.
    @return Assets in token base units.
    """
    return min(self._to_assets(req.shares, self._total_assets, _ROUND_DOWN), req.assets)


@internal
@view
def _claimable_request(controller: address) -> Request:
    """
    @dev `controller`'s request, checked: the caller may act for it and it is claimable now.
    @param controller The controller of the request.
    @return The request.
    """
    self._check_controller(controller)
    req: Request = self._requests[controller]
    assert req.shares != 0, "vault: no redeem request"
    assert block.timestamp >= req.claimable_from, "vault: cooldown not over"
    assert block.timestamp <= req.claimable_until, "vault: request lapsed, renew it"
    assert self.open_losses == 0, "vault: loss pending"
    return req


@internal
@view
def _check_controller(controller: address):
    """
    @dev The caller must be `controller` or one of its operators.
    @param controller The controller of a request.
    """
    assert msg.sender == controller or self.isOperator[controller][msg.sender], "vault: not controller or operator"


@internal
def _request_redeem(shares: uint256, controller: address, owner: address):
    """
    @dev Add `shares` of `owner` to `controller`'s request (see `requestRedeem`).
    @param shares Shares to add (0: renew the existing request).
    @param controller Who may claim the request.
    @param owner Whose shares are requested.
    """
    assert controller != empty(address), "requestRedeem: zero controller"
    req: Request = self._requests[controller]
    if req.shares != 0:
        # restarting someone's clock would delay their exit: only they (or operators) may
        assert msg.sender == controller or self.isOperator[controller][msg.sender], "requestRedeem: not controller or operator"
    if shares == 0:
        assert req.shares != 0, "requestRedeem: zero shares"
    elif msg.sender != owner and not self.isOperator[owner][msg.sender]:
        erc20._spend_allowance(owner, msg.sender, shares)
    self._sweep()
    if shares != 0:
        erc20._transfer(owner, self, shares)
        # rounded down: the cap never exceeds the shares' value
        req.shares += shares
        req.assets += self._to_assets(shares, self._total_assets, _ROUND_DOWN)
        log RedeemRequest(controller=controller, owner=owner, requestId=_REQUEST_ID, sender=msg.sender, shares=shares)
    req.claimable_from = block.timestamp + self.cooldown
    req.claimable_until = req.claimable_from + self.claim_window
    self._requests[controller] = req
    log RedeemScheduled(
        controller=controller,
        shares=req.shares,
        assets=req.assets,
        claimable_from=req.claimable_from,
        claimable_until=req.claimable_until,
    )


@internal
def _settle(receiver: address, controller: address, shares: uint256, assets: uint256, req: Request):
    """
    @dev Burn `shares` of `controller`'s request (held by the vault) and pay `assets` (at most
         their value now) to `receiver`; shrink the request pro rata.
    @param receiver Who gets the tokens.
    @param controller Whose request is claimed.
    @param shares Requested shares to burn (at most the request's).
    @param assets Tokens to pay.
    @param req The request before this claim.
    """
    remaining: Request = empty(Request)
    if shares < req.shares:
        remaining = req
        remaining.shares = req.shares - shares
        # rounded down: the rest of the request never gains from a partial claim
        remaining.assets = math._mul_div(req.assets, remaining.shares, req.shares, _ROUND_DOWN)
    self._requests[controller] = remaining

    forfeited: uint256 = self._to_assets(shares, self._total_assets, _ROUND_DOWN) - assets
    erc20._burn(self, shares)
    self._total_assets -= assets
    if assets != 0:
        self._send(receiver, assets)

    log Withdraw(sender=msg.sender, receiver=receiver, owner=controller, assets=assets, shares=shares)
    log RedeemSettled(
        controller=controller,
        shares=shares,
        assets=assets,
        forfeited=forfeited,
        remaining_shares=remaining.shares,
        remaining_assets=remaining.assets,
    )


# ---------------------------------------------------------------------------------------------
# Internal: tokens
# ---------------------------------------------------------------------------------------------


@internal
def _sweep():
    """
    @dev Pull the vault's revenue pending in the Clearinghouse (`sweep_fees` calls back
         `notify_revenue`), so new shares and new requests are priced after it. The contract
         check is skipped so a plain-account Clearinghouse (unit tests) is a no-op.
    """
    extcall IClearinghouseHooks(clearinghouse).sweep_fees(skip_contract_check=True)


@internal
def _deposit(receiver: address, assets: uint256, shares: uint256):
    """
    @dev Mint `shares` to `receiver` and pull `assets` from the caller.
    @param receiver Who gets the shares.
    @param assets Token base units to pull.
    @param shares Shares to mint.
    """
    erc20._mint(receiver, shares)
    new_total: uint256 = self._total_assets + assets
    self._total_assets = new_total
    assert extcall IERC20(asset).transferFrom(
        msg.sender, self, assets, default_return_value=True
    ), "vault: asset transfer failed"
    # Refuses fee-on-transfer behaviour: the counter must stay backed by the balance.
    assert staticcall IERC20(asset).balanceOf(self) >= new_total, "vault: asset transfer short"
    log Deposit(sender=msg.sender, owner=receiver, assets=assets, shares=shares)


@internal
def _send(receiver: address, amount: uint256):
    """
    @dev Transfer `amount` asset tokens to `receiver`.
    @param receiver The recipient.
    @param amount Token base units.
    """
    assert extcall IERC20(asset).transfer(
        receiver, amount, default_return_value=True
    ), "vault: asset transfer failed"
