"""Protocol verbs for the unit tests: fund an account, move a feed, sign and fill orders, steer
the chain clock. The expected numbers come from tests/support/model.py."""
from __future__ import annotations

from support.model import FEED_DECIMALS, FEED_UNIT
from support.orders import Order, order_digest, sign_digest


def fund(protocol, account, amount: int, deposit: bool = True) -> int:
    """Mint `amount` token base units to `account`, approve the Clearinghouse, deposit."""
    protocol.token.mint(account, amount, sender=account)
    protocol.token.approve(protocol.clearinghouse, 2**256 - 1, sender=account)
    if deposit:
        protocol.clearinghouse.deposit(amount, sender=account)
    return amount


def set_feed(protocol, price: int, market: int = 0, updated_at: int | None = None):
    """Set a market's 8-decimal feed to `price` (1e18 scale, must be representable)."""
    assert price % 10 ** (18 - FEED_DECIMALS) == 0
    answer = price // 10 ** (18 - FEED_DECIMALS)
    feed = protocol.feeds[market]
    if updated_at is None:
        return feed.set_answer(answer, sender=protocol.owner)
    return feed.set_answer_at(answer, updated_at, sender=protocol.owner)


def set_price(protocol, price_wad: int, market: int = 0):
    """Publish an exact 1e18 price on an 8-decimal feed."""
    assert price_wad % FEED_UNIT == 0
    protocol.feeds[market].set_answer(price_wad // FEED_UNIT, sender=protocol.owner)


def quote(protocol, maker, size: int, price: int, market: int = 0, nonce=None, expiry=None):
    """A signed maker order: (Order, signature)."""
    order = protocol.order(maker, size, price, market=market, nonce=nonce, expiry=expiry)
    return order, protocol.sign(maker, order)


def fill(protocol, taker, maker, size: int, price: int, fill_size: int | None = None, market: int = 0):
    """The maker signs `size` (its side) at `price`; the taker fills `fill_size` (all by default)."""
    order, signature = quote(protocol, maker, size, price, market=market)
    amount = abs(size) if fill_size is None else fill_size
    return protocol.clearinghouse.trade(order.as_tuple(), signature, amount, sender=taker)


def digest_of(protocol, order: Order) -> bytes:
    return order_digest(order, protocol.chain.chain_id, protocol.clearinghouse.address)


def sign_for(account, order: Order, chain_id: int, verifying_contract: str) -> bytes:
    return sign_digest(account.private_key, order_digest(order, chain_id, verifying_contract))


def block_time(chain, receipt) -> int:
    return chain.blocks[receipt.block_number].timestamp


def mine_at(chain, timestamp: int):
    """Mine a block at `timestamp`; views then read the chain at that time."""
    chain.mine(timestamp=timestamp)
    assert chain.blocks.head.timestamp == timestamp


def next_tx_at(chain, timestamp: int):
    """The next transaction is mined at `timestamp`."""
    chain.pending_timestamp = timestamp


def events(contract_event, receipt) -> list:
    return list(contract_event.from_receipt(receipt))
