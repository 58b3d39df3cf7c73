# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title ownable_2step
@notice Owner with a two-step transfer, plus a guardian who can pause new risk. The owner
        appoints the guardian. Pausing only ever stops exposure-increasing actions: free
        collateral can always be withdrawn and positions can always be closed or liquidated.
"""

event OwnershipTransferStarted:
    previous_owner: indexed(address)
    new_owner: indexed(address)


event OwnershipTransferred:
    previous_owner: indexed(address)
    new_owner: indexed(address)


event GuardianSet:
    previous_guardian: indexed(address)
    new_guardian: indexed(address)


event Paused:
    by: indexed(address)


event Unpaused:
    by: indexed(address)


owner: public(address)
pending_owner: public(address)
guardian: public(address)
paused: public(bool)


@deploy
def __init__():
    self.owner = msg.sender
    self.guardian = msg.sender
    log OwnershipTransferred(previous_owner=empty(address), new_owner=msg.sender)
    log GuardianSet(previous_guardian=empty(address), new_guardian=msg.sender)


@external
def transfer_ownership(new_owner: address):
    """
    @notice Start handing ownership to `new_owner`, who must call `accept_ownership`.
            Passing the zero address cancels a pending transfer.
    @param new_owner The proposed owner.
    """
    self._check_owner()
    self.pending_owner = new_owner
    log OwnershipTransferStarted(previous_owner=self.owner, new_owner=new_owner)


@external
def accept_ownership():
    """
    @notice Complete a two-step ownership transfer; only the pending owner can call it.
    """
    assert msg.sender == self.pending_owner, "ownable: caller is not the pending owner"
    previous: address = self.owner
    self.owner = msg.sender
    self.pending_owner = empty(address)
    log OwnershipTransferred(previous_owner=previous, new_owner=msg.sender)


@external
def set_guardian(new_guardian: address):
    """
    @notice Appoint the guardian who can pause and unpause trading.
    @param new_guardian The new guardian (non-zero).
    """
    self._check_owner()
    assert new_guardian != empty(address), "ownable: zero guardian"
    log GuardianSet(previous_guardian=self.guardian, new_guardian=new_guardian)
    self.guardian = new_guardian


@external
def pause():
    """
    @notice Stop new risk: fills that increase an account's exposure revert. Withdrawals of
            free collateral, closing fills and liquidations keep working.
    """
    self._check_guardian()
    assert not self.paused, "ownable: already paused"
    self.paused = True
    log Paused(by=msg.sender)


@external
def unpause():
    """
    @notice Resume normal trading.
    """
    self._check_guardian()
    assert self.paused, "ownable: not paused"
    self.paused = False
    log Unpaused(by=msg.sender)


@internal
@view
def _check_owner():
    assert msg.sender == self.owner, "ownable: caller is not the owner"


@internal
@view
def _check_guardian():
    assert msg.sender == self.guardian or msg.sender == self.owner, "ownable: caller is not the guardian"
