# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title eip712_orders
@notice The signed maker order, its EIP-712 digest and strict signature recovery.
@dev The domain separator is recomputed from `chain.id` on every use, so a signature made for
     one chain (or for the chain before a fork) never verifies on another.
"""

struct Order:
    account: address
    market: uint256
    size: int256
    limit_price: uint256
    nonce: uint256
    expiry: uint256


DOMAIN_TYPEHASH: constant(bytes32) = keccak256(
    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)
ORDER_TYPEHASH: constant(bytes32) = keccak256(
    "Order(address account,uint256 market,int256 size,uint256 limit_price,uint256 nonce,uint256 expiry)"
)
NAME_HASH: constant(bytes32) = keccak256("Clawback")
VERSION_HASH: constant(bytes32) = keccak256("1")
# Upper bound of the lower half of secp256k1's order: a signature with a higher `s` is the
# malleable twin of a valid one and is rejected (EIP-2).
SECP256K1_HALF_N: constant(uint256) = 57896044618658097711785492504343953926418782139537452191302581570759080747168  # 0x7FFF...20A0


@internal
@view
def _domain_separator() -> bytes32:
    return keccak256(abi_encode(DOMAIN_TYPEHASH, NAME_HASH, VERSION_HASH, chain.id, self))


@internal
@view
def _digest(order: Order) -> bytes32:
    struct_hash: bytes32 = keccak256(
        abi_encode(
            ORDER_TYPEHASH,
            order.account,
            order.market,
            order.size,
            order.limit_price,
            order.nonce,
            order.expiry,
        )
    )
    return keccak256(concat(b"\x19\x01", self._domain_separator(), struct_hash))


@internal
@pure
def _recover(digest: bytes32, signature: Bytes[65]) -> address:
    """
    @dev Strict recovery: 65 bytes r || s || v, v in {27, 28}, s in the lower half order.
    """
    assert len(signature) == 65, "order: signature must be 65 bytes"
    r: uint256 = extract32(signature, 0, output_type=uint256)
    s: uint256 = extract32(signature, 32, output_type=uint256)
    v: uint256 = convert(slice(signature, 64, 1), uint256)
    assert v == 27 or v == 28, "order: invalid signature v"
    assert s != 0 and s <= SECP256K1_HALF_N, "order: malleable signature"
    signer: address = ecrecover(digest, v, r, s)
    assert signer != empty(address), "order: invalid signature"
    return signer
