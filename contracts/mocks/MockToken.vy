# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title MockToken
@notice An ERC-20 with configurable decimals and an open `mint`, for tests and devnets only.
        Never deploy it to a network where the token is meant to have value.
"""

from ethereum.ercs import IERC20
from ethereum.ercs import IERC20Detailed

implements: IERC20
implements: IERC20Detailed


event Transfer:
    sender: indexed(address)
    receiver: indexed(address)
    value: uint256


event Approval:
    owner: indexed(address)
    spender: indexed(address)
    value: uint256


name: public(String[32])
symbol: public(String[8])
decimals: public(uint8)
totalSupply: public(uint256)
balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])


@deploy
def __init__(name_: String[32], symbol_: String[8], decimals_: uint8):
    """
    @param name_ The token name.
    @param symbol_ The token symbol.
    @param decimals_ The number of decimals (6 for a USDC-like token).
    """
    self.name = name_
    self.symbol = symbol_
    self.decimals = decimals_


@external
def transfer(receiver: address, amount: uint256) -> bool:
    """
    @notice Move `amount` tokens from the caller to `receiver`.
    """
    self._transfer(msg.sender, receiver, amount)
    return True


@external
def transferFrom(owner: address, receiver: address, amount: uint256) -> bool:
    """
    @notice Move `amount` tokens from `owner` to `receiver` using the caller's allowance.
    """
    allowed: uint256 = self.allowance[owner][msg.sender]
    if allowed != max_value(uint256):
        assert allowed >= amount, "token: insufficient allowance"
        self.allowance[owner][msg.sender] = allowed - amount
    self._transfer(owner, receiver, amount)
    return True


@external
def approve(spender: address, amount: uint256) -> bool:
    """
    @notice Let `spender` move up to `amount` of the caller's tokens.
    """
    self.allowance[msg.sender][spender] = amount
    log Approval(owner=msg.sender, spender=spender, value=amount)
    return True


@external
def mint(receiver: address, amount: uint256):
    """
    @notice Create `amount` new tokens for `receiver`. Open to anyone: test token only.
    """
    assert receiver != empty(address), "token: mint to zero address"
    self.totalSupply += amount
    self.balanceOf[receiver] += amount
    log Transfer(sender=empty(address), receiver=receiver, value=amount)


@internal
def _transfer(sender: address, receiver: address, amount: uint256):
    assert receiver != empty(address), "token: transfer to zero address"
    balance: uint256 = self.balanceOf[sender]
    assert balance >= amount, "token: insufficient balance"
    self.balanceOf[sender] = balance - amount
    self.balanceOf[receiver] += amount
    log Transfer(sender=sender, receiver=receiver, value=amount)
