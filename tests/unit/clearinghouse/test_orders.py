"""Signed maker orders: the EIP-712 digest against tests/support/orders.py's independent
computation, strict signature recovery, expiry, fill tracking, cancellation and replay."""
import ape
import pytest

from support.orders import SECP256K1_N, Order, domain_separator, malleable_twin, order_digest

from support.drivers import digest_of, events, fund, next_tx_at, quote, sign_for
from support.model import PRICE, WAD

UNIT = 10**6
SIZE = WAD // 10


@pytest.fixture(scope="module")
def ch(protocol):
    return protocol.clearinghouse


@pytest.fixture(scope="module")
def funded(protocol, trader, maker, other):
    for account in (trader, maker, other):
        fund(protocol, account, 100_000 * UNIT)
    return protocol


def _split(signature: bytes):
    return signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]


# ---------------------------------------------------------------- digest


@pytest.mark.parametrize(
    "size, limit_price, nonce, expiry",
    [
        (SIZE, PRICE, 1, 2**40),
        (-SIZE, PRICE + 1, 0, 0),
        (-(2**255), 2**256 - 1, 2**256 - 1, 2**256 - 1),
        (2**255 - 1, 1, 7, 123),
    ],
)
def test_order_digest_matches_independent_eip712(protocol, ch, chain, maker, size, limit_price, nonce, expiry):
    order = Order(maker.address, 0, size, limit_price, nonce, expiry)
    expected = order_digest(order, chain.chain_id, ch.address)
    assert ch.order_digest(order.as_tuple()) == expected


def test_domain_separator_matches_independent_eip712(ch, chain):
    assert ch.domain_separator() == domain_separator(chain.chain_id, ch.address)


def test_every_order_field_changes_the_digest(ch, maker, other):
    base = Order(maker.address, 0, SIZE, PRICE, 1, 10**10)
    variants = [
        Order(other.address, 0, SIZE, PRICE, 1, 10**10),
        Order(maker.address, 1, SIZE, PRICE, 1, 10**10),
        Order(maker.address, 0, -SIZE, PRICE, 1, 10**10),
        Order(maker.address, 0, SIZE, PRICE + 1, 1, 10**10),
        Order(maker.address, 0, SIZE, PRICE, 2, 10**10),
        Order(maker.address, 0, SIZE, PRICE, 1, 10**10 + 1),
    ]
    digests = {ch.order_digest(o.as_tuple()) for o in [base] + variants}
    assert len(digests) == len(variants) + 1


def test_digest_is_bound_to_the_verifying_contract(protocol_builder, protocol, chain, maker):
    second = protocol_builder(with_vault=False).clearinghouse
    order = Order(maker.address, 0, SIZE, PRICE, 1, 10**10)
    assert second.order_digest(order.as_tuple()) == order_digest(order, chain.chain_id, second.address)
    assert second.order_digest(order.as_tuple()) != protocol.clearinghouse.order_digest(order.as_tuple())


# ---------------------------------------------------------------- happy path


def test_valid_signature_fills_and_logs(funded, ch, trader, maker):
    order, signature = quote(funded, maker, SIZE, PRICE)
    digest = digest_of(funded, order)
    receipt = ch.trade(order.as_tuple(), signature, SIZE, sender=trader)
    logged = events(ch.Trade, receipt)
    assert len(logged) == 1
    assert logged[0].digest == digest
    assert logged[0].maker == maker.address
    assert logged[0].taker == trader.address
    assert logged[0].market == 0
    assert logged[0].maker_size == SIZE
    assert logged[0].price == PRICE
    assert ch.filled(digest) == SIZE
    assert ch.position_size(maker, 0) == SIZE
    assert ch.position_size(trader, 0) == -SIZE


