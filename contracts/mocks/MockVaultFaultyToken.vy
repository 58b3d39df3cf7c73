# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title MockVaultFaultyToken
@notice A misbehaving ERC-20 for the InsuranceVault tests only: it can burn a fixed fee out of
        every transfer (fee-on-transfer) or make transfers return False instead of reverting.
"""

from ethereum.ercs import IERC20

implements: IERC20


event Transfer:
    sender: indexed(address)
    receiver: indexed(address)
    value: uint256


event Approval:
    owner: indexed(address)
    spender: indexed(address)
    value: uint256


decimals: public(uint8)
totalSupply: public(uint256)
balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])
# Burnt from every transfer: the receiver gets `amount - fee`.
fee: public(uint256)
# When set, transfer/transferFrom move nothing and return False.
return_false: public(bool)


@deploy
def __init__(decimals_: uint8):
    """
    @param decimals_ The number of decimals.
    """
    self.decimals = decimals_


@external
def set_fee(fee: uint256):
    """
    @notice Set the fee burnt from every transfer.
    @param fee Token base units.
    """
    self.fee = fee


@external
def set_return_false(flag: bool):
    """
    @notice Make transfers return False (and move nothing).
    @param flag True to misbehave.
    """
    self.return_false = flag


@external
def mint(receiver: address, amount: uint256):
    """
    @notice Create `amount` tokens for `receiver` (open: test token).
    @param receiver Who gets the tokens.
    @param amount Token base units.
    """
    self.totalSupply += amount
    self.balanceOf[receiver] += amount
    log Transfer(sender=empty(address), receiver=receiver, value=amount)


@external
def transfer(receiver: address, amount: uint256) -> bool:
    """
    @notice Move tokens from the caller (minus the fee), or return False.
    @param receiver The recipient.
    @param amount Token base units.
    @return False when misbehaving, True otherwise.
    """
    if self.return_false:
        return False
    self._transfer(msg.sender, receiver, amount)
    return True


@external
def transferFrom(owner: address, receiver: address, amount: uint256) -> bool:
    """
    @notice Move tokens with an allowance (minus the fee), or return False.
    @param owner The holder.
    @param receiver The recipient.
    @param amount Token base units.
    @return False when misbehaving, True otherwise.
    """
    if self.return_false:
        return False
    self.allowance[owner][msg.sender] -= amount
    self._transfer(owner, receiver, amount)
    return True


@external
def approve(spender: address, amount: uint256) -> bool:
    """
    @notice Set an allowance.
    @param spender The approved address.
    @param amount Token base units.
    @return True.
    """
    self.allowance[msg.sender][spender] = amount
    log Approval(owner=msg.sender, spender=spender, value=amount)
    return True


@internal
def _transfer(sender: address, receiver: address, amount: uint256):
    fee: uint256 = min(self.fee, amount)
    self.balanceOf[sender] -= amount
    self.balanceOf[receiver] += amount - fee
    self.totalSupply -= fee
    log Transfer(sender=sender, receiver=receiver, value=amount - fee)
