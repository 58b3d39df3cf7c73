"""Deterministic agent keys derived from the run's seed, and EIP-712 order signing (coincurve)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import coincurve
from eth_abi import encode
from eth_utils import keccak, to_checksum_address

try:  # pysha3's keccak is ~8x faster than the pure eth-hash dispatch for small inputs
    from sha3 import keccak_256 as _k256

    def _keccak(data: bytes) -> bytes:
        return _k256(data).digest()
except ImportError:  # pragma: no cover
    _keccak = keccak

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
ORDER_TYPE = b"Order(address account,uint256 market,int256 size,uint256 limit_price,uint256 nonce,uint256 expiry)"
ORDER_TYPEHASH = keccak(ORDER_TYPE)
DOMAIN_TYPEHASH = keccak(b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")


@dataclass(frozen=True)
class Key:
    """A private key and its address."""

    private_key: bytes
    address: str

    @classmethod
    def from_private(cls, pk: bytes) -> "Key":
        pub = coincurve.PublicKey.from_secret(pk).format(compressed=False)[1:]
        return cls(pk, to_checksum_address(keccak(pub)[-20:]))


def derive_key(seed: int, index: int, label: str = "agent") -> Key:
    """Deterministic key number `index` for `seed` (never a funded mainnet key)."""
    counter = 0
    while True:
        pk = keccak(f"clawback-sim/{label}/{seed}/{index}/{counter}".encode())
        if 0 < int.from_bytes(pk, "big") < SECP256K1_N:
            return Key.from_private(pk)
        counter += 1  # pragma: no cover - astronomically unlikely


@dataclass(frozen=True)
class Order:
    """A maker order (DESIGN.md): size > 0 the maker buys, < 0 the maker sells."""

    account: str
    market: int
    size: int
    limit_price: int
    nonce: int
    expiry: int

    def as_tuple(self) -> tuple:
        return (self.account, self.market, self.size, self.limit_price, self.nonce, self.expiry)


def domain_separator(chain_id: int, verifying_contract: str) -> bytes:
    """EIP-712 domain separator: name "Clawback", version "1"."""
    return keccak(encode(["bytes32", "bytes32", "bytes32", "uint256", "address"],
                         [DOMAIN_TYPEHASH, keccak(b"Clawback"), keccak(b"1"), chain_id, verifying_contract]))


def _w(x: int) -> bytes:
    return x.to_bytes(32, "big", signed=x < 0)


def order_struct_hash(order: Order) -> bytes:
    """hashStruct(Order): every field is a static 32-byte word, packed by hand (hot path)."""
    return _keccak(ORDER_TYPEHASH + bytes(12) + bytes.fromhex(order.account[2:]) + _w(order.market)
                   + _w(order.size) + _w(order.limit_price) + _w(order.nonce) + _w(order.expiry))


def order_digest(order: Order, domain: bytes) -> bytes:
    """The digest the maker signs (and the Clearinghouse's `order_digest`)."""
    return _keccak(b"\x19\x01" + domain + order_struct_hash(order))


@lru_cache(maxsize=4096)
def _signer(private_key: bytes) -> coincurve.PrivateKey:
    return coincurve.PrivateKey(private_key)


def sign_digest(private_key: bytes, digest: bytes) -> bytes:
    """65-byte r||s||v signature, v in {27, 28}, low-s (libsecp256k1 always yields low-s)."""
    sig = _signer(private_key).sign_recoverable(digest, hasher=None)
    return sig[:64] + bytes([27 + sig[64]])


def recover(digest: bytes, signature: bytes) -> str:
    """Address that produced `signature` over `digest`."""
    sig = signature[:64] + bytes([signature[64] - 27])
    pub = coincurve.PublicKey.from_signature_and_message(sig, digest, hasher=None)
    return to_checksum_address(keccak(pub.format(compressed=False)[1:])[-20:])


def encode_trade_args(order: Order, signature: bytes, fill_size: int) -> bytes:
    """ABI encoding of trade(Order, bytes, uint256) arguments, by hand (hot path): the static
    struct inline, the offset of the bytes tail, the fill, then the padded signature."""
    tail = _w(len(signature)) + signature + bytes((-len(signature)) % 32)
    return (bytes(12) + bytes.fromhex(order.account[2:]) + _w(order.market) + _w(order.size)
            + _w(order.limit_price) + _w(order.nonce) + _w(order.expiry) + _w(8 * 32) + _w(fill_size) + tail)