def test_sell_order_gives_maker_the_short_side(funded, ch, trader, maker):
    order, signature = quote(funded, maker, -SIZE, PRICE)
    receipt = ch.trade(order.as_tuple(), signature, SIZE // 2, sender=trader)
    assert events(ch.Trade, receipt)[0].maker_size == -(SIZE // 2)
    assert ch.position_size(maker, 0) == -(SIZE // 2)
    assert ch.position_size(trader, 0) == SIZE // 2


# ---------------------------------------------------------------- signature checks


def test_wrong_signer_reverts(funded, ch, trader, maker, other):
    order, _ = quote(funded, maker, SIZE, PRICE)
    forged = funded.sign(other, order)  # other signs maker's order
    with ape.reverts("trade: signer is not the order account"):
        ch.trade(order.as_tuple(), forged, SIZE, sender=trader)


def test_signature_of_a_different_order_reverts(funded, ch, trader, maker):
    order, _ = quote(funded, maker, SIZE, PRICE)
    _, other_signature = quote(funded, maker, SIZE, PRICE)  # another nonce
    with ape.reverts("trade: signer is not the order account"):
        ch.trade(order.as_tuple(), other_signature, SIZE, sender=trader)


def test_tampered_order_does_not_verify(funded, ch, trader, maker):
    order, signature = quote(funded, maker, SIZE, PRICE)
    worse = Order(order.account, order.market, order.size, order.limit_price + WAD, order.nonce, order.expiry)
    with ape.reverts("trade: signer is not the order account"):
        ch.trade(worse.as_tuple(), signature, SIZE, sender=trader)


def test_malleable_high_s_twin_reverts(funded, ch, trader, maker):
    order, signature = quote(funded, maker, SIZE, PRICE)
    twin = malleable_twin(signature)
    assert twin != signature
    with ape.reverts("order: malleable signature"):
        ch.trade(order.as_tuple(), twin, SIZE, sender=trader)
    # the canonical signature still works
    ch.trade(order.as_tuple(), signature, SIZE, sender=trader)


def test_zero_s_reverts(funded, ch, trader, maker):
    order, signature = quote(funded, maker, SIZE, PRICE)
    r, _, v = _split(signature)
    with ape.reverts("order: malleable signature"):
        ch.trade(order.as_tuple(), r + bytes(32) + bytes([v]), SIZE, sender=trader)


def test_s_just_above_half_order_reverts(funded, ch, trader, maker):
    order, signature = quote(funded, maker, SIZE, PRICE)
    r, _, v = _split(signature)
    s = SECP256K1_N // 2 + 1
    with ape.reverts("order: malleable signature"):
        ch.trade(order.as_tuple(), r + s.to_bytes(32, "big") + bytes([v]), SIZE, sender=trader)


@pytest.mark.parametrize("v", [0, 1, 26, 29, 255])
def test_bad_v_reverts(funded, ch, trader, maker, v):
    order, signature = quote(funded, maker, SIZE, PRICE)
    with ape.reverts("order: invalid signature v"):
        ch.trade(order.as_tuple(), signature[:64] + bytes([v]), SIZE, sender=trader)


def test_flipped_v_recovers_someone_else(funded, ch, trader, maker):
    order, signature = quote(funded, maker, SIZE, PRICE)
    flipped = signature[:64] + bytes([55 - signature[64]])
    with ape.reverts("trade: signer is not the order account"):
        ch.trade(order.as_tuple(), flipped, SIZE, sender=trader)


def test_unrecoverable_signature_reverts(funded, ch, trader, maker):
    order, signature = quote(funded, maker, SIZE, PRICE)
    _, s, v = _split(signature)
    # r = 0 is not a point on the curve: ecrecover returns the zero address
    with ape.reverts("order: invalid signature"):
        ch.trade(order.as_tuple(), bytes(32) + s.to_bytes(32, "big") + bytes([v]), SIZE, sender=trader)


@pytest.mark.parametrize("length", [0, 1, 64])
def test_signature_of_wrong_length_reverts(funded, ch, trader, maker, length):
    order, signature = quote(funded, maker, SIZE, PRICE)
    with ape.reverts("order: signature must be 65 bytes"):
        ch.trade(order.as_tuple(), signature[:length], SIZE, sender=trader)


def test_chain_id_replay_does_not_verify(funded, ch, chain, trader, maker):
    order, _ = quote(funded, maker, SIZE, PRICE)
    foreign = sign_for(maker, order, chain.chain_id + 1, ch.address)
    with ape.reverts("trade: signer is not the order account"):
        ch.trade(order.as_tuple(), foreign, SIZE, sender=trader)


def test_signature_for_another_clearinghouse_does_not_verify(funded, ch, chain, trader, maker, protocol_builder):
    second = protocol_builder(with_vault=False).clearinghouse
    order, _ = quote(funded, maker, SIZE, PRICE)
    foreign = sign_for(maker, order, chain.chain_id, second.address)
    with ape.reverts("trade: signer is not the order account"):
        ch.trade(order.as_tuple(), foreign, SIZE, sender=trader)


# ---------------------------------------------------------------- order checks


def test_maker_cannot_be_the_taker(funded, ch, maker):
    order, signature = quote(funded, maker, SIZE, PRICE)
    with ape.reverts("trade: maker is the taker"):
        ch.trade(order.as_tuple(), signature, SIZE, sender=maker)


def test_zero_fill_size_reverts(funded, ch, trader, maker):
    order, signature = quote(funded, maker, SIZE, PRICE)
    with ape.reverts("trade: zero fill size"):
        ch.trade(order.as_tuple(), signature, 0, sender=trader)


def test_zero_order_size_reverts(funded, ch, trader, maker):
    order, signature = quote(funded, maker, 0, PRICE)
    with ape.reverts("trade: zero order size"):
        ch.trade(order.as_tuple(), signature, 1, sender=trader)


def test_unknown_market_reverts(funded, ch, trader, maker):
    order, signature = quote(funded, maker, SIZE, PRICE, market=1)
    with ape.reverts("registry: unknown market"):
        ch.trade(order.as_tuple(), signature, SIZE, sender=trader)


def test_expiry_is_inclusive(funded, ch, chain, trader, maker):
    expiry = chain.blocks.head.timestamp + 100
    order, signature = quote(funded, maker, SIZE, PRICE, expiry=expiry)
    next_tx_at(chain, expiry)
    ch.trade(order.as_tuple(), signature, SIZE, sender=trader)
    assert ch.filled(digest_of(funded, order)) == SIZE


def test_expired_order_reverts(funded, ch, chain, trader, maker):
    expiry = chain.blocks.head.timestamp + 100
    order, signature = quote(funded, maker, SIZE, PRICE, expiry=expiry)
    next_tx_at(chain, expiry + 1)
    with ape.reverts("trade: order expired"):
        ch.trade(order.as_tuple(), signature, SIZE, sender=trader)


def test_over_fill_reverts(funded, ch, trader, maker):
    order, signature = quote(funded, maker, SIZE, PRICE)
    with ape.reverts("trade: fill exceeds order size"):
        ch.trade(order.as_tuple(), signature, SIZE + 1, sender=trader)


def test_partial_fills_add_up_to_the_order_size(funded, ch, trader, maker, other):
    order, signature = quote(funded, maker, -SIZE, PRICE)
    digest = digest_of(funded, order)
    first, second = SIZE // 3, SIZE // 3 + 7
    ch.trade(order.as_tuple(), signature, first, sender=trader)
    assert ch.filled(digest) == first
    ch.trade(order.as_tuple(), signature, second, sender=other)  # any taker may fill the rest
    assert ch.filled(digest) == first + second
    rest = SIZE - first - second
    with ape.reverts("trade: fill exceeds order size"):
        ch.trade(order.as_tuple(), signature, rest + 1, sender=trader)
    ch.trade(order.as_tuple(), signature, rest, sender=trader)
    assert ch.filled(digest) == SIZE
    assert ch.position_size(maker, 0) == -SIZE
    assert ch.position_size(trader, 0) == first + rest
    assert ch.position_size(other, 0) == second
    # a fully filled order cannot be replayed, not even for one wei
    with ape.reverts("trade: fill exceeds order size"):
        ch.trade(order.as_tuple(), signature, 1, sender=trader)


def test_filled_is_zero_for_unknown_digest(ch):
    assert ch.filled(b"\x11" * 32) == 0


# ---------------------------------------------------------------- cancel


def test_cancel_logs_and_blocks_the_order(funded, ch, trader, maker):
    order, signature = quote(funded, maker, SIZE, PRICE)
    digest = digest_of(funded, order)
    receipt = ch.cancel(order.as_tuple(), sender=maker)
    logged = events(ch.OrderCancelled, receipt)
    assert len(logged) == 1
    assert (logged[0].digest, logged[0].account) == (digest, maker.address)
    assert ch.cancelled(digest) is True
    with ape.reverts("trade: order cancelled"):
        ch.trade(order.as_tuple(), signature, SIZE, sender=trader)


def test_cancel_after_partial_fill_blocks_the_rest(funded, ch, trader, maker):
    order, signature = quote(funded, maker, SIZE, PRICE)
    ch.trade(order.as_tuple(), signature, SIZE // 4, sender=trader)
    ch.cancel(order.as_tuple(), sender=maker)
    with ape.reverts("trade: order cancelled"):
        ch.trade(order.as_tuple(), signature, 1, sender=trader)
    assert ch.filled(digest_of(funded, order)) == SIZE // 4
    assert ch.position_size(maker, 0) == SIZE // 4


def test_cancel_only_by_the_order_account(funded, ch, trader, maker, attacker):
    order, signature = quote(funded, maker, SIZE, PRICE)
    with ape.reverts("cancel: caller is not the order account"):
        ch.cancel(order.as_tuple(), sender=attacker)
    with ape.reverts("cancel: caller is not the order account"):
        ch.cancel(order.as_tuple(), sender=trader)
    assert ch.cancelled(digest_of(funded, order)) is False
    ch.trade(order.as_tuple(), signature, SIZE, sender=trader)


def test_cancel_twice_reverts(funded, ch, maker):
    order, _ = quote(funded, maker, SIZE, PRICE)
    ch.cancel(order.as_tuple(), sender=maker)
    with ape.reverts("cancel: already cancelled"):
        ch.cancel(order.as_tuple(), sender=maker)


def test_cancel_only_affects_that_order(funded, ch, trader, maker):
    cancelled, _ = quote(funded, maker, SIZE, PRICE)
    kept, signature = quote(funded, maker, SIZE, PRICE)
    ch.cancel(cancelled.as_tuple(), sender=maker)
    assert ch.cancelled(digest_of(funded, kept)) is False
    ch.trade(kept.as_tuple(), signature, SIZE, sender=trader)
    assert ch.position_size(maker, 0) == SIZE
