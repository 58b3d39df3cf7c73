# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title InsuranceVault
@custom:contract-name InsuranceVault
@license MIT
@notice The Clawback insurance fund: an ERC-4626 vault over the Clearinghouse's collateral token.
        Stakers deposit the token and receive "cbINS" shares. The Clearinghouse pays revenue in
        (its fee share, liquidation penalties) through `notify_revenue`, which raises the share
        price, and draws on the vault through `cover` when an account goes bankrupt, which
        lowers it.

        Accounting. `totalAssets()` is an internal counter, not the token balance: tokens sent
        to the vault outside `deposit`/`mint`/`notify_revenue` (donations) never move the share
        price. Conversions use a virtual offset (OpenZeppelin-style): 10**DECIMALS_OFFSET virtual
        shares and 1 virtual asset, so
            shares = assets * (totalSupply + 10**6) / (totalAssets + 1)
            assets = shares * (totalAssets + 1) / (totalSupply + 10**6)
        which makes the first-depositor inflation attack cost the attacker about a million times
        what it could take from a victim. Share decimals = asset decimals + 6. Rounding follows
        ERC-4626: deposit and redeem round down for the user, mint and withdraw round up against
        the user; all dust stays in the vault.

        Withdrawal cooldown. Shares leave the vault only through a redeem request:
        `request_redeem(shares)` locks the shares (they stay in the owner's balance but cannot
        be transferred) and records their value at that moment. Once `cooldown` seconds have
        passed, `redeem`/`withdraw` pay at most min(value at request, value now), pro rata: a
        requested share keeps bearing losses but earns nothing more, and what it forfeits stays
        with the remaining stakers. So a staker cannot dodge a known loss by racing it, and a
        request is no free option. There is deliberately no way to cancel a request: cancelling
        would hand back the upside the request forfeited. A matured request does not expire:
        its holder can leave at any time, but has earned nothing since the request (that is
        the price of keeping the exit open). previewRedeem/previewWithdraw are the plain
        ERC-4626 conversions; an actual redemption can pay less (or burn more) because of the
        min rule.

        Share price. It moves only through revenue (up), cover (down), the upside forfeited by
        redeemed requests (up, for the remaining stakers) and rounding dust (always up: every
        rounding favours the vault). Revenue that arrives while no shares exist accrues to the
        virtual shares and stays in the vault as extra cover capacity.

        Cover. `cover(amount)` pays the Clearinghouse at most `max_cover_ratio` of the vault's
        assets per call (default 50 %, rounded down), and never takes the assets below
        `min_reserve` (default: one whole token, i.e. 10**asset_decimals base units; it can be
        lowered to 1 base unit but never to 0, so cover never empties the vault). It never
        reverts for lack of funds: it returns what it paid, possibly 0.

        Trust. The Clearinghouse is fixed at deployment. The owner can only tune the cover
        ratio, the reserve and the cooldown (bounded to 30 days; a change also applies to
        pending requests); it cannot move assets. Tokens sent to the vault by mistake are not
        recoverable (there is no sweep, by design: no privileged path to the vault's tokens).
"""

from ethereum.ercs import IERC20
from ethereum.ercs import IERC20Detailed
from ethereum.ercs import IERC4626

from .interfaces import IInsuranceVault
from .modules import constants

implements: IERC20
implements: IERC20Detailed
implements: IERC4626
implements: IInsuranceVault


# ERC-20


event Transfer:
    sender: indexed(address)
    receiver: indexed(address)
    value: uint256


event Approval:
    owner: indexed(address)
    spender: indexed(address)
    value: uint256


# ERC-4626


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


# Redeem requests


event RedeemRequested:
    owner: indexed(address)
    # The shares and their value added by this request (the totals are in `redeem_request`).
    shares: uint256
    assets: uint256
    # When the whole request matures, at the cooldown in force now.
    unlocks_at: uint256


event RedeemSettled:
    owner: indexed(address)
    shares: uint256
    # Paid out to the receiver.
    assets: uint256
    # Value of the burnt shares at the current price minus what was paid: left to the stakers.
    forfeited: uint256
    remaining_shares: uint256
    remaining_assets: uint256


# Clearinghouse flows


event Revenue:
    amount: uint256
    total_assets: uint256


event Cover:
    requested: uint256
    paid: uint256
    total_assets: uint256


# Parameters and ownership


event CooldownUpdated:
    old_cooldown: uint256
    new_cooldown: uint256


event MaxCoverRatioUpdated:
    old_ratio: uint256
    new_ratio: uint256


event MinReserveUpdated:
    old_reserve: uint256
    new_reserve: uint256


event OwnershipTransferStarted:
    previous_owner: indexed(address)
    new_owner: indexed(address)


event OwnershipTransferred:
    previous_owner: indexed(address)
    new_owner: indexed(address)


struct RedeemRequest:
    shares: uint256
    assets: uint256
    requested_at: uint256


# Share decimals = asset decimals + DECIMALS_OFFSET; 10**DECIMALS_OFFSET virtual shares.
DECIMALS_OFFSET: public(constant(uint8)) = 6
VIRTUAL_SHARES: constant(uint256) = 10**6
VIRTUAL_ASSETS: constant(uint256) = 1

WAD: constant(uint256) = constants.WAD
MAX_COOLDOWN: public(constant(uint256)) = constants.MAX_COOLDOWN
DEFAULT_MAX_COVER_RATIO: constant(uint256) = 5 * 10**17
# Keeps every product of the conversions far below 2**256 for any realistic supply.
MAX_ASSET_DECIMALS: constant(uint8) = 18
# `min_reserve` can never be set below this: `cover` never empties the vault.
MIN_RESERVE_FLOOR: public(constant(uint256)) = constants.MIN_RESERVE_FLOOR

name: public(constant(String[18])) = "Clawback Insurance"
symbol: public(constant(String[5])) = "cbINS"
decimals: public(immutable(uint8))

asset: public(immutable(address))
clearinghouse: public(immutable(address))

totalSupply: public(uint256)
balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])

# The vault's own assets: deposits + revenue - cover - redemptions. Donations are not counted.
total_assets: uint256

# Seconds between a redeem request and the moment it can be redeemed.
cooldown: public(uint256)
# Largest share of the assets a single `cover` call may pay (1e18 = 100 %).
max_cover_ratio: public(uint256)
# `cover` never takes the assets below this (token base units).
min_reserve: public(uint256)

owner: public(address)
pending_owner: public(address)

_requests: HashMap[address, RedeemRequest]


@deploy
def __init__(asset_: address, clearinghouse_: address, cooldown_: uint256):
    """
    @notice Deploy the vault; the deployer becomes the owner.
    @param asset_ The collateral token (ERC-20 with `decimals`, at most 18).
    @param clearinghouse_ The only address allowed to call `notify_revenue` and `cover`.
    @param cooldown_ Seconds between `request_redeem` and redemption (at most 30 days).
    """
    assert asset_.is_contract, "vault: asset is not a contract"
    assert clearinghouse_ != empty(address), "vault: zero clearinghouse"
    assert cooldown_ <= MAX_COOLDOWN, "vault: cooldown too long"
    asset_decimals: uint8 = staticcall IERC20Detailed(asset_).decimals()
    assert asset_decimals <= MAX_ASSET_DECIMALS, "vault: asset decimals above 18"

    asset = asset_
    clearinghouse = clearinghouse_
    decimals = asset_decimals + DECIMALS_OFFSET

    reserve: uint256 = 10 ** convert(asset_decimals, uint256)
    self.cooldown = cooldown_
    self.max_cover_ratio = DEFAULT_MAX_COVER_RATIO
    self.min_reserve = reserve
    self.owner = msg.sender

    log OwnershipTransferred(previous_owner=empty(address), new_owner=msg.sender)
    log CooldownUpdated(old_cooldown=0, new_cooldown=cooldown_)
    log MaxCoverRatioUpdated(old_ratio=0, new_ratio=DEFAULT_MAX_COVER_RATIO)
    log MinReserveUpdated(old_reserve=0, new_reserve=reserve)


# ---------------------------------------------------------------------------------------------
# ERC-20
# ---------------------------------------------------------------------------------------------


@external
def transfer(receiver: address, amount: uint256) -> bool:
    """
    @notice Move `amount` shares from the caller to `receiver`. Shares locked by the caller's
            redeem request cannot be moved.
    @param receiver The recipient.
    @param amount The number of shares.
    @return True.
    """
    self._transfer(msg.sender, receiver, amount)
    return True


@external
def transferFrom(owner: address, receiver: address, amount: uint256) -> bool:
    """
    @notice Move `amount` of `owner`'s shares to `receiver` with the caller's allowance
            (an allowance of max_value(uint256) is never decreased). Locked shares cannot move.
    @param owner The holder of the shares.
    @param receiver The recipient.
    @param amount The number of shares.
    @return True.
    """
    self._spend_allowance(owner, msg.sender, amount)
    self._transfer(owner, receiver, amount)
    return True


@external
def approve(spender: address, amount: uint256) -> bool:
    """
    @notice Let `spender` move (or redeem) up to `amount` of the caller's shares.
    @param spender The approved address.
    @param amount The allowance, replacing the previous one.
    @return True.
    """
    assert spender != empty(address), "vault: approve to zero address"
    self.allowance[msg.sender][spender] = amount
    log Approval(owner=msg.sender, spender=spender, value=amount)
    return True


# ---------------------------------------------------------------------------------------------
# ERC-4626 views
# ---------------------------------------------------------------------------------------------


@external
@view
def totalAssets() -> uint256:
    """
    @notice The assets the vault accounts for (internal counter; donations excluded).
    @return Assets in token base units.
    """
    return self.total_assets


@external
@view
def convertToShares(assetAmount: uint256) -> uint256:
    """
    @notice Shares worth `assetAmount` at the current price, rounded down.
    @param assetAmount Assets in token base units.
    @return Shares.
    """
    return self._to_shares(assetAmount, False)


@external
@view
def convertToAssets(shareAmount: uint256) -> uint256:
    """
    @notice Assets worth `shareAmount` at the current price, rounded down.
    @param shareAmount Shares.
    @return Assets in token base units.
    """
    return self._to_assets(shareAmount, False)


@external
@view
def maxDeposit(owner: address) -> uint256:
    """
    @notice Deposits are not limited.
    @param owner The would-be receiver (ignored).
    @return max_value(uint256).
    """
    return max_value(uint256)


@external
@view
def previewDeposit(assets: uint256) -> uint256:
    """
    @notice Shares `deposit(assets)` would mint now (rounded down).
    @param assets Assets in token base units.
    @return Shares.
    """
    return self._to_shares(assets, False)


@external
@view
def maxMint(owner: address) -> uint256:
    """
    @notice Mints are not limited.
    @param owner The would-be receiver (ignored).
    @return max_value(uint256).
    """
    return max_value(uint256)


@external
@view
def previewMint(shares: uint256) -> uint256:
    """
    @notice Assets `mint(shares)` would pull now (rounded up).
    @param shares Shares.
    @return Assets in token base units.
    """
    return self._to_assets(shares, True)


@external
@view
def maxWithdraw(owner: address) -> uint256:
    """
    @notice Assets `owner` can withdraw now: 0 without a matured redeem request, otherwise the
            value of the whole request, min(value at request, value now).
    @param owner The holder of the shares.
    @return Assets in token base units.
    """
    req: RedeemRequest = self._requests[owner]
    if not self._is_matured(req):
        return 0
    return self._redeem_value(req.shares, req)


@external
@view
def previewWithdraw(assets: uint256) -> uint256:
    """
    @notice Shares that withdrawing `assets` burns at the current price (rounded up): the plain
            ERC-4626 conversion. An actual withdrawal may burn more, since a requested share
            redeems at min(value at request, value now), and needs a matured request.
    @param assets Assets in token base units.
    @return Shares.
    """
    return self._to_shares(assets, True)


@external
@view
def maxRedeem(owner: address) -> uint256:
    """
    @notice Shares `owner` can redeem now: 0 without a matured redeem request, otherwise all
            requested shares.
    @param owner The holder of the shares.
    @return Shares.
    """
    req: RedeemRequest = self._requests[owner]
    if not self._is_matured(req):
        return 0
    return req.shares


@external
@view
def previewRedeem(shares: uint256) -> uint256:
    """
    @notice Assets `shares` are worth at the current price (rounded down): the plain ERC-4626
            conversion. An actual redemption may pay less, since a requested share redeems at
            min(value at request, value now), and needs a matured request.
    @param shares Shares.
    @return Assets in token base units.
    """
    return self._to_assets(shares, False)


# ---------------------------------------------------------------------------------------------
# ERC-4626 actions
# ---------------------------------------------------------------------------------------------


@external
def deposit(assets: uint256, receiver: address) -> uint256:
    """
    @notice Pull `assets` tokens from the caller and mint shares to `receiver` (rounded down).
    @param assets Assets in token base units (needs the caller's token allowance).
    @param receiver Who gets the shares.
    @return The shares minted.
    """
    assert assets != 0, "vault: zero assets"
    assert receiver != empty(address), "vault: zero receiver"
    shares: uint256 = self._to_shares(assets, False)
    assert shares != 0, "vault: zero shares"
    self._deposit(receiver, assets, shares)
    return shares


@external
def mint(shares: uint256, receiver: address) -> uint256:
    """
    @notice Mint exactly `shares` to `receiver`, pulling their price (rounded up) from the caller.
    @param shares Shares to mint.
    @param receiver Who gets the shares.
    @return The assets pulled, in token base units.
    """
    assert shares != 0, "vault: zero shares"
    assert receiver != empty(address), "vault: zero receiver"
    assets: uint256 = self._to_assets(shares, True)
    self._deposit(receiver, assets, shares)
    return assets


@external
def withdraw(assets: uint256, receiver: address, owner: address) -> uint256:
    """
    @notice Pay exactly `assets` to `receiver` out of `owner`'s matured redeem request, burning
            the fewest requested shares whose value, min(value at request, value now), covers
            it (rounded up). A caller other than `owner` spends its share allowance.
    @param assets Assets in token base units.
    @param receiver Who gets the tokens.
    @param owner Whose requested shares are burnt.
    @return The shares burnt.
    """
    assert assets != 0, "vault: zero assets"
    assert receiver != empty(address), "vault: zero receiver"
    req: RedeemRequest = self._matured_request(owner)
    # Both terms round up, so the burnt shares are worth at least `assets` under both prices.
    assert req.assets != 0, "vault: exceeds requested shares"
    shares: uint256 = max(
        self._to_shares(assets, True), self._mul_div(assets, req.shares, req.assets, True)
    )
    assert shares <= req.shares, "vault: exceeds requested shares"
    self._settle(receiver, owner, shares, assets, req)
    return shares


@external
def redeem(shares: uint256, receiver: address, owner: address) -> uint256:
    """
    @notice Burn `shares` of `owner`'s matured redeem request and pay their value to
            `receiver`: min(value now, value at request pro rata), both rounded down. The
            difference stays in the vault. May pay 0 for dust, so dust requests can be cleared.
            A caller other than `owner` spends its share allowance.
    @param shares Requested shares to burn.
    @param receiver Who gets the tokens.
    @param owner Whose requested shares are burnt.
    @return The assets paid, in token base units.
    """
    assert shares != 0, "vault: zero shares"
    assert receiver != empty(address), "vault: zero receiver"
    req: RedeemRequest = self._matured_request(owner)
    assert shares <= req.shares, "vault: exceeds requested shares"
    assets: uint256 = self._redeem_value(shares, req)
    self._settle(receiver, owner, shares, assets, req)
    return assets


# ---------------------------------------------------------------------------------------------
# Redeem requests
# ---------------------------------------------------------------------------------------------


@external
def request_redeem(shares: uint256):
    """
    @notice Lock `shares` of the caller's unlocked shares for redemption after the cooldown.
            Their value now (rounded down) is recorded; they keep bearing losses but earn
            nothing more: they redeem at min(value at request, value now). A new request adds
            to the pending one and restarts the cooldown for the whole request. A request
            cannot be cancelled: cancelling would hand back the upside it forfeited.
    @param shares Shares to add to the caller's request.
    """
    assert shares != 0, "vault: zero shares"
    req: RedeemRequest = self._requests[msg.sender]
    assert self.balanceOf[msg.sender] - req.shares >= shares, "vault: insufficient unlocked shares"
    assets: uint256 = self._to_assets(shares, False)
    req.shares += shares
    req.assets += assets
    req.requested_at = block.timestamp
    self._requests[msg.sender] = req
    log RedeemRequested(
        owner=msg.sender, shares=shares, assets=assets, unlocks_at=block.timestamp + self.cooldown
    )


@external
@view
def redeem_request(owner: address) -> (uint256, uint256, uint256):
    """
    @notice The pending redeem request of `owner`. It matures at `requested_at + cooldown()`
            (the cooldown in force at that time).
    @param owner The holder of the shares.
    @return shares Requested (locked) shares, assets their value at request time (the cap on
            what they redeem for), requested_at the timestamp of the latest request (0: none).
    """
    req: RedeemRequest = self._requests[owner]
    return req.shares, req.assets, req.requested_at


# ---------------------------------------------------------------------------------------------
# Clearinghouse
# ---------------------------------------------------------------------------------------------


@external
def notify_revenue(amount: uint256):
    """
    @notice Account for `amount` tokens of revenue the Clearinghouse has just transferred in;
            raises the share price. A zero amount is a no-op, so a zero fee never blocks the
            Clearinghouse.
    @param amount Revenue in token base units.
    """
    assert msg.sender == clearinghouse, "vault: only clearinghouse"
    if amount == 0:
        return
    new_total: uint256 = self.total_assets + amount
    assert staticcall IERC20(asset).balanceOf(self) >= new_total, "vault: revenue not received"
    self.total_assets = new_total
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
    assert msg.sender == clearinghouse, "vault: only clearinghouse"
    total: uint256 = self.total_assets
    paid: uint256 = min(amount, total * self.max_cover_ratio // WAD)
    reserve: uint256 = self.min_reserve
    if total > reserve:
        paid = min(paid, total - reserve)
    else:
        paid = 0
    if paid != 0:
        total -= paid
        self.total_assets = total
        self._send(clearinghouse, paid)
    log Cover(requested=amount, paid=paid, total_assets=total)
    return paid


# ---------------------------------------------------------------------------------------------
# Owner
# ---------------------------------------------------------------------------------------------


@external
def set_cooldown(seconds: uint256):
    """
    @notice Set the redeem cooldown. It applies to pending requests too (they mature at
            requested_at + cooldown).
    @param seconds The new cooldown, at most 30 days.
    """
    self._only_owner()
    assert seconds <= MAX_COOLDOWN, "vault: cooldown too long"
    log CooldownUpdated(old_cooldown=self.cooldown, new_cooldown=seconds)
    self.cooldown = seconds


@external
def set_max_cover_ratio(ratio: uint256):
    """
    @notice Set the largest share of the assets one `cover` call may pay.
    @param ratio 1e18 = 100 %; 0 < ratio <= 1e18.
    """
    self._only_owner()
    assert ratio != 0, "vault: zero cover ratio"
    assert ratio <= WAD, "vault: cover ratio above 100%"
    log MaxCoverRatioUpdated(old_ratio=self.max_cover_ratio, new_ratio=ratio)
    self.max_cover_ratio = ratio


@external
def set_min_reserve(amount: uint256):
    """
    @notice Set the assets `cover` never touches.
    @param amount Token base units, at least 1 (a vault with shares never reaches 0 assets).
    """
    self._only_owner()
    assert amount >= MIN_RESERVE_FLOOR, "vault: reserve below floor"
    log MinReserveUpdated(old_reserve=self.min_reserve, new_reserve=amount)
    self.min_reserve = amount


@external
def transfer_ownership(new_owner: address):
    """
    @notice Start a two-step ownership transfer; `new_owner` must call `accept_ownership`.
            The zero address cancels a pending transfer.
    @param new_owner The proposed owner.
    """
    self._only_owner()
    self.pending_owner = new_owner
    log OwnershipTransferStarted(previous_owner=self.owner, new_owner=new_owner)


@external
def accept_ownership():
    """
    @notice Complete an ownership transfer; callable only by the pending owner.
    """
    assert msg.sender == self.pending_owner, "vault: only pending owner"
    log OwnershipTransferred(previous_owner=self.owner, new_owner=msg.sender)
    self.owner = msg.sender
    self.pending_owner = empty(address)


# ---------------------------------------------------------------------------------------------
# Internal
# ---------------------------------------------------------------------------------------------


@internal
@pure
def _mul_div(x: uint256, y: uint256, denominator: uint256, round_up: bool) -> uint256:
    # Checked arithmetic: an overflowing product reverts, it never wraps.
    product: uint256 = x * y
    result: uint256 = product // denominator
    if round_up and product % denominator != 0:
        result += 1
    return result


@internal
@view
def _to_shares(assets: uint256, round_up: bool) -> uint256:
    return self._mul_div(
        assets, self.totalSupply + VIRTUAL_SHARES, self.total_assets + VIRTUAL_ASSETS, round_up
    )


@internal
@view
def _to_assets(shares: uint256, round_up: bool) -> uint256:
    return self._mul_div(
        shares, self.total_assets + VIRTUAL_ASSETS, self.totalSupply + VIRTUAL_SHARES, round_up
    )


@internal
@view
def _is_matured(req: RedeemRequest) -> bool:
    return req.shares != 0 and block.timestamp >= req.requested_at + self.cooldown


@internal
@view
def _matured_request(owner: address) -> RedeemRequest:
    req: RedeemRequest = self._requests[owner]
    assert req.shares != 0, "vault: no redeem request"
    assert block.timestamp >= req.requested_at + self.cooldown, "vault: cooldown not over"
    return req


@internal
@view
def _redeem_value(shares: uint256, req: RedeemRequest) -> uint256:
    # min(value now, value at request pro rata), both rounded down; shares <= req.shares.
    return min(self._to_assets(shares, False), req.assets * shares // req.shares)


@internal
def _deposit(receiver: address, assets: uint256, shares: uint256):
    self.totalSupply += shares
    self.balanceOf[receiver] += shares
    new_total: uint256 = self.total_assets + assets
    self.total_assets = new_total
    assert extcall IERC20(asset).transferFrom(
        msg.sender, self, assets, default_return_value=True
    ), "vault: asset transfer failed"
    # Refuses fee-on-transfer behaviour: the counter must stay backed by the balance.
    assert staticcall IERC20(asset).balanceOf(self) >= new_total, "vault: asset transfer short"
    log Transfer(sender=empty(address), receiver=receiver, value=shares)
    log Deposit(sender=msg.sender, owner=receiver, assets=assets, shares=shares)


@internal
def _settle(receiver: address, owner: address, shares: uint256, assets: uint256, req: RedeemRequest):
    # Burn `shares` of `owner`'s matured request and pay `assets` (<= their value now).
    if msg.sender != owner:
        self._spend_allowance(owner, msg.sender, shares)

    # Shrink the request pro rata, rounding its assets down: the rest never gains.
    remaining: RedeemRequest = empty(RedeemRequest)
    if shares < req.shares:
        remaining.shares = req.shares - shares
        remaining.assets = req.assets * remaining.shares // req.shares
        remaining.requested_at = req.requested_at
    self._requests[owner] = remaining

    forfeited: uint256 = self._to_assets(shares, False) - assets
    self.balanceOf[owner] -= shares
    self.totalSupply -= shares
    self.total_assets -= assets
    if assets != 0:
        self._send(receiver, assets)

    log Transfer(sender=owner, receiver=empty(address), value=shares)
    log Withdraw(sender=msg.sender, receiver=receiver, owner=owner, assets=assets, shares=shares)
    log RedeemSettled(
        owner=owner,
        shares=shares,
        assets=assets,
        forfeited=forfeited,
        remaining_shares=remaining.shares,
        remaining_assets=remaining.assets,
    )


@internal
def _send(receiver: address, amount: uint256):
    assert extcall IERC20(asset).transfer(
        receiver, amount, default_return_value=True
    ), "vault: asset transfer failed"


@internal
def _transfer(sender: address, receiver: address, amount: uint256):
    assert receiver != empty(address), "vault: transfer to zero address"
    balance: uint256 = self.balanceOf[sender]
    assert balance >= amount, "vault: insufficient balance"
    assert balance - self._requests[sender].shares >= amount, "vault: shares locked by a redeem request"
    self.balanceOf[sender] = balance - amount
    self.balanceOf[receiver] += amount
    log Transfer(sender=sender, receiver=receiver, value=amount)


@internal
def _spend_allowance(owner: address, spender: address, amount: uint256):
    allowed: uint256 = self.allowance[owner][spender]
    if allowed != max_value(uint256):
        assert allowed >= amount, "vault: insufficient allowance"
        self.allowance[owner][spender] = allowed - amount


@internal
@view
def _only_owner():
    assert msg.sender == self.owner, "vault: only owner"
